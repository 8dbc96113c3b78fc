import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// `warden run`: launch an agent under every layer of its policy, and audit the run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a command as a policy identity, under all of its enforcement layers.",
        discussion: """
        Example:
          warden run --policy policies/default.warden --workspace ./repo -- python3 -m unittest

        Exit status: the command's own; 128+N when killed by signal N; 122 when the audit log \
        could not take the run's records (the agent was stopped, or records are missing from \
        the log); 123 when the command exited but the workspace's git control plane changed in \
        a way that could make a later git command run code (the findings are printed); 124 \
        when the timeout or `limit wall-time` ended it; 125 when Warden failed \
        before the command started; 126 when the command cannot be executed; 127 when it is \
        not found.

        A first SIGINT/SIGTERM is passed to the command and starts the grace period; a second \
        one, or the end of the grace period, kills the command's whole process tree.
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

    @Option(help: "Time between SIGTERM and SIGKILL when the time limit or a signal ends the run.")
    var grace: String = "5s"

    @Option(help: "When the audit log cannot take records: stop the agent (exit 122) or pause it until the log can.")
    var onAuditFailure: AuditFailureMode = .stop

    @Flag(help: "Run even when some layers cannot be enforced here; each skipped layer is printed and recorded.")
    var bestEffort = false

    @Option(help: "The audit log (default: $WARDEN_AUDIT_LOG, /var/log/warden/audit.jsonl for root, else $XDG_STATE_HOME/warden/audit.jsonl).")
    var auditLog: String?

    @Option(help: "Ed25519 key that signs the run's checkpoint (default: $WARDEN_AUDIT_KEY).")
    var signingKey: String?

    @Flag(help: "Record Landlock's filesystem denials (deny.fs) through kernel audit, switching it on for the run (host-wide, root only) when it is off; when it is on, Warden uses it anyway.")
    var observeFilesystem = false

    @Option(help: "The run identity token's issuer, its iss claim (default: $WARDEN_ISSUER, else https://warden.invalid/<host name>; see docs/identity.md).")
    var issuer: String?

    @Flag(name: .shortAndLong, help: "Do not print the one-line run summary on standard error.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after `--`") }
        if auditLog == "" { throw ValidationError("--audit-log: the path is empty") }
        if signingKey == "" { throw ValidationError("--signing-key: the path is empty") }
        if let issuer, !issuer.hasPrefix("https://") && !issuer.hasPrefix("http://") {
            throw ValidationError("--issuer must be an http(s) URL")
        }
    }

    func run() throws {
        let timeLimit = try timeout.map { try Self.duration($0, flag: "--timeout") }
        let graceLimit = try Self.duration(grace, flag: "--grace")
        let checked = try PolicyInput.load(policy, failureCode: 125)
        let effective = try PolicyInput.effective(checked, identity: identity, failureCode: 125)
        var request = RunRequest(policyPath: policy, policy: checked, effective: effective, command: command,
                                 workspace: workspace, timeout: timeLimit, gracePeriod: graceLimit,
                                 bestEffort: bestEffort, auditLogPath: auditLog, signingKeyPath: signingKey,
                                 wardenVersion: WardenVersion.string, auditFailureMode: onAuditFailure,
                                 notice: { printError($0, prefix: false) })
        request.observeFilesystem = observeFilesystem
        request.identityToken.issuer = issuer
        let summary: RunSummary
        do {
            let run = try Run(request, host: .current())
            if !quiet { for warning in run.warnings { printError("warning: \(warning)", prefix: false) } }
            summary = try run.execute()
        } catch {
            printError(error.message)
            throw ExitCode(125)
        }
        // The agent shared the terminal: whatever modes or colours it left on (concealed
        // text, say) must not hide Warden's own lines.
        if isatty(2) == 1, !summary.messages.isEmpty || !quiet { printError("\u{1B}[0m\u{1B}]110\u{07}\u{1B}]111\u{07}", prefix: false, newline: false, escaping: false) }
        for line in summary.messages { printError(line, prefix: false) }
        if !quiet { printError(summary.summaryLine, prefix: false) }
        throw ExitCode(summary.exitCode)
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        switch LimitValue.parseDuration(text) {
        case .success(let v): return .seconds(Int64(clamping: v.amount))
        case .failure(let e): throw ValidationError("\(flag): \(e.message)")
        }
    }
}

extension AuditFailureMode: ExpressibleByArgument {}
