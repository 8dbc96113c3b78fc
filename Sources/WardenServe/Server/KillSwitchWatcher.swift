import Dispatch
import Synchronization
import WardenAudit
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Acts on the operator's switches (`KillSwitch`) once a second: when an identity's switch is
/// set, its running runs are stopped (`stop`, which returns the queue ids it stopped), and
/// every change — an identity's switch set or cleared, the pause set or cleared (`*`) — is
/// recorded as `serve.kill_switch` (`identity`, `state` on/off, `stopped`), durably.
/// Identities whose switch is set when the server starts are recorded (and their runs, none
/// yet, stopped) on the first look.
public final class KillSwitchWatcher: Sendable {
    let killSwitch: KillSwitch
    let recorder: DecisionRecorder
    let stop: @Sendable (String) -> [Int64]
    let report: @Sendable (String) -> Void
    private let last = Mutex<(paused: Bool, stopped: Set<String>)>((false, []))
    private let stopping = Atomic<Bool>(false)
    private let wakeups = DispatchSemaphore(value: 0)
    private let thread = Mutex<ThreadHandle?>(nil)

    public init(killSwitch: KillSwitch, recorder: DecisionRecorder, report: @escaping @Sendable (String) -> Void,
                stop: @escaping @Sendable (String) -> [Int64]) {
        self.killSwitch = killSwitch
        self.recorder = recorder
        self.report = report
        self.stop = stop
    }

    /// The identities stopped as of the last look.
    public var stoppedIdentities: Set<String> { last.withLock { $0.stopped } }

    public func start() {
        let handle = ThreadHandle { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                look()
                _ = wakeups.wait(timeout: .now() + .seconds(1))
            }
        }
        thread.withLock { $0 = handle }
    }

    public func stopAndJoin() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeups.signal()
        thread.withLock { t in t?.join(); t = nil }
    }

    /// One look: acts on and records what changed since the last.
    public func look() {
        let paused = killSwitch.paused
        let stopped = killSwitch.stoppedIdentities()
        let before = last.withLock { l in defer { l = (paused, stopped) }; return l }
        if paused != before.paused { record("*", on: paused, stopped: []) }
        for identity in stopped.subtracting(before.stopped).sorted() {
            record(identity, on: true, stopped: stop(identity))
        }
        for identity in before.stopped.subtracting(stopped).sorted() { record(identity, on: false, stopped: []) }
        // A run of a stopped identity that was claimed just before the switch was seen.
        for identity in stopped.intersection(before.stopped).sorted() {
            let late = stop(identity)
            if !late.isEmpty { record(identity, on: true, stopped: late) }
        }
    }

    private func record(_ identity: String, on: Bool, stopped: [Int64]) {
        let fields: [String: AuditValue] = ["identity": .string(identity), "state": .string(on ? "on" : "off"),
                                            "stopped": .array(stopped.map { .int($0) })]
        do {
            try recorder.log(AuditEvent(kind: AuditKind.serveKillSwitch, fields: fields), id: AuditRun.newRunID())
        } catch {
            report("warden serve: cannot record the kill switch for \(identity) (\(on ? "on" : "off")): \(error.description)")
        }
        let what = identity == "*" ? "launching is \(on ? "paused" : "resumed")"
            : "identity \(identity) is \(on ? "stopped" : "released")"
        report("warden serve: \(what)" + (stopped.isEmpty ? "" : "; runs stopped: " + stopped.map(String.init).joined(separator: ", ")))
    }
}
