import Synchronization
import WardenAudit
import WardenKernel
import WardenPolicy
import WardenRuntime
import WardenServe
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts one queued run: prepares its workspace outside the sandbox (a fresh clone of the
/// event's repository at the event's commit, a fresh empty directory, or the trigger's
/// directory), writes the event document, and runs `warden run` as a child with the trigger,
/// its decision record and the event, tied to this server's life (`--stop-with-parent`).
///
/// Per run, under `<state>/runs/<queue id>/`: `workspace/` (kept for review), `event.json`,
/// `output.log` (the run's stdout and stderr), `report.json`.
final class ServeLauncher: Sendable {
    let wardenPath: String
    let stateDirectory: String
    let auditLog: String?
    let timeout: String?
    /// `--clone-mirror`: clone `workspace clone` repositories from `DIR/OWNER/NAME.git`
    /// instead of the event's URL.
    let cloneMirror: String?
    let policy: @Sendable () -> ServePolicy
    /// Where a run's `run.review` record goes (the server's log); nil: not recorded.
    let recorder: DecisionRecorder?
    /// Runs going, by queue id (with their identity), and those a kill switch stopped.
    private let children = Mutex<(stopping: Bool, pids: [Int64: (pid: pid_t, identity: String)], stopped: Set<Int64>)>((false, [:], []))

    init(wardenPath: String, stateDirectory: String, auditLog: String?, timeout: String?, cloneMirror: String?,
         recorder: DecisionRecorder? = nil, policy: @escaping @Sendable () -> ServePolicy) {
        self.recorder = recorder
        self.cloneMirror = cloneMirror
        self.wardenPath = wardenPath
        self.stateDirectory = stateDirectory
        self.auditLog = auditLog
        self.timeout = timeout
        self.policy = policy
    }

    /// Sends SIGTERM to every run going and starts no more (each records its own `run.exit`).
    func stopAll() {
        children.withLock { c in
            c.stopping = true
            for child in c.pids.values { kill(child.pid, SIGTERM) }
        }
    }

    /// Sends SIGTERM to every run of `identity` going (the kill switch); their queue ids.
    /// Each records its own `run.exit` and ends `interrupted`.
    func stop(identity: String) -> [Int64] {
        children.withLock { c in
            let ids = c.pids.filter { $0.value.identity == identity && !c.stopped.contains($0.key) }.map(\.key).sorted()
            for id in ids {
                if let child = c.pids[id] { kill(child.pid, SIGTERM) }
                c.stopped.insert(id)
            }
            return ids
        }
    }

    func launch(_ run: QueuedRun) -> LaunchOutcome {
        let policy = policy()
        guard let trigger = policy.triggers.first(where: { $0.name == run.trigger }) else {
            return LaunchOutcome(error: "trigger \(run.trigger) is no longer in the policy")
        }
        guard trigger.identity == run.identity else {
            return LaunchOutcome(error: "trigger \(run.trigger) now runs identity \(trigger.identity), not \(run.identity) as decided")
        }
        let directory = stateDirectory + "/runs/" + String(run.id)
        guard TreeRemoval.remove(path: Array(directory.utf8)), mkdir(directory, 0o700) == 0 else {
            return LaunchOutcome(error: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let workspace: String
        do { workspace = try prepare(trigger.workspace, run: run, in: directory) } catch {
            return LaunchOutcome(error: "workspace: \(error.description)")
        }
        var review: (base: String, before: WorkspaceSnapshot)?
        if case .clone = trigger.workspace {
            do {
                if let base = try ReviewBranch.prepareBase(workspace: workspace, repository: directory + "/review.git"),
                   let before = WorkspaceSnapshot.take(workspace) {
                    review = (base, before)
                }
            } catch {
                return LaunchOutcome(error: "review repository: \(error.description)", workspace: workspace)
            }
        }
        let eventPath = directory + "/event.json", reportPath = directory + "/report.json"
        do { try AtomicFile.store(eventPath, text: String(decoding: run.eventDocument, as: UTF8.self), mode: 0o600) } catch {
            return LaunchOutcome(error: "cannot write \(eventPath): \(error)", workspace: workspace)
        }
        var arguments = ["run", "--policy", policy.path, "--identity", run.identity, "--workspace", workspace, "--quiet",
                         "--trigger", run.trigger, "--trigger-decision", run.decision, "--event", eventPath,
                         "--stop-with-parent", "--report", reportPath]
        if let auditLog { arguments += ["--audit-log", auditLog] }
        if let timeout { arguments += ["--timeout", timeout] }
        arguments += ["--"] + trigger.run
        let status: Int32
        do { status = try spawnAndWait(arguments, output: directory + "/output.log", key: run.id, identity: run.identity) } catch {
            return LaunchOutcome(error: error.description, workspace: workspace, interrupted: error.description == Self.stopping)
        }
        let report = (try? BoundedFileReader.read(reportPath, limit: 1 << 16)).flatMap { try? AuditValue.parseJSON($0).get() }
        let exitCode = report?["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) } ?? status
        let stopped = children.withLock { c in (c.stopping || c.stopped.remove(run.id) != nil) } && exitCode != 0
        let runID = report?["run_id"]?.stringValue
        var failure = report?["error"]?.stringValue
        if let review, let after = WorkspaceSnapshot.take(workspace) {
            do { try recordReview(run, runID: runID, workspace: workspace, directory: directory, base: review.base, before: review.before, after: after) } catch {
                failure = failure ?? "review: \(error.description)"
            }
        }
        return LaunchOutcome(runID: runID, exitCode: exitCode, error: failure, workspace: workspace, interrupted: stopped)
    }

    /// Makes the run's review branch and patch (`ReviewBranch`) and records them as
    /// `run.review` under the run's decision id, with the patch's SHA-256, so the trail says
    /// exactly what the agent proposed.
    private func recordReview(_ run: QueuedRun, runID: String?, workspace: String, directory: String, base: String,
                              before: WorkspaceSnapshot, after: WorkspaceSnapshot) throws(FleetError) {
        let name = runID.flatMap { FleetMembership.isValidID($0) ? $0 : nil } ?? "queue-\(run.id)"
        guard let artifact = try ReviewBranch.make(workspace: workspace, repository: directory + "/review.git", base: base, before: before,
                                                   after: after, name: name, patchPath: directory + "/review.patch") else { return }
        guard let recorder else { return }
        var fields = artifact.json.objectValue ?? [:]
        fields["queue_id"] = .int(run.id)
        fields["run_id"] = runID.map { .string($0) } ?? .null
        fields["trigger"] = .string(run.trigger)
        fields["identity"] = .string(run.identity)
        fields["repository_name"] = run.repository.map { .string($0) } ?? .null
        if let patch = artifact.patch, let bytes = try? BoundedFileReader.read(patch, limit: ReviewBranch.patchLimit) {
            fields["patch_sha256"] = .string(Digest.sha256Hex(bytes))
        }
        do { try recorder.log(AuditEvent(kind: ReviewArtifact.recordKind, fields: fields), id: run.decision) } catch {
            throw FleetError("the review could not be recorded: \(error)")
        }
    }

    static let stopping = "not launched: the server is stopping"

    private func prepare(_ kind: TriggerWorkspace, run: QueuedRun, in directory: String) throws(FleetError) -> String {
        switch kind {
        case .directory(let path):
            return path
        case .empty:
            let path = directory + "/workspace"
            guard mkdir(path, 0o700) == 0 else { throw FleetError("cannot create \(path): \(String(cString: strerror(errno)))") }
            return path
        case .clone:
            guard let commit = run.commit, let source = try cloneSource(run) else {
                throw FleetError("trigger \(run.trigger) clones the event's repository, and the event names no usable repository URL and commit")
            }
            let path = directory + "/workspace"
            try FleetWorkspace.clone(source, to: path, commit: commit)
            return path
        }
    }

    /// Where to clone the run's repository from: the mirror's `OWNER/NAME.git` when there is a
    /// mirror, else the event's URL (already checked: `https`, no credentials).
    private func cloneSource(_ run: QueuedRun) throws(FleetError) -> String? {
        guard let cloneMirror else { return run.cloneURL }
        guard let repository = run.repository else { return nil }
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.hasPrefix("-") }) else {
            throw FleetError("repository \(TerminalText.escape(repository)) cannot name a mirror path")
        }
        return cloneMirror + "/" + repository + ".git"
    }

    /// Starts `warden run` and waits for it; its exit status (128+N when killed by signal N).
    private func spawnAndWait(_ arguments: [String], output: String, key: Int64, identity: String) throws(FleetError) -> Int32 {
        try ChildWarden.run(wardenPath, arguments, output: output, canceled: Self.stopping, admit: { spawn in
            children.withLock { c in
                guard !c.stopping else { return (0, ECANCELED) }
                let started = spawn()
                if started.rc == 0 { c.pids[key] = (started.pid, identity) }
                return started
            }
        }, forget: { children.withLock { _ = $0.pids.removeValue(forKey: key) } })
    }
}
