import WardenPolicy

/// Checks that a delivery comes from whoever holds a declared secret: GitHub's
/// `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), GitLab's `X-Gitlab-Token` (the
/// secret itself), or a generic webhook's `X-Warden-Signature` (HMAC-SHA256 of
/// `<X-Warden-Timestamp>.<raw body>`, the timestamp within `ServeLimits.replayWindowSeconds`).
///
/// What the credential covers: GitHub's and Warden's signatures cover the body (and Warden's
/// the timestamp), not the other headers (event name, delivery id) nor the path; GitLab's
/// token covers nothing. Whoever holds a secret can send anything the triggers using it accept.
public struct WebhookAuthenticator: Sendable {
    let secrets: [String: [UInt8]]

    /// `secrets` maps a declared secret's name to its value: the HMAC key (GitHub, generic
    /// webhook) or the token (GitLab). An empty value never verifies anything.
    public init(secrets: [String: [UInt8]]) {
        self.secrets = secrets
    }

    /// The longest GitLab token looked at, in bytes (GitLab limits it far below this).
    public static let maxTokenBytes = 1024

    /// Checks `request` against the secrets of `candidates` (the policy's triggers for this
    /// endpoint, see `WebhookEndpoint.candidates(in:)`; others are ignored) and returns the
    /// names of the secrets that verify it, at least one. Throws 401 when the credential is
    /// missing or malformed (or a generic webhook's timestamp is outside the replay window),
    /// 403 when no usable secret verifies it, 400 for duplicated headers, 413 for an oversized body.
    public func authenticate(_ request: WebhookRequest, endpoint: WebhookEndpoint, candidates: [CheckedTrigger],
                             now: Int64) throws(WebhookRejection) -> Set<String> {
        guard request.body.count <= ServeLimits.maxBodyBytes else {
            throw WebhookRejection(status: 413, "the body is larger than \(ServeLimits.maxBodyBytes) bytes")
        }
        let check: ([UInt8]) -> Bool
        switch endpoint {
        case .github:
            guard let header = try request.header("X-Hub-Signature-256"), !header.isEmpty else {
                throw .unauthenticated("header X-Hub-Signature-256 is missing: give the GitHub hook a secret")
            }
            guard let mac = WebhookSignature.parse(header) else {
                throw .unauthenticated("header X-Hub-Signature-256 is not sha256= followed by 64 lowercase hex digits")
            }
            let body = request.body
            check = { key in WebhookSignature.constantTimeEqual(WebhookSignature.hmacSHA256(key: key, message: body), mac) }
        case .gitlab:
            guard let token = try request.header("X-Gitlab-Token"), !token.isEmpty else {
                throw .unauthenticated("header X-Gitlab-Token is missing: give the GitLab hook a secret token")
            }
            let given = Array(token.utf8)
            guard given.count <= Self.maxTokenBytes else {
                throw .unauthenticated("header X-Gitlab-Token is longer than \(Self.maxTokenBytes) bytes")
            }
            check = { key in WebhookSignature.tokenEqual(given, key) }
        case .hook:
            let timestamp = try Self.timestamp(request, now: now)
            guard let header = try request.header("X-Warden-Signature"), !header.isEmpty else {
                throw .unauthenticated("header X-Warden-Signature is missing")
            }
            guard let mac = WebhookSignature.parse(header) else {
                throw .unauthenticated("header X-Warden-Signature is not sha256= followed by 64 lowercase hex digits")
            }
            let message = Array(timestamp.utf8) + [UInt8(ascii: ".")] + request.body
            check = { key in WebhookSignature.constantTimeEqual(WebhookSignature.hmacSHA256(key: key, message: message), mac) }
        }

        let declared = Set(endpoint.candidates(in: candidates).compactMap(\.secret))
        guard !declared.isEmpty else {
            throw .forbidden("no trigger for \(endpoint.path) declares a secret, so no delivery to it is accepted")
        }
        let usable = declared.sorted().filter { !(secrets[$0] ?? []).isEmpty }
        guard !usable.isEmpty else {
            throw .forbidden("the secrets of the triggers for \(endpoint.path) are not loaded")
        }
        // Every usable secret is tried (no early exit), so timing does not tell which matched.
        var verified: Set<String> = []
        for name in usable where check(secrets[name] ?? []) { verified.insert(name) }
        guard !verified.isEmpty else {
            switch endpoint {
            case .gitlab: throw .forbidden("the X-Gitlab-Token matches no secret of the triggers for \(endpoint.path)")
            default: throw .forbidden("the signature matches no secret of the triggers for \(endpoint.path)")
            }
        }
        return verified
    }

    /// A generic webhook's `X-Warden-Timestamp` (unix seconds, 1-19 digits), within the
    /// replay window of `now`.
    static func timestamp(_ request: WebhookRequest, now: Int64) throws(WebhookRejection) -> String {
        guard let text = try request.header("X-Warden-Timestamp"), !text.isEmpty else {
            throw .unauthenticated("header X-Warden-Timestamp is missing")
        }
        guard text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int64(text) else {
            throw .unauthenticated("header X-Warden-Timestamp is not unix seconds (decimal digits)")
        }
        let (skew, overflow) = now.subtractingReportingOverflow(seconds)
        guard !overflow, skew.magnitude <= ServeLimits.replayWindowSeconds.magnitude else {
            throw .unauthenticated("X-Warden-Timestamp \(seconds) is more than \(ServeLimits.replayWindowSeconds) seconds from the server's clock \(now)")
        }
        return text
    }
}
