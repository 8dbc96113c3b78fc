import WardenAudit
import WardenIdentity
#if canImport(Glibc)
import Glibc
#endif

/// How a run's identity token is issued (see docs/identity.md).
public struct RunIdentityOptions: Sendable, Equatable {
    /// The issuer's key directory; nil: `IssuerKeys.defaultDirectory` (`$WARDEN_IDENTITY_KEYS`, ...).
    public var keyDirectory: String?
    /// The `iss` claim; nil: `$WARDEN_ISSUER`, else `https://warden.invalid/<host name>`.
    public var issuer: String?
    /// The `aud` claim.
    public var audience: String = "warden"

    public init(keyDirectory: String? = nil, issuer: String? = nil, audience: String = "warden") {
        self.keyDirectory = keyDirectory
        self.issuer = issuer
        self.audience = audience
    }
}

/// A run's identity token: signed at launch, shown to the agent as a read-only file named by
/// `$WARDEN_ID_TOKEN_FILE`, its issuance recorded as `identity.token` right after `run.start`.
struct RunIdentityToken {
    static let environmentVariable = "WARDEN_ID_TOKEN_FILE"
    /// Lifetime when the run has no time limit.
    static let defaultLifetime: Int64 = 3600

    /// The signed token (the agent's credential; never logged).
    var token: String
    var claims: RunTokenClaims
    var keyID: String
    /// The key directory, when this run created the first key in it.
    var createdKeyDirectory: String?

    /// The record written right after `run.start` (never the token itself).
    var auditEvent: AuditEvent {
        AuditEvent(kind: AuditKind.identityToken, fields: [
            "kid": .string(keyID), "jti": .string(claims.tokenID), "sub": .string(claims.subject),
            "aud": .string(claims.audience), "iss": .string(claims.issuer), "exp": .int(claims.expiresAt),
        ])
    }

    /// Signs the token for one run.
    static func issue(options: RunIdentityOptions, host: HostFacts, start: RunStartInfo, runID: String,
                      lifetime: Duration?, now: Int64) throws(RunSetupError) -> RunIdentityToken {
        let directory = options.keyDirectory ?? IssuerKeys.defaultDirectory(environment: host.environment, uid: host.uid)
        let keys = IssuerKeys(directory: directory)
        let key: IssuerSigningKey
        let created: Bool
        do { (key, created) = try keys.currentOrCreate() } catch {
            throw RunSetupError("identity token: \(error) (set $WARDEN_IDENTITY_KEYS to another directory if needed)")
        }
        let git = WorkspaceGitFacts.read(workspace: start.workspace)
        let seconds = lifetime.map { max(Int64(1), $0.components.seconds) } ?? defaultLifetime
        let claims = RunTokenClaims(
            issuer: options.issuer ?? IssuerKeys.defaultIssuer(environment: host.environment, hostName: host.hostName),
            subject: start.identity, audience: options.audience, runID: runID, policySHA256: start.policySHA256,
            planSHA256: start.planSHA256, repository: git.repository, commit: git.commit, issuedAt: now,
            expiresAt: now + seconds)
        let token: String
        do { token = try RunToken.sign(claims, with: key) } catch { throw RunSetupError("identity token: \(error)") }
        return RunIdentityToken(token: token, claims: claims, keyID: key.publicKey.keyID,
                                createdKeyDirectory: created ? directory : nil)
    }

    /// The token as the file the agent reads (see `RunFile`).
    var file: RunFile {
        RunFile(name: "id-token", bytes: Array((token + "\n").utf8), environmentVariable: Self.environmentVariable, what: "identity token")
    }

    /// Writes the token (mode 0444) into the run directory and shows it to the agent (see
    /// `RunFile.install`); nil when its world has no place for it (the caller warns).
    func install(runDirectory: String, plan: inout AgentLaunchPlan) throws(RunSetupError) -> String? {
        try file.install(runDirectory: runDirectory, plan: &plan)
    }
}
