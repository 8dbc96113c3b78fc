import WardenAudit
import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a fleet: each pending repository gets a fresh workspace and one `warden run` (a
/// child process of its own: a run's failure, even a crash, is that repository's result,
/// never the fleet's), at most `concurrency` at a time. The state is saved as each run starts
/// and ends (`FleetState`).
///
/// Signals: SIGINT, SIGTERM and SIGHUP are taken by the main thread (blocked in the workers
/// and unblocked in the children). The first stops new launches and passes SIGTERM to every
/// running `warden run` (which stops its agent within its grace period and records the
/// exit); a second one sends SIGKILL. Runs cut short stay pending, so `--resume` runs them
/// again. If the fleet process itself is killed, each `warden run` gets SIGTERM from the
/// kernel (`PR_SET_PDEATHSIG`, see `FleetRunOptions`).
final class FleetRunner: @unchecked Sendable {
    let directory: String
    let repositories: [FleetRepository]
    let wardenPath: String
    let progress: FleetProgress

    private var lock = pthread_mutex_t()
    private var state: FleetState
    private var queue: [Int]
    private var running: [Int: pid_t] = [:]
    private var stopping = false
    private var workersLeft = 0
    private var saveError: String?

    init(directory: String, state: FleetState, repositories: [FleetRepository], wardenPath: String, progress: FleetProgress) {
        self.directory = directory
        self.state = state
        self.repositories = repositories
        self.wardenPath = wardenPath
        self.progress = progress
        queue = state.runs.indices.filter { state.runs[$0].phase != .done }
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    /// Runs every pending repository; the final state, and the signal that interrupted the
    /// fleet (0 when none did).
    func run() throws(FleetError) -> (state: FleetState, interruptedBy: Int32) {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &signals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let workerCount = min(state.concurrency, queue.count)
        progress.begin(total: state.runs.count, done: state.runs.filter { $0.phase == .done }.count)
        var threads: [ThreadHandle] = []
        for _ in 0..<workerCount {
            // Counted before the thread starts: it may finish before the next line runs.
            locked { workersLeft += 1 }
            guard let t = ThreadHandle({ [self] in work() }) else {
                locked { workersLeft -= 1 }
                break
            }
            threads.append(t)
        }
        if threads.isEmpty, workerCount > 0 { throw FleetError("cannot start a worker thread") }

        var interruptedBy: Int32 = 0
        var wait = timespec(tv_sec: 0, tv_nsec: 250_000_000)
        while locked({ workersLeft }) > 0 {
            let s = sigtimedwait(&signals, nil, &wait)
            if s > 0 {
                let pids: [pid_t] = locked {
                    let second = stopping
                    stopping = true
                    queue.removeAll()
                    return second ? running.values.map { -$0 } : Array(running.values)
                }
                if interruptedBy == 0 { interruptedBy = s }
                progress.note("stopping: \(pids.count) run\(pids.count == 1 ? "" : "s") under way get \(pids.first.map { $0 < 0 ? "SIGKILL" : "SIGTERM" } ?? "nothing")")
                for pid in pids { kill(abs(pid), pid < 0 ? SIGKILL : SIGTERM) }
            }
            progress.tick(running: locked { running.count })
        }
        for t in threads { t.join() }
        progress.end()
        let (final, error) = locked { (state, saveError) }
        if let error { throw FleetError(error) }
        return (final, interruptedBy)
    }

    private func work() {
        while let index = locked({ stopping || queue.isEmpty ? nil : queue.removeFirst() }) {
            runOne(index)
        }
        locked { workersLeft -= 1 }
    }

    private func update(_ index: Int, _ change: (inout FleetRunRecord) -> Void) {
        locked {
            change(&state.runs[index])
            do throws(FleetError) { try state.save(directory: directory) } catch { saveError = error.description }
        }
    }

    private func runOne(_ index: Int) {
        let repository = repositories[index]
        let runDirectory = directory + "/runs/" + String(index + 1)
        let workspace = runDirectory + "/workspace"
        update(index) {
            $0.phase = .running
            $0.attempts += 1
            $0.workspace = workspace
            $0.runID = nil; $0.exitCode = nil; $0.error = nil; $0.changes = nil; $0.review = nil; $0.denials = nil; $0.durationMilliseconds = nil
        }
        let started = monotonicNow()
        var outcome = FleetRunRecord(repository: repository.name, source: "")
        /// Cut short by the fleet's stop: left pending, so `--resume` runs it again.
        var interrupted = false
        defer {
            update(index) { record in
                record.phase = interrupted ? .pending : .done
                record.runID = outcome.runID
                record.exitCode = outcome.exitCode
                record.denials = outcome.denials
                record.changes = outcome.changes
                record.review = outcome.review
                record.error = interrupted ? "interrupted" : outcome.error
                record.durationMilliseconds = (monotonicNow() - started) / 1_000_000
            }
            let (record, done) = locked { (state.runs[index], state.runs.filter { $0.phase == .done }.count) }
            progress.finished(record, doneCount: done)
        }

        if !TreeRemoval.remove(path: Array(runDirectory.utf8)) || mkdir(runDirectory, 0o700) != 0 {
            outcome.error = "cannot create \(runDirectory): \(String(cString: strerror(errno)))"
            return
        }
        do { try FleetWorkspace.prepare(repository, at: workspace) } catch {
            outcome.error = "workspace: \(error.description)"
            return
        }
        let reviewRepository = runDirectory + "/review.git"
        let base: String?
        do { base = try ReviewBranch.prepareBase(workspace: workspace, repository: reviewRepository) } catch {
            outcome.error = "review repository: \(error.description)"
            return
        }
        guard let before = WorkspaceSnapshot.take(workspace) else {
            outcome.error = "cannot read the prepared workspace"
            return
        }
        let reportPath = runDirectory + "/report.json"
        let status: Int32
        do { status = try launch(repository: repository, workspace: workspace, runDirectory: runDirectory, index: index) } catch {
            if error.description == FleetRunner.canceled { interrupted = true } else { outcome.error = error.description }
            return
        }
        let report = (try? BoundedFileReader.read(reportPath, limit: 1 << 16)).flatMap { try? AuditValue.parseJSON($0).get() }
        outcome.runID = report?["run_id"]?.stringValue
        outcome.exitCode = report?["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) } ?? status
        outcome.denials = report?["denials"]?.intValue
        if let message = report?["error"]?.stringValue { outcome.error = message }
        if let after = WorkspaceSnapshot.take(workspace) {
            outcome.changes = before.changes(to: after)
            if let base {
                do {
                    outcome.review = try ReviewBranch.make(workspace: workspace, repository: reviewRepository, base: base, before: before, after: after,
                                                           name: outcome.runID.flatMap { FleetMembership.isValidID($0) ? $0 : nil } ?? "run-\(index + 1)", patchPath: runDirectory + "/review.patch")
                } catch {
                    outcome.error = outcome.error ?? "review: \(error.description)"
                }
            }
        }
        // Stopped while it ran: a run that still succeeded keeps its result; any other was
        // (or may have been) cut short by the stop.
        if locked({ stopping }), outcome.exitCode != 0 { interrupted = true }
    }

    static let canceled = "not launched: the fleet is stopping"

    /// Starts `warden run` for one repository and waits for it; its exit status (128+N when
    /// killed by signal N).
    private func launch(repository: FleetRepository, workspace: String, runDirectory: String, index: Int) throws(FleetError) -> Int32 {
        var arguments = ["run", "--policy", state.policy, "--workspace", workspace, "--quiet",
                         "--fleet", state.id, "--fleet-repository", repository.name, "--report", runDirectory + "/report.json"]
        if let identity = state.identity { arguments += ["--identity", identity] }
        if let timeout = state.timeout { arguments += ["--timeout", timeout] }
        if let log = state.auditLog { arguments += ["--audit-log", log] }
        arguments += ["--"] + state.command

        return try ChildWarden.run(wardenPath, arguments, output: runDirectory + "/output.log", canceled: Self.canceled, admit: { spawn in
            locked {
                guard !stopping else { return (0, ECANCELED) }
                let started = spawn()
                if started.rc == 0 { running[index] = started.pid }
                return started
            }
        }, forget: { locked { _ = running.removeValue(forKey: index) } })
    }
}
