import ArgumentParser
import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden trigger NAME`: a person starts a policy's manual trigger. The trigger's `users`
/// and `groups` decide (`TriggerAuthorizer`, the same decision `warden test` and `explain
/// --trigger` show); the decision, allowed or refused, is an audit record; an allowed
/// trigger becomes a `warden run` of the trigger's identity and command, in its workspace.
struct TriggerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger",
        abstract: "Start a manual trigger of the policy, if its users and groups allow the caller.",
        discussion: """
        Example:
          warden trigger --policy /etc/warden/agents.warden nightly-deps

        The caller is the real user, or the user sudo ran Warden for (SUDO_UID); then the \
        policy's files and every directory above them must be root's and writable by no one \
        else, and --audit-log is refused. The decision is recorded as trigger.allow or \
        trigger.refuse. Exit status: 77 when the trigger refuses the caller; 125 when Warden \
        failed before the command started (an unknown or non-manual trigger included); \
        otherwise that of `warden run`.
        """
    )

    @Option(help: "The policy file, or a stock policy's name.", transform: StockPolicies.resolve(policyArgument:))
    var policy: String

    @Argument(help: "The manual trigger to start.")
    var name: String

    @Option(help: "Wall-clock limit for the run, e.g. 90s, 30m (the shorter of this and `limit wall-time` applies).")
    var timeout: String?

    @Option(help: "The audit log (default: as for `warden run`; refused through sudo).")
    var auditLog: String?

    @Flag(name: .shortAndLong, help: "Do not print the run summary on standard error.")
    var quiet = false

    /// The exit status of a refusal (sysexits' EX_NOPERM).
    static let refusedExitCode: Int32 = 77

    func validate() throws {
        if policy == "-" { throw ValidationError("--policy: standard input cannot be the policy here; give a file") }
        if auditLog == "" { throw ValidationError("--audit-log: the path is empty") }
        if let timeout { _ = try RunOptions.duration(timeout, flag: "--timeout") }
    }

    func run() throws {
        do {
            try start()
        } catch let error as FleetError {
            printError(error.description)
            throw ExitCode(125)
        }
    }

    private func start() throws {
        let caller = try TriggerCaller.current()
        if caller.delegated, auditLog != nil { throw FleetError("--audit-log cannot be chosen through sudo: the operator's log is used") }
        let checked = try PolicyInput.load(policy, failureCode: 125, standardInput: false)
        if caller.delegated { try TrustedPolicyFiles.check(checked.files.map(\.path)) }
        guard let trigger = checked.triggers.first(where: { $0.name == name }) else {
            let manual = checked.triggers.filter { $0.source == .manual }.map(\.name)
            throw FleetError("the policy has no trigger \(shown(name))" + (manual.isEmpty ? "" : " (manual triggers: \(manual.joined(separator: ", ")))"))
        }
        guard trigger.source == .manual else {
            throw FleetError("trigger \(shown(name)) is started by \(trigger.source.rawValue) events, not by hand (`on manual`)")
        }
        if let list = trigger.fleet {
            // Refused before any decision is recorded: nothing was asked of the policy yet.
            throw FleetError("trigger \(shown(name)) runs a fleet (\(shown(list))): `warden serve` starts it (POST /api/triggers/\(shown(name))/runs), "
                             + "or run `warden fleet --repos \(shown(list))` by hand")
        }
        let decision = TriggerAuthorizer(policy: checked).decide(.manual(name, by: caller.localUser))
        let decisionID = AuditRun.newRunID()
        let logPath = AuditLocation.resolve(explicit: auditLog)
        try record(decision, id: decisionID, caller: caller, log: logPath)
        guard let launch = decision.launches.first(where: { $0.trigger == name }) else {
            printError("trigger \(name) refused: \(decision.reason)")
            throw ExitCode(Self.refusedExitCode)
        }
        let workspace = try workspace(for: launch.workspace, id: decisionID)
        var argv = ["warden", "run", "--policy", HostFacts.absolute(policy), "--identity", launch.identity, "--workspace", workspace,
                    "--trigger", name, "--trigger-decision", decisionID]
        if let auditLog { argv += ["--audit-log", auditLog] }
        if let timeout { argv += ["--timeout", timeout] }
        if quiet { argv.append("--quiet") }
        argv += ["--"] + launch.run
        guard let warden = StockPolicies.currentExecutable() else { throw FleetError("cannot find Warden's own binary (/proc/self/exe)") }
        fflush(nil)
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        execv(warden, &cArgs)
        let e = errno
        for p in cArgs { free(p) }
        throw FleetError("cannot start \(warden): \(String(cString: strerror(e)))")
    }

    /// `trigger.allow` or `trigger.refuse`, durable before anything runs.
    private func record(_ decision: TriggerDecision, id: String, caller: TriggerCaller, log path: String) throws(FleetError) {
        let allowed = decision.launches.contains { $0.trigger == name }
        var fields: [String: AuditValue] = [
            "trigger": .string(name), "source": .string("manual"), "user": .string(caller.name), "uid": .int(Int64(caller.uid)),
            "gid": .int(Int64(caller.gid)), "groups": .strings(caller.groups), "delegated": .bool(caller.delegated),
            "reason": .string(decision.reason), "policy_path": .string(HostFacts.absolute(policy)),
        ]
        if let launch = decision.launches.first(where: { $0.trigger == name }) { fields["identity"] = .string(launch.identity) }
        do {
            let key = try AuditLocation.signingKeyPath(explicit: nil).map { path throws(AuditError) in try AuditSigningKey.load(path: path) }
            let log = try AuditLog(path: path, signingKey: key)
            _ = try log.append([AuditEvent(kind: allowed ? AuditKind.triggerAllow : AuditKind.triggerRefuse, fields: fields)], run: id, sync: true)
        } catch {
            throw FleetError("audit: \(error.description) (nothing was started)")
        }
    }

    /// The run's workspace: the trigger's directory, or a fresh empty one kept for review.
    private func workspace(for kind: TriggerWorkspace, id: String) throws(FleetError) -> String {
        switch kind {
        case .directory(let path): return path
        case .clone: throw FleetError("trigger \(name) clones an event's repository; a manual launch has none")
        case .empty:
            let root = WardenState.directory() + "/triggers"
            try WardenState.makeDirectories(root)
            let dir = root + "/" + id
            guard mkdir(dir, 0o700) == 0 else { throw FleetError("cannot create \(dir): \(String(cString: strerror(errno)))") }
            return dir
        }
    }
}
