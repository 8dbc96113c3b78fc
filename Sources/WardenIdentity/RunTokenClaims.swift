/// The claims of a run identity token, written in a fixed order so the same facts always
/// give the same payload bytes: iss, sub, aud, run, policy_sha256, plan_sha256, repository
/// (when known), commit (when known), iat, nbf, exp, jti.
public struct RunTokenClaims: Sendable, Equatable {
    /// `iss`: the issuer URL (its `/.well-known/openid-configuration` names the JWKS).
    public var issuer: String
    /// `sub`: the identity the agent runs as.
    public var subject: String
    /// `aud`: who the token is for (`warden` by default).
    public var audience: String
    /// `run`: the run id of the `run.start` audit record.
    public var runID: String
    /// `policy_sha256`, `plan_sha256`: the hashes `run.start` records.
    public var policySHA256: String
    public var planSHA256: String
    /// `repository`: the workspace's `origin` remote URL, without credentials.
    public var repository: String?
    /// `commit`: the workspace's HEAD commit id.
    public var commit: String?
    /// `iat`, `nbf`, `exp`: seconds since the epoch.
    public var issuedAt: Int64
    public var notBefore: Int64
    public var expiresAt: Int64
    /// `jti`: a random token id (22 base64url characters, 128 bits).
    public var tokenID: String

    public init(issuer: String, subject: String, audience: String, runID: String, policySHA256: String,
                planSHA256: String, repository: String? = nil, commit: String? = nil, issuedAt: Int64,
                notBefore: Int64? = nil, expiresAt: Int64, tokenID: String = RunTokenClaims.newTokenID()) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.runID = runID
        self.policySHA256 = policySHA256
        self.planSHA256 = planSHA256
        self.repository = repository
        self.commit = commit
        self.issuedAt = issuedAt
        self.notBefore = notBefore ?? issuedAt
        self.expiresAt = expiresAt
        self.tokenID = tokenID
    }

    /// 128 random bits (the system's CSPRNG: getrandom on Linux), base64url.
    public static func newTokenID() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<2 { withUnsafeBytes(of: rng.next() as UInt64) { bytes += $0 } }
        return Base64URL.encode(bytes)
    }

    /// The compact JSON payload.
    public var json: String {
        var w = JSONObjectWriter()
        w.string("iss", issuer)
        w.string("sub", subject)
        w.string("aud", audience)
        w.string("run", runID)
        w.string("policy_sha256", policySHA256)
        w.string("plan_sha256", planSHA256)
        if let repository { w.string("repository", repository) }
        if let commit { w.string("commit", commit) }
        w.integer("iat", issuedAt)
        w.integer("nbf", notBefore)
        w.integer("exp", expiresAt)
        w.string("jti", tokenID)
        return w.json
    }

    /// Reads claims from a verified payload. Every claim Warden writes is required except
    /// `repository` and `commit`; `aud` may also be an array holding one string.
    public init(_ payload: JSONValue) throws(IdentityError) {
        func text(_ name: String) throws(IdentityError) -> String {
            guard let v = payload[name]?.stringValue else { throw .invalidToken("claim \(name) missing or not a string") }
            return v
        }
        func number(_ name: String) throws(IdentityError) -> Int64 {
            guard let v = payload[name]?.integerValue else { throw .invalidToken("claim \(name) missing or not an integer") }
            return v
        }
        func optional(_ name: String) throws(IdentityError) -> String? {
            guard let v = payload[name] else { return nil }
            guard let s = v.stringValue else { throw .invalidToken("claim \(name) is not a string") }
            return s
        }
        guard case .object = payload else { throw .invalidToken("the payload is not a JSON object") }
        let audience: String
        switch payload["aud"] {
        case .string(let s)?: audience = s
        case .array(let items)? where items.count == 1 && items[0].stringValue != nil: audience = items[0].stringValue!
        default: throw .invalidToken("claim aud missing or not a string")
        }
        self.init(issuer: try text("iss"), subject: try text("sub"), audience: audience, runID: try text("run"),
                  policySHA256: try text("policy_sha256"), planSHA256: try text("plan_sha256"),
                  repository: try optional("repository"), commit: try optional("commit"),
                  issuedAt: try number("iat"), notBefore: try number("nbf"), expiresAt: try number("exp"),
                  tokenID: try text("jti"))
    }
}
