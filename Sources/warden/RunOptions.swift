import ArgumentParser
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// The options of one supervised run, shared by `warden run` and `warden learn`.
struct RunOptions: ParsableArguments {
    @Option(help: "The policy file, or a stock policy's name (`default` is default.warden in the directory `warden doctor` names).",
            transform: StockPolicies.resolve(policyArgument:))
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

    func validate() throws {
        if auditLog == "" { throw ValidationError("--audit-log: the path is empty") }
        if signingKey == "" { throw ValidationError("--signing-key: the path is empty") }
        if let issuer, !issuer.hasPrefix("https://") && !issuer.hasPrefix("http://") {
            throw ValidationError("--issuer must be an http(s) URL")
        }
        // Checked here, not when the request is built, so the error shows `run`'s usage.
        if let timeout { _ = try Self.duration(timeout, flag: "--timeout") }
        _ = try Self.duration(grace, flag: "--grace")
    }

    /// The run's request for `command` under `effective` (of `checked`, read from `policy`).
    func request(policy checked: CheckedPolicy, effective: EffectivePolicy, command: [String]) throws -> RunRequest {
        let timeLimit = try timeout.map { try Self.duration($0, flag: "--timeout") }
        let graceLimit = try Self.duration(grace, flag: "--grace")
        var request = RunRequest(policyPath: policy, policy: checked, effective: effective, command: command,
                                 workspace: workspace, timeout: timeLimit, gracePeriod: graceLimit,
                                 bestEffort: bestEffort, auditLogPath: auditLog, signingKeyPath: signingKey,
                                 wardenVersion: WardenVersion.string, auditFailureMode: onAuditFailure,
                                 notice: { printError($0, prefix: false) })
        request.observeFilesystem = observeFilesystem
        request.identityToken.issuer = issuer
        return request
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        switch LimitValue.parseDuration(text) {
        case .success(let v): return .seconds(Int64(clamping: v.amount))
        case .failure(let e): throw ValidationError("\(flag): \(e.message)")
        }
    }
}

extension AuditFailureMode: ExpressibleByArgument {}
