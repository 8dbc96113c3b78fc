import Dispatch
import Synchronization
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// What came of one launch (the executable's launcher fills it in).
public struct LaunchOutcome: Sendable, Equatable {
    /// `warden run`'s run id, when it got as far as `run.start`.
    public var runID: String?
    /// Its exit status (128+N when killed by signal N); nil when it never started.
    public var exitCode: Int32?
    /// Why it failed before or around the run (workspace, spawn), if it did.
    public var error: String?
    /// The prepared workspace, kept for review.
    public var workspace: String?
    /// The server stopped it (shutdown): recorded as interrupted, not as finished.
    public var interrupted = false
    /// Denials the run recorded (fleet runs).
    public var denials: Int64?
    /// What the run changed in its workspace, as JSON (fleet runs; `FleetChanges.json`).
    public var changes: String?

    public init(runID: String? = nil, exitCode: Int32? = nil, error: String? = nil, workspace: String? = nil, interrupted: Bool = false) {
        self.runID = runID
        self.exitCode = exitCode
        self.error = error
        self.workspace = workspace
        self.interrupted = interrupted
    }

    /// The queue state this outcome ends in.
    var state: RunState {
        if interrupted { return .interrupted }
        if exitCode == nil { return .failed }
        return .finished
    }
}

/// Starts queued runs as the limits allow: `limits.host` threads, each claiming the oldest
/// run the limits let start (`ServeStore.claim`), launching it and recording the outcome.
/// While the pause file exists nothing new starts (the kill switch; queued runs wait).
public final class RunWorkers: Sendable {
    public typealias Launch = @Sendable (QueuedRun) -> LaunchOutcome

    private let store: ServeStore
    private let limits: ConcurrencyLimits
    private let triggerConcurrency: @Sendable () -> [String: Int]
    private let launch: Launch
    private let pausePath: String?
    /// Identities whose runs must not start (the kill switch: `KillSwitch.stoppedIdentities`).
    private let stoppedIdentities: @Sendable () -> Set<String>
    private let wakeups = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let threads = Mutex<[ThreadHandle]>([])
    /// Called with a message the operator should see (a store failure).
    private let report: @Sendable (String) -> Void

    public init(store: ServeStore, limits: ConcurrencyLimits, pausePath: String?,
                stoppedIdentities: @escaping @Sendable () -> Set<String> = { [] },
                triggerConcurrency: @escaping @Sendable () -> [String: Int],
                report: @escaping @Sendable (String) -> Void, launch: @escaping Launch) {
        self.stoppedIdentities = stoppedIdentities
        self.store = store
        self.limits = limits
        self.pausePath = pausePath
        self.triggerConcurrency = triggerConcurrency
        self.report = report
        self.launch = launch
    }

    /// Whether the kill switch is on.
    public var paused: Bool {
        guard let pausePath else { return false }
        var st = stat()
        return lstat(pausePath, &st) == 0
    }

    /// Starts the worker threads.
    public func start() {
        for _ in 0..<max(1, limits.host) {
            if let handle = ThreadHandle({ [self] in loop() }) { threads.withLock { $0.append(handle) } }
        }
    }

    /// A run was queued, or one ended: look again now rather than at the next tick.
    public func wake() {
        for _ in 0..<max(1, limits.host) { wakeups.signal() }
    }

    /// Stops claiming; returns once every worker has finished its current launch (the
    /// launcher is told to stop those first).
    public func stopAndJoin() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake()
        for thread in threads.withLock({ t in defer { t = [] }; return t }) { thread.join() }
    }

    private func loop() {
        while !stopping.load(ordering: .sequentiallyConsistent) {
            if paused {
                _ = wakeups.wait(timeout: .now() + .seconds(1))
                continue
            }
            let claimed: QueuedRun?
            do {
                claimed = try store.claim(limits: limits, triggerConcurrency: triggerConcurrency(), skipping: stoppedIdentities(),
                                          now: ServeClock.milliseconds())
            } catch {
                report("warden serve: cannot read the run queue: \(error)")
                _ = wakeups.wait(timeout: .now() + .seconds(5))
                continue
            }
            guard let run = claimed else {
                _ = wakeups.wait(timeout: .now() + .seconds(1))
                continue
            }
            let outcome = launch(run)
            do {
                if let runID = outcome.runID { try store.setRunID(run.id, runID: runID, workspace: outcome.workspace) }
                try store.finish(run.id, state: outcome.state, exitCode: outcome.exitCode, error: outcome.error, now: ServeClock.milliseconds(),
                                 denials: outcome.denials, changes: outcome.changes)
            } catch {
                report("warden serve: cannot record the end of queued run \(run.id): \(error)")
            }
            wake()
        }
    }
}

/// Wall-clock time as the queue stores it.
public enum ServeClock {
    /// Milliseconds since the epoch.
    public static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
