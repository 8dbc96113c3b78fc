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
    /// Where the agent sees the token: a read-only bind in its fresh root, unless a grant
    /// covers that path (then `/tmp/.warden/id-token` in the run's own `${tmp}`).
    static let mountedPath = "/run/warden/id-token"
    static let tmpRelativePath = ".warden/id-token"
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

    /// Writes the token (mode 0444) into the run directory and shows it to the agent:
    /// mounted read-only at `mountedPath` when no grant covers it, else in the run's `${tmp}`
    /// when the agent has one, else nowhere (returns nil: the caller warns). Adds the mount,
    /// a Landlock read rule and `WARDEN_ID_TOKEN_FILE` to `plan`.
    func install(runDirectory: String, plan: inout AgentLaunchPlan) throws(RunSetupError) -> String? {
        let covered = plan.world.grants.contains { Self.mountedPath.hasPrefix($0.path == "/" ? "/" : $0.path + "/") }
            || plan.world.symlinks.contains { Self.mountedPath.hasPrefix($0.path + "/") }
        let agentPath: String
        if !covered {
            let file = runDirectory + "/id-token"
            try write(file)
            plan.spec.mounts.append(.grant(path: Self.mountedPath, source: file, writable: false, exec: false))
            plan.spec.landlock?.rules.append(.init(path: Self.mountedPath, access: .read))
            agentPath = Self.mountedPath
        } else if plan.world.grants.contains(where: { $0.path == AgentWorld.agentTmp }) {
            let dir = plan.hostTmp + "/.warden"
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw RunSetupError("identity token: cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            try write(plan.hostTmp + "/" + Self.tmpRelativePath)
            agentPath = AgentWorld.agentTmp + "/" + Self.tmpRelativePath
        } else {
            return nil
        }
        plan.spec.environment.removeAll { $0.hasPrefix(Self.environmentVariable + "=") }
        plan.spec.environment.append(Self.environmentVariable + "=" + agentPath)
        return agentPath
    }

    func write(_ path: String) throws(RunSetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw RunSetupError("identity token: cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((token + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RunSetupError("identity token: cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        _ = fchmod(fd, 0o444)
    }
}
