import ArgumentParser
import WardenAudit
import WardenCompiler
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `warden run`: launch an agent under every layer of its policy, and audit the run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a command as a policy identity, under all of its enforcement layers.",
        discussion: """
        Example:
          warden run --policy policies/default.warden --workspace ./repo -- python3 -m unittest
        Exit status: the command's own; 128+N when killed by signal N; 124 when the timeout or
        `limit wall-time` ended it; 125 when Warden failed before the command started; 126 when
        the command cannot be executed; 127 when it is not found.
        """
    )

    @Option(help: "The policy file.")
    var policy: String

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

    @Option(help: "The workspace directory (`${workspace}`); default: the current directory.")
    var workspace: String?

    @Option(help: "Wall-clock limit, e.g. 90s, 30m, 1h30m (the shorter of this and `limit wall-time` applies).")
    var timeout: String?

    @Option(help: "Time between SIGTERM and SIGKILL when the time limit ends the run.")
    var grace: String = "5s"

    @Flag(help: "Run even when some layers cannot be enforced here; each skipped layer is printed and recorded.")
    var bestEffort = false

    @Option(help: "The audit log (default: $WARDEN_AUDIT_LOG, /var/log/warden/audit.jsonl for root, else $XDG_STATE_HOME/warden/audit.jsonl).")
    var auditLog: String?

    @Option(help: "Ed25519 key that signs the run's checkpoint (default: $WARDEN_AUDIT_KEY).")
    var signingKey: String?

    @Flag(name: .shortAndLong, help: "Do not print the one-line run summary on standard error.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after `--`") }
    }

    func run() throws {
        let failed = { (message: String) -> ExitCode in printError(message); return ExitCode(125) }
        let timeLimit = try timeout.map { try Self.duration($0, flag: "--timeout") }
        let graceLimit = try Self.duration(grace, flag: "--grace")

        let checked = try PolicyInput.load(policy, failureCode: 125)
        let effective = try PolicyInput.effective(checked, identity: identity, failureCode: 125)

        guard let workspacePath = HostFacts.realDirectory(workspace ?? ".") else {
            throw failed("workspace \(workspace ?? "."): not an existing directory")
        }
        let environment = HostFacts.environment()
        let runID = AuditRun.newRunID()
        guard let tmp = RunDirectory.create(runID: runID) else {
            throw failed("cannot create the run's temporary directory under /tmp: \(String(cString: strerror(errno)))")
        }
        defer { RunDirectory.remove(tmp) }
        let bindings = PathBindings(workspace: workspacePath, home: environment["HOME"] ?? HostFacts.passwdHome() ?? "/", tmp: tmp)

        // Only what the launch needs: `KernelSupport.detect()` also probes every namespace
        // in a child process, which `warden doctor` reports but a launch does not use.
        let userNotification = KernelSupport.userNotificationAvailable()
        let cgroup = CgroupSupport.detect()
        let plan: AgentLaunchPlan
        do {
            plan = try AgentLaunchPlan(effective: effective, command: command, bindings: bindings, environment: environment,
                                       notify: userNotification, cgroupUsable: cgroup.unusableReason == nil,
                                       pidsV1Usable: CgroupSupport.v1PidsDirectory() != nil,
                                       bestEffort: bestEffort)
        } catch {
            throw failed("\(policy): identity \(effective.identity): \(error)")
        }

        // The audit trail and its signing key must be out of the agent's reach.
        let logPath = AuditLocation.resolve(explicit: auditLog)
        let keyPath = AuditLocation.signingKeyPath(explicit: signingKey)
        for protected in AuditLocation.protectedPaths(logPath: HostFacts.absolute(logPath), signingKeyPath: keyPath.map(HostFacts.absolute)) {
            if plan.agentCanWrite(protected) {
                throw failed("\(protected) (audit trail) is writable by identity \(effective.identity); keep the audit log, its directory and the signing key outside the paths the policy lets the agent write (use --audit-log or $WARDEN_AUDIT_LOG)")
            }
        }
        if let keyPath, plan.agentCanRead(HostFacts.absolute(keyPath)) {
            throw failed("the signing key \(keyPath) is readable by identity \(effective.identity); an agent holding it could forge checkpoints")
        }
        let policyAbsolute = HostFacts.absolute(policy)
        // The policy file and every file it includes: modifying any of them changes later runs.
        let policyFiles = [policy] + checked.files.map(\.path).filter { $0 != policy }
        let writableFiles = policyFiles.filter { plan.agentCanWrite(HostFacts.absolute($0)) }
        let policyWritable = !writableFiles.isEmpty
        if policyWritable && !quiet {
            printError("warning: the agent can modify its own policy (\(writableFiles.joined(separator: ", "))); later runs would use the modified policy (its plan hash is recorded)", prefix: false)
        }

        let audit: AuditRun
        do {
            let key = try keyPath.map { path throws(AuditError) in try AuditSigningKey.load(path: path) }
            audit = try AuditRun(log: AuditLog(path: logPath, signingKey: key), runID: runID)
        } catch {
            throw failed("audit: \(error.description)")
        }

        // Hash exactly the bytes that were compiled (the loader's copies), not a re-read file.
        let policyBytes = checked.files.last?.source.bytes ?? []
        var fileHashes: [String: AuditValue] = [:]
        for file in checked.files { fileHashes[file.path] = .string(Digest.sha256Hex(file.source.bytes)) }
        let planJSON = effective.enforcementPlan(compiled: plan.filter).json()
        let enforced = ["namespaces", "mounts", "rlimits", "landlock", "capabilities", "no_new_privs", "seccomp"]
        var unobserved = ["landlock", "mounts", "capabilities", "rlimits"]
        if !userNotification { unobserved.append("seccomp") }
        let start = RunStartInfo(
            identity: effective.identity, policySHA256: Digest.sha256Hex(policyBytes),
            planSHA256: Digest.sha256Hex(Array(planJSON.utf8)), argv: command, workspace: workspacePath,
            user: HostFacts.userName(), uid: Int64(getuid()), host: HostFacts.hostName(), wardenVersion: WardenVersion.string,
            enforcedLayers: enforced, unobservedLayers: unobserved,
            extra: ["policy_path": .string(policyAbsolute), "best_effort": .bool(bestEffort),
                    "policy_writable_by_agent": .bool(policyWritable), "policy_files": .object(fileHashes)])

        let session = AgentSession(plan: plan, audit: audit, start: start, timeout: timeLimit,
                                   gracePeriod: graceLimit, bestEffort: bestEffort)
        let result: AgentSession.Result
        do {
            result = try session.run()
        } catch {
            throw failed("audit: cannot record the run's start, so the agent was not launched: \(error.description)")
        }
        report(result, runID: runID, logPath: logPath)
        // Findings in the git control plane replace the command's status (it stays in run.exit).
        if !result.gitFindings.isEmpty, case .exited = result.outcome { throw ExitCode(GitControlPlane.findingsExitStatus) }
        throw ExitCode(result.outcome.exitCode)
    }

    private func report(_ result: AgentSession.Result, runID: String, logPath: String) {
        for layer in result.skippedLayers { printError("warning: layer not enforced (--best-effort): \(layer)", prefix: false) }
        for path in result.createdProtectedPaths {
            printError("warning: the agent created \(path), which the policy protects but which did not exist at launch; review it before anything outside the sandbox uses it", prefix: false)
        }
        for line in GitControlPlane.render(result.gitFindings) { printError(line, prefix: false) }
        if let e = result.auditError { printError("audit: \(e)") }
        if case .launchFailed(let failure) = result.outcome { printError(failure.message, prefix: false) }
        guard !quiet else { return }
        let outcome: String
        switch result.outcome {
        case .exited(let c): outcome = "exited with status \(c)"
        case .signaled(let s): outcome = "killed by signal \(s)"
        case .timedOut: outcome = "stopped by the time limit"
        case .launchFailed: outcome = "failed to start"
        }
        let total = result.denials.filter { $0.key.hasPrefix("deny") }.values.reduce(0, +)
        printError("warden: run \(runID) \(outcome); \(total) denial\(total == 1 ? "" : "s") recorded in \(logPath)", prefix: false)
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        switch LimitValue.parseDuration(text) {
        case .success(let v): return .seconds(Int64(clamping: v.amount))
        case .failure(let e): throw ValidationError("\(flag): \(e.message)")
        }
    }
}
