import Synchronization
import WardenAudit
import WardenCompiler
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Fires the policy's schedule triggers: once a minute it asks the authorizer, for every
/// `on schedule` trigger, whether the trigger fires at that minute (the same decision
/// `warden test` checks, daylight saving time rules included); a firing is recorded
/// (`trigger.allow`, or `trigger.refuse` when a budget is spent) and queued.
///
/// Minutes that pass while the server is not running are not made up. Minutes skipped by a
/// late wake-up (a suspended machine, a stalled thread) are, up to `catchUpMinutes` back.
public final class ScheduleTicker: Sendable {
    static let catchUpMinutes: Int64 = 60

    private let policy: @Sendable () -> ServePolicy
    private let store: ServeStore
    private let recorder: DecisionRecorder
    private let decisionLock: DecisionLock
    private let wake: @Sendable () -> Void
    private let report: @Sendable (String) -> Void
    private let stoppedIdentities: @Sendable () -> Set<String>
    private let stopping = Atomic<Bool>(false)
    private let lastMinute = Mutex<Int64?>(nil)
    private let thread = Mutex<ThreadHandle?>(nil)

    init(policy: @escaping @Sendable () -> ServePolicy, store: ServeStore, recorder: DecisionRecorder, decisionLock: DecisionLock,
         wake: @escaping @Sendable () -> Void, report: @escaping @Sendable (String) -> Void,
         stoppedIdentities: @escaping @Sendable () -> Set<String> = { [] }) {
        self.stoppedIdentities = stoppedIdentities
        self.policy = policy
        self.store = store
        self.recorder = recorder
        self.decisionLock = decisionLock
        self.wake = wake
        self.report = report
    }

    public func start() {
        lastMinute.withLock { $0 = ServeClock.milliseconds() / 60_000 }
        let handle = ThreadHandle { [self] in loop() }
        thread.withLock { $0 = handle }
    }

    public func stopAndJoin() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        thread.withLock { t in defer { t = nil }; return t }?.join()
    }

    private func loop() {
        while !stopping.load(ordering: .sequentiallyConsistent) {
            let now = ServeClock.milliseconds()
            let minute = now / 60_000
            let last = lastMinute.withLock { $0 } ?? minute
            if minute > last {
                for m in max(last + 1, minute - Self.catchUpMinutes + 1)...minute { fire(minute: m) }
                lastMinute.withLock { $0 = minute }
            }
            // Sleep to just after the next minute starts, a second at most (a stop is quick).
            let untilNext = 60_000 - ServeClock.milliseconds() % 60_000 + 50
            usleep(UInt32(min(1000, untilNext)) * 1000)
        }
    }

    /// Decides every schedule trigger at `minute` (minutes since the epoch, UTC).
    func fire(minute: Int64) {
        let policy = policy()
        let schedules = policy.triggers.filter { $0.source == .schedule }
        guard !schedules.isEmpty, let time = Self.time(minute: minute) else { return }
        for trigger in schedules {
            decisionLock.run { decide(trigger, at: time, policy: policy) }
        }
    }

    private func decide(_ trigger: CheckedTrigger, at time: TriggerTime, policy: ServePolicy) {
        let now = ServeClock.milliseconds()
        let usage = BudgetUsage(store: store, triggers: [trigger], now: now)
        let decided = TriggerAuthorizer(triggers: [trigger]).decide(.schedule(trigger.name, at: time), usage: usage.of)
        // Not this minute: no event, nothing to record.
        if !decided.allowed, decided.refusals.allSatisfy({ $0.clause == "on" }) { return }
        let decision = decided.holding(stoppedIdentities())
        let id = AuditRun.newRunID()
        var fields: [String: AuditValue] = ["source": "schedule", "trigger": .string(trigger.name), "time": .string(time.text),
                                            "reason": .string(decision.reason), "policy_path": .string(policy.path)]
        if trigger.fleet != nil {
            let document: [String: AuditValue] = ["source": "schedule", "trigger": .string(trigger.name), "time": .string(time.text)]
            switch FleetFiring(store: store, recorder: recorder).fire(trigger, decision: decision, decisionID: id, fields: fields,
                                                                      document: document, source: "schedule", now: now) {
            case .queued: wake()
            case .refused: break
            case .failed(let why): report("warden serve: schedule \(trigger.name) at \(time.text) (a fleet) not started: \(why)")
            }
            return
        }
        if decision.allowed { fields["identity"] = .string(trigger.identity) }
        do {
            try recorder.record(allowed: decision.allowed, id: id, fields: fields)
        } catch {
            report("warden serve: schedule \(trigger.name) at \(time.text) not started: the audit trail cannot take its decision: \(error)")
            return
        }
        guard decision.allowed else { return }
        let document = AuditValue.object(["source": "schedule", "trigger": .string(trigger.name), "time": .string(time.text)])
        do {
            _ = try store.enqueue(NewRun(trigger: trigger.name, identity: trigger.identity, source: "schedule", repository: nil,
                                         deliveryID: nil, decision: id, commit: nil, cloneURL: nil,
                                         eventDocument: Array(document.jsonText.utf8), enqueuedAt: now))
            wake()
        } catch {
            report("warden serve: schedule \(trigger.name) at \(time.text) allowed but not queued: \(error)")
        }
    }

    /// The UTC minute as a trigger time (`YYYY-MM-DDTHH:MMZ`).
    static func time(minute: Int64) -> TriggerTime? {
        let days = Int(minute / 1440), inDay = Int(minute % 1440)
        let d = CivilDate.date(days: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return TriggerTime.parse("\(d.year)-\(two(d.month))-\(two(d.day))T\(two(inDay / 60)):\(two(inDay % 60))Z")
    }
}
