import Dispatch
import Synchronization
import WardenAudit
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Deletes what `warden serve` keeps of runs that ended more than `keep` ago: their rows in
/// the queue and their directories `STATE/runs/ID` (workspace, review repository and patch,
/// event, output), so a server that runs for months does not fill its disk. Once at start
/// and then hourly; each pass is recorded as `serve.prune` (`runs`: the queue ids deleted).
///
/// A run's row is written before its directory, so a numeric directory with no row is one
/// whose row a pass deleted before the server died: it is removed too. A trigger's own
/// `workspace "DIR"` is never under `STATE/runs` and never touched. Directories go through
/// `TreeRemoval` (an agent shaped them: links are removed, never followed).
public final class RunPruner: Sendable {
    /// The shortest keep: budgets count runs over up to a day.
    public static let minimumKeepMilliseconds: Int64 = 24 * 3600 * 1000
    static let interval: DispatchTimeInterval = .seconds(3600)

    let store: ServeStore
    let runsDirectory: String
    let keepMilliseconds: Int64
    let recorder: DecisionRecorder
    let report: @Sendable (String) -> Void
    private let stopping = Atomic<Bool>(false)
    private let wakeups = DispatchSemaphore(value: 0)
    private let thread = Mutex<ThreadHandle?>(nil)

    public init(store: ServeStore, runsDirectory: String, keepMilliseconds: Int64, recorder: DecisionRecorder,
                report: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.runsDirectory = runsDirectory
        self.keepMilliseconds = max(keepMilliseconds, Self.minimumKeepMilliseconds)
        self.recorder = recorder
        self.report = report
    }

    public func start() {
        let handle = ThreadHandle { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                prune(now: ServeClock.milliseconds())
                _ = wakeups.wait(timeout: .now() + Self.interval)
            }
        }
        thread.withLock { $0 = handle }
    }

    public func stopAndJoin() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeups.signal()
        thread.withLock { t in t?.join(); t = nil }
    }

    /// One pass; the queue ids whose rows and directories were deleted.
    @discardableResult
    public func prune(now: Int64) -> [Int64] {
        var deleted: [Int64] = []
        do {
            repeat {
                let ids = try store.pruneFinished(before: now - keepMilliseconds, limit: 1000)
                for id in ids { remove(id) }
                deleted += ids
                if ids.count < 1000 { break }
            } while !stopping.load(ordering: .relaxed)
            for id in orphans() where try store.run(id) == nil { remove(id) }
        } catch {
            report("warden serve: cannot prune old runs: \(error)")
        }
        guard !deleted.isEmpty else { return [] }
        do {
            try recorder.log(AuditEvent(kind: AuditKind.servePrune, fields: ["runs": .array(deleted.map { .int($0) }),
                                                                         "ended_before_ms": .int(now - keepMilliseconds)]),
                             id: AuditRun.newRunID())
        } catch {
            report("warden serve: cannot record the pruning of \(deleted.count) runs: \(error.description)")
        }
        report("warden serve: deleted \(deleted.count) runs that ended more than \(keepMilliseconds / 3_600_000) hours ago")
        return deleted
    }

    private func remove(_ id: Int64) {
        let path = runsDirectory + "/" + String(id)
        if !TreeRemoval.remove(path: Array(path.utf8)) {
            report("warden serve: cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The numeric directory names under `runsDirectory`.
    private func orphans() -> [Int64] {
        guard let dir = opendir(runsDirectory) else { return [] }
        defer { closedir(dir) }
        var ids: [Int64] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.isEmpty, name.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(name), String(id) == name { ids.append(id) }
        }
        return ids
    }
}
