import Testing
import WardenPolicy
@testable import WardenServe

/// Signatures and tokens: what verifies, and every malformed, stale, misdirected or
/// borrowed credential that must not.
@Suite struct WebhookAuthenticatorTests {
    typealias F = WebhookFixtures
    let body = F.pullRequest()

    func auth(_ r: WebhookRequest, _ e: WebhookEndpoint, now: Int64 = F.now,
              candidates: [CheckedTrigger] = F.triggers) throws(WebhookRejection) -> Set<String> {
        try F.authenticator.authenticate(r, endpoint: e, candidates: candidates, now: now)
    }

    func status(_ r: WebhookRequest, _ e: WebhookEndpoint, now: Int64 = F.now) -> Int? {
        F.rejection { () throws(WebhookRejection) in try auth(r, e, now: now) }?.status
    }

    /// A request with the signature header replaced by `signature`.
    func githubSigned(_ signature: String) -> WebhookRequest {
        var r = F.github(body, key: nil)
        r.headers.append(("X-Hub-Signature-256", signature))
        return r
    }

    var goodSignature: String {
        WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(F.ghKey.utf8), message: Array(body.utf8)))
    }

    @Test func githubSignatureVerifies() throws {
        #expect(try auth(F.github(body), .github) == ["gh-key"])
        #expect(try auth(F.github(body, key: "other-key"), .github) == ["gh-other"])
        // Header names compare without regard to case; surrounding blanks are not part of the value.
        var r = F.github(body, key: nil)
        r.headers.append(("x-hub-signature-256", "  " + goodSignature + "\t"))
        #expect(try auth(r, .github) == ["gh-key"])
    }

    @Test func githubWrongOrForeignSignaturesAreForbidden() {
        #expect(status(F.github(body, key: "wrong-key"), .github) == 403)
        // A genuine signature of another body.
        let other = WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(F.ghKey.utf8), message: Array(F.pullRequest(action: "closed").utf8)))
        #expect(status(githubSigned(other), .github) == 403)
        // The signature one bit off, at the first and the last byte.
        var bytes = Array(goodSignature.utf8)
        bytes[7] = bytes[7] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(status(githubSigned(String(decoding: bytes, as: UTF8.self)), .github) == 403)
        bytes = Array(goodSignature.utf8)
        bytes[bytes.count - 1] = bytes[bytes.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(status(githubSigned(String(decoding: bytes, as: UTF8.self)), .github) == 403)
        // A generic webhook's signature scheme (timestamp.body) does not pass as GitHub's.
        let generic = WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(F.ghKey.utf8), message: Array("\(F.now).\(body)".utf8)))
        #expect(status(githubSigned(generic), .github) == 403)
    }

    @Test func githubMalformedSignaturesAreUnauthenticated() {
        let good = goodSignature
        let hex = String(good.dropFirst(7))
        for bad in [String(good.dropLast()), good + "0", "SHA256=" + hex, "Sha256=" + hex, hex, "sha1=" + hex, "sha256=" + hex.uppercased(),
                    "sha256=" + String(hex.dropLast()) + "g", "sha256= " + hex, "sha256=" + hex.prefix(32), "sha256=", "sha256=" + hex + hex] {
            #expect(status(githubSigned(bad), .github) == 401, "\(bad)")
        }
        #expect(status(F.github(body, key: nil), .github) == 401)
        // GitHub's legacy SHA-1 header alone is not enough.
        #expect(status(F.github(body, key: nil, extra: [("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")]), .github) == 401)
    }

    @Test func duplicatedCredentialHeadersAreAmbiguous() {
        // Even when both copies are the genuine signature.
        #expect(status(F.github(body, extra: [("X-HUB-SIGNATURE-256", goodSignature)]), .github) == 400)
        #expect(status(F.gitlab("{}", extra: [("x-gitlab-token", F.glToken)]), .gitlab) == 400)
        #expect(status(F.hook("{}", extra: [("X-Warden-Timestamp", String(F.now))]), .hook("deploy")) == 400)
        #expect(status(F.hook("{}", extra: [("X-Warden-Signature", "sha256=" + String(repeating: "0", count: 64))]), .hook("deploy")) == 400)
    }

    @Test func gitlabTokenVerifiesOnlyWhenWhole() throws {
        #expect(try auth(F.gitlab("{}"), .gitlab) == ["gl-token"])
        let real = F.glToken
        for bad in [String(real.dropLast()), String(real.prefix(1)), real + "0", real + " x", real.uppercased(), "x" + real, String(real.reversed())] {
            #expect(status(F.gitlab("{}", token: bad), .gitlab) == 403, "\(bad)")
        }
        #expect(status(F.gitlab("{}", token: nil), .gitlab) == 401)
        #expect(status(F.gitlab("{}", token: ""), .gitlab) == 401)
        #expect(status(F.gitlab("{}", token: String(repeating: "a", count: WebhookAuthenticator.maxTokenBytes + 1)), .gitlab) == 401)
        // A GitHub signature sent to GitLab's endpoint is not a token.
        #expect(status(F.github(body), .gitlab) == 401)
    }

    @Test func genericSignatureCoversTimestampAndBody() throws {
        #expect(try auth(F.hook(#"{"version":"1.2"}"#), .hook("deploy")) == ["hook-key"])
        #expect(try auth(F.hook(#"{"version":"1.2"}"#, key: "hook-secret-2"), .hook("deploy")) == ["hook-other"])
        // The signature of the body alone (GitHub's scheme) does not verify.
        var r = F.hook("{}", key: nil)
        r.headers.append(("X-Warden-Signature", WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(F.hookKey.utf8), message: Array("{}".utf8)))))
        #expect(status(r, .hook("deploy")) == 403)
        // A genuine signature replayed with a fresher timestamp does not verify.
        var replay = F.hook("{}", timestamp: F.now - 1000)
        replay.headers = replay.headers.map { $0.name == "X-Warden-Timestamp" ? (name: $0.name, value: String(F.now)) : $0 }
        #expect(status(replay, .hook("deploy")) == 403)
        // Another body under the same signature.
        var swapped = F.hook("{}")
        swapped.body = Array(#"{"version":"evil"}"#.utf8)
        #expect(status(swapped, .hook("deploy")) == 403)
        #expect(status(F.hook("{}", key: "wrong"), .hook("deploy")) == 403)
        #expect(status(F.hook("{}", key: nil), .hook("deploy")) == 401)
    }

    @Test func genericTimestampMustBeFresh() throws {
        let window = ServeLimits.replayWindowSeconds
        #expect(try auth(F.hook("{}", timestamp: F.now - window), .hook("deploy")) == ["hook-key"])
        #expect(try auth(F.hook("{}", timestamp: F.now + window), .hook("deploy")) == ["hook-key"])
        #expect(status(F.hook("{}", timestamp: F.now - window - 1), .hook("deploy")) == 401)
        #expect(status(F.hook("{}", timestamp: F.now + window + 1), .hook("deploy")) == 401)
        #expect(status(F.hook("{}", timestamp: 0), .hook("deploy")) == 401)
        // Extreme clocks do not overflow.
        #expect(status(F.hook("{}", timestamp: Int64.max), .hook("deploy"), now: Int64.min) == 401)
        #expect(status(F.hook("{}", timestamp: 5), .hook("deploy"), now: Int64.min) == 401)
        for bad in ["-5", "+1765000000", "1765000000.0", "1e9", " ", "0x10", "17650000001765000000", "١٧٦٥٠٠٠٠٠٠"] {
            var r = F.hook("{}")
            r.headers = r.headers.map { $0.name == "X-Warden-Timestamp" ? (name: $0.name, value: bad) : $0 }
            #expect(status(r, .hook("deploy")) == 401, "\(bad)")
        }
    }

    @Test func endpointsWithoutUsableSecretsRefuseEverything() {
        // Trigger `unsigned` listens on "open" without a secret: nothing can authenticate there.
        #expect(status(F.hook("{}"), .hook("open")) == 403)
        // Trigger `unloaded-hook`'s secret has no value loaded.
        #expect(status(F.hook("{}"), .hook("unloaded")) == 403)
        // No trigger at all listens on this hook.
        #expect(status(F.hook("{}"), .hook("nobody")) == 403)
        // Candidates of other sources are ignored: GitLab triggers do not authenticate GitHub.
        let gitlabOnly = F.triggers.filter { $0.source == .gitlab }
        #expect(F.rejection { () throws(WebhookRejection) in try auth(F.github(body, key: F.glToken), .github, candidates: gitlabOnly) }?.status == 403)
        // A secret whose value is empty verifies nothing, not even an empty-key signature.
        let empty = WebhookAuthenticator(secrets: ["gh-key": [], "gh-other": []])
        #expect(F.rejection { () throws(WebhookRejection) in
            try empty.authenticate(F.github(body, key: ""), endpoint: .github, candidates: F.triggers, now: F.now)
        }?.status == 403)
    }

    @Test func oversizedBodiesAreRefusedBeforeHashing() {
        let r = WebhookRequest(headers: [("X-Hub-Signature-256", goodSignature)], body: [UInt8](repeating: 0x20, count: ServeLimits.maxBodyBytes + 1))
        #expect(status(r, .github) == 413)
    }

    /// No rejection reason ever repeats a secret, a token or a signature.
    @Test func reasonsNeverEchoCredentials() {
        let sig = goodSignature
        let token = F.glToken + "x"
        var reasons: [String] = []
        func collect(_ r: WebhookRequest, _ e: WebhookEndpoint) {
            if let x = F.rejection({ () throws(WebhookRejection) in try auth(r, e) }) { reasons.append(x.reason) }
        }
        collect(githubSigned(sig.uppercased()), .github)
        var swapped = F.github(body)
        swapped.body = Array("{}".utf8)
        collect(swapped, .github)
        collect(F.gitlab("{}", token: token), .gitlab)
        collect(F.gitlab("{}", token: String(F.glToken.dropLast())), .gitlab)
        collect(F.hook("{}", key: "wrong"), .hook("deploy"))
        #expect(reasons.count == 5)
        for r in reasons {
            for secret in [F.ghKey, F.glToken, F.hookKey, String(F.glToken.dropLast()), String(sig.dropFirst(7)), String(sig.dropFirst(7)).uppercased()] {
                #expect(!r.contains(secret), "\(r)")
            }
            #expect(r.utf8.count <= WebhookRejection.maxReasonBytes)
            #expect(r.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
        }
    }

    @Test func constantTimeComparisons() {
        let a: [UInt8] = Array(0..<32)
        #expect(WebhookSignature.constantTimeEqual(a, a))
        #expect(!WebhookSignature.constantTimeEqual(a, Array(a.dropLast())))
        #expect(!WebhookSignature.constantTimeEqual([], [0]))
        #expect(WebhookSignature.constantTimeEqual([], []))
        for i in 0..<32 {
            var b = a
            b[i] ^= 0x80
            #expect(!WebhookSignature.constantTimeEqual(a, b))
        }
        #expect(WebhookSignature.tokenEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!WebhookSignature.tokenEqual(Array("ab".utf8), Array("abc".utf8)))
        #expect(!WebhookSignature.tokenEqual([], Array("abc".utf8)))
    }

    /// The authenticator is shared by every connection: many concurrent checks, mixed good
    /// and bad, each get their own answer.
    @Test func concurrentChecksAgree() async {
        let good = F.github(body), bad = F.github(body, key: "wrong-key"), gl = F.gitlab("{}")
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<300 {
                group.addTask {
                    let (r, e): (WebhookRequest, WebhookEndpoint) = i % 3 == 0 ? (good, .github) : i % 3 == 1 ? (bad, .github) : (gl, .gitlab)
                    let ok = (try? F.authenticator.authenticate(r, endpoint: e, candidates: F.triggers, now: F.now)) != nil
                    return (i, ok)
                }
            }
            var out: [(Int, Bool)] = []
            for await x in group { out.append(x) }
            return out
        }
        #expect(results.count == 300)
        for (i, ok) in results { #expect(ok == (i % 3 != 1)) }
    }
}
