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
        if run.fleetID != nil, trigger.fleet == nil {
            return LaunchOutcome(error: "trigger \(run.trigger) no longer runs a fleet")
        }
        let workspace: String
        do { workspace = try prepare(trigger.workspace, run: run, in: directory) } catch {
            return LaunchOutcome(error: "workspace: \(error.description)")
        }
        var reviewBase: String?
        if case .clone = trigger.workspace {
            do { reviewBase = try ReviewBranch.prepareBase(workspace: workspace, repository: directory + "/review.git") } catch {
                return LaunchOutcome(error: "review repository: \(error.description)", workspace: workspace)
            }
        }
        // The work tree before the run: a fleet run's changes (as `warden fleet` reports them)
        // and the review branch are both made from it.
        let before = run.fleetID == nil && reviewBase == nil ? nil : WorkspaceSnapshot.take(workspace)
        if run.fleetID != nil || reviewBase != nil, before == nil {
            return LaunchOutcome(error: "cannot read the prepared workspace", workspace: workspace)
        }
        let eventPath = directory + "/event.json", reportPath = directory + "/report.json"
        do { try AtomicFile.store(eventPath, text: String(decoding: run.eventDocument, as: UTF8.self), mode: 0o600) } catch {
            return LaunchOutcome(error: "cannot write \(eventPath): \(error)", workspace: workspace)
        }
        var arguments = ["run", "--policy", policy.path, "--identity", run.identity, "--workspace", workspace, "--quiet",
                         "--trigger", run.trigger, "--trigger-decision", run.decision, "--event", eventPath,
                         "--stop-with-parent", "--report", reportPath]
        if let fleet = run.fleetID, let repository = run.repository {
            arguments += ["--fleet", fleet, "--fleet-repository", repository]
        }
        if let auditLog { arguments += ["--audit-log", auditLog] }
        if let timeout { arguments += ["--timeout", timeout] }
        arguments += ["--"] + trigger.run
        let status: Int32
        do { status = try spawnAndWait(arguments, output: directory + "/output.log", key: run.id, identity: run.identity, directory: directory) } catch {
            return LaunchOutcome(error: error.description, workspace: workspace, interrupted: error.description == Self.stopping)
        }
        let report = (try? BoundedFileReader.read(reportPath, limit: 1 << 16)).flatMap { try? AuditValue.parseJSON($0).get() }
        let exitCode = report?["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) } ?? status
        let stopped = children.withLock { c in (c.stopping || c.stopped.remove(run.id) != nil) } && exitCode != 0
        let runID = report?["run_id"]?.stringValue
        var outcome = LaunchOutcome(runID: runID, exitCode: exitCode, error: report?["error"]?.stringValue, workspace: workspace, interrupted: stopped)
        if run.fleetID != nil { outcome.denials = report?["denials"]?.intValue }
        if let before, let after = WorkspaceSnapshot.take(workspace) {
            if run.fleetID != nil { outcome.changes = FleetChanges.json(before.changes(to: after)) }
            if let reviewBase {
                do { try recordReview(run, runID: runID, workspace: workspace, directory: directory, base: reviewBase, before: before, after: after) } catch {
                    outcome.error = outcome.error ?? "review: \(error.description)"
                }
            }
        }
        return outcome
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

    /// What a run the previous server started left behind, read by the restarted server once
    /// that run's `warden run` is gone (`ServeRecovery`): its report, when it wrote one with
    /// a run id. It ended on its own when its status is below 128: the command completed
    /// (just before the server died, or while it was down) and keeps its result, never run
    /// again. A status of 128 or more is what the server's death does to a run (SIGTERM from
    /// the parent-death signal, SIGKILL after the grace period): interrupted. `parent_gone`
    /// cannot decide it: while a killed server's threads are still exiting, its child can
    /// stop and report with the server's pid still its parent. Its workspace changes are
    /// not known (the snapshot taken before it died with the server).
    static func settled(_ run: QueuedRun, stateDirectory: String) -> ServeStore.SettledOutcome? {
        let path = stateDirectory + "/runs/" + String(run.id) + "/report.json"
        guard let bytes = try? BoundedFileReader.read(path, limit: 1 << 16), case .success(let report) = AuditValue.parseJSON(bytes),
              let runID = report["run_id"]?.stringValue, FleetMembership.isValidID(runID), let code = report["exit_code"]?.intValue else { return nil }
        let stopped = code >= 128
        return ServeStore.SettledOutcome(runID: runID, exitCode: Int32(truncatingIfNeeded: code), error: report["error"]?.stringValue,
                                         denials: report["denials"]?.intValue, endedOnItsOwn: !stopped)
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
        case .clone where run.fleetID != nil:
            guard let repository = run.repository, let location = run.cloneURL else {
                throw FleetError("fleet run \(run.id) names no repository to clone")
            }
            let path = directory + "/workspace"
            let source: FleetRepository.Source = location.hasPrefix("/") ? .localPath(location) : .gitURL(location)
            try FleetWorkspace.prepare(FleetRepository(name: repository, source: source, line: 0), at: path)
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
    /// The child's pid and start time are kept in `DIR/child.pid` while it runs, so a server
    /// restarted after this one died waits for it to stop before deciding what became of
    /// the run (`ServeRecovery`).
    private func spawnAndWait(_ arguments: [String], output: String, key: Int64, identity: String, directory: String) throws(FleetError) -> Int32 {
        let pidFile = directory + "/" + ServeRecovery.pidFileName
        defer { unlink(pidFile) }
        return try ChildWarden.run(wardenPath, arguments, output: output, canceled: Self.stopping, admit: { spawn in
            children.withLock { c in
                guard !c.stopping else { return (0, ECANCELED) }
                let started = spawn()
                if started.rc == 0 {
                    c.pids[key] = (started.pid, identity)
                    ServeRecovery.writePidFile(pidFile, pid: started.pid)
                }
                return started
            }
        }, forget: { children.withLock { _ = $0.pids.removeValue(forKey: key) } })
    }
}
