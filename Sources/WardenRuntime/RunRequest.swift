import WardenCompiler
import WardenPolicy

/// Everything a front end (the `warden` CLI or an embedding) asks of one supervised run.
/// The policy arrives checked: loading and diagnosing it is the front end's job.
public struct RunRequest: Sendable {
    /// The policy file as the operator named it (recorded, and checked for agent write access).
    public var policyPath: String
    /// The checked policy (its files' bytes are hashed into `run.start`).
    public var policy: CheckedPolicy
    /// The identity to run as, resolved from `policy`.
    public var effective: EffectivePolicy
    /// The command and its arguments.
    public var command: [String]
    /// The workspace directory (`${workspace}`); nil: the current directory.
    public var workspace: String?
    /// Wall-clock limit (the shorter of this and `limit wall-time` applies).
    public var timeout: Duration?
    /// Time between SIGTERM and SIGKILL when a time limit or a signal ends the run.
    public var gracePeriod: Duration
    /// Run even when some layers cannot be enforced here.
    public var bestEffort: Bool
    /// `--audit-log`; nil: `AuditLocation.resolve`'s default.
    public var auditLogPath: String?
    /// `--signing-key`; nil: `$WARDEN_AUDIT_KEY` or none.
    public var signingKeyPath: String?
    /// Recorded as `warden_version` in `run.start`.
    public var wardenVersion: String
    /// What to do when the audit log cannot take records during the run.
    public var auditFailureMode: AuditFailureMode
    /// Restore the terminal modes of standard input after the run when it is a terminal.
    public var restoreTerminal: Bool
    /// Told, while the run goes on, what the operator must know at once (e.g. the agent is
    /// being stopped because the audit log failed). The CLI prints it on stderr.
    public var notice: (@Sendable (String) -> Void)?
    /// `--observe-filesystem`: switch kernel audit on for the run (host-wide, and back off
    /// afterwards) when it is off, so Landlock's denials are recorded (`deny.fs`). When it
    /// is already on, Warden uses it anyway.
    public var observeFilesystem = false
    /// Observing mode (`warden learn`): every rule is still enforced, and in addition the
    /// run records what the policy would have had to allow (`learn.fs`, `learn.dns`;
    /// `run.start` carries `mode: "learn"`). Kernel audit is switched on for the run as with
    /// `observeFilesystem`. Refused for an `enforce-only` identity (`RunSetupError.learnRefused`).
    public var learn = false
    /// How the run's identity token is issued (key directory, issuer, audience).
    public var identityToken = RunIdentityOptions()
    /// The fleet this run belongs to (`warden fleet`): recorded in `run.start` as `fleet`
    /// and `repository`, so `warden audit show --fleet ID` finds the fleet's runs.
    public var fleet: FleetMembership?
    /// The trigger that started this run (`warden trigger`): recorded in `run.start` as
    /// `trigger` and `trigger_decision` (the run id of its `trigger.allow` record).
    public var trigger: TriggerOrigin?

    public init(policyPath: String, policy: CheckedPolicy, effective: EffectivePolicy, command: [String],
                workspace: String? = nil, timeout: Duration? = nil, gracePeriod: Duration = .seconds(5),
                bestEffort: Bool = false, auditLogPath: String? = nil, signingKeyPath: String? = nil,
                wardenVersion: String, auditFailureMode: AuditFailureMode = .stop, restoreTerminal: Bool = true,
                notice: (@Sendable (String) -> Void)? = nil) {
        self.policyPath = policyPath
        self.policy = policy
        self.effective = effective
        self.command = command
        self.workspace = workspace
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.bestEffort = bestEffort
        self.auditLogPath = auditLogPath
        self.signingKeyPath = signingKeyPath
        self.wardenVersion = wardenVersion
        self.auditFailureMode = auditFailureMode
        self.restoreTerminal = restoreTerminal
        self.notice = notice
    }
}

/// A run's place in a fleet (`warden fleet`): one task over many repositories.
public struct FleetMembership: Sendable, Equatable {
    /// The fleet's id (16 lowercase hex digits, like a run id).
    public var id: String
    /// The repository this run works on, as the fleet's repository list names it.
    public var repository: String

    public init(id: String, repository: String) {
        self.id = id
        self.repository = repository
    }

    /// Whether `text` has the form of a fleet id.
    public static func isValidID(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// The trigger a run was started by, the authorization record that allowed it, and the
/// event document the agent receives.
public struct TriggerOrigin: Sendable, Equatable {
    public var trigger: String
    public var decision: String
    /// The event as JSON (`warden serve`): shown to the agent read-only at
    /// `/run/warden/event.json` (or `/tmp/.warden/event.json`), named by `$WARDEN_EVENT_FILE`;
    /// its SHA-256 is recorded in `run.start` as `event_sha256`.
    public var event: [UInt8]?

    /// The largest event document accepted.
    public static let maxEventBytes = 1 << 20
    /// The variable that names the event file in the agent's environment.
    public static let eventVariable = "WARDEN_EVENT_FILE"

    public init(trigger: String, decision: String, event: [UInt8]? = nil) {
        self.trigger = trigger
        self.decision = decision
        self.event = event
    }
}

/// Why a run could not be set up; the agent was not launched (the CLI exits 125).
public struct RunSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line for the operator, naming what failed and what to do.
    public var message: String
    /// Why, when a caller must tell this failure apart from others.
    public var reason: Reason
    public init(_ message: String, reason: Reason = .other) {
        self.message = message
        self.reason = reason
    }
    public var description: String { message }

    /// The failures a front end acts on differently.
    public enum Reason: Sendable, Equatable {
        /// An observing (learn) run of an identity marked `enforce-only`.
        case learnRefused
        case other
    }

    /// The identity is `enforce-only`: its policy may not be learned from a run.
    public static func learnRefused(identity: String, policyPath: String) -> RunSetupError {
        RunSetupError("\(policyPath): identity \(identity) is enforce-only: it cannot be run in observing mode (warden learn); remove `enforce-only` from the identity to learn its policy, or use `warden run`",
                      reason: .learnRefused)
    }
}
