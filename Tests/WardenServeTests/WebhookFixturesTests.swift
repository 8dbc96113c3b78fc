import Testing
import WardenAudit
import WardenPolicy
@testable import WardenServe

/// Policies, secrets and signed requests the webhook suites share, and the known-answer
/// vectors that tie the signing helper (used to make signed fixtures) to independent values.
enum WebhookFixtures {
    static let policy = """
        warden 1
        secret gh-key from file "/etc/warden/gh"
        secret gh-other from file "/etc/warden/gh2"
        secret gl-token from file "/etc/warden/gl"
        secret hook-key from file "/etc/warden/hook"
        secret hook-other from file "/etc/warden/hook2"
        secret unloaded from file "/etc/warden/none"
        identity reviewer {
          allow fs read "/usr"
        }
        trigger review-prs {
          identity reviewer
          on github pull_request opened, synchronize
          repository "acme/*"
          branch "main"
          secret gh-key
          fields "pull_request.number", "pull_request.title", "pull_request.labels.0.name", "missing.field"
          run "review"
        }
        trigger other-prs {
          identity reviewer
          on github pull_request
          repository "acme/*"
          secret gh-other
          run "review"
        }
        trigger pushes {
          identity reviewer
          on github push
          repository "acme/*"
          branch "main"
          secret gh-key
          run "build"
        }
        trigger open-issues {
          identity reviewer
          on github issues
          repository "acme/*"
          run "triage"
        }
        trigger mr {
          identity reviewer
          on gitlab merge_request open
          repository "grp/**"
          secret gl-token
          run "review"
        }
        trigger deploy {
          identity reviewer
          on webhook "deploy"
          secret hook-key
          fields "version", "targets.1"
          run "deploy"
        }
        trigger deploy-b {
          identity reviewer
          on webhook "deploy"
          secret hook-other
          run "deploy"
        }
        trigger unsigned {
          identity reviewer
          on webhook "open"
          run "x"
        }
        trigger unloaded-hook {
          identity reviewer
          on webhook "unloaded"
          secret unloaded
          run "x"
        }
        """

    static let triggers: [CheckedTrigger] = {
        let loader = PolicyLoader(provider: InMemorySourceProvider(["p.warden": policy]))
        guard let a = try? loader.analyze("p.warden"), !a.hasErrors else { return [] }
        return a.policy.triggers
    }()

    static func trigger(_ name: String) throws -> CheckedTrigger {
        try #require(triggers.first { $0.name == name }, "trigger \(name) in the fixture policy")
    }

    static let ghKey = "warden-test-key"
    static let glToken = "glpat-token-0123456789"
    static let hookKey = "hook-secret-1"
    static let secrets: [String: [UInt8]] = [
        "gh-key": Array(ghKey.utf8), "gh-other": Array("other-key".utf8), "gl-token": Array(glToken.utf8),
        "hook-key": Array(hookKey.utf8), "hook-other": Array("hook-secret-2".utf8),
    ]
    static let authenticator = WebhookAuthenticator(secrets: secrets)
    static let now: Int64 = 1_765_000_000

    static func github(_ body: String, event: String = "pull_request", key: String? = ghKey,
                       delivery: String? = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                       contentType: String = "application/json", extra: [(String, String)] = []) -> WebhookRequest {
        var h: [(name: String, value: String)] = [("Content-Type", contentType), ("X-GitHub-Event", event)]
        if let delivery { h.append(("X-GitHub-Delivery", delivery)) }
        if let key {
            h.append(("X-Hub-Signature-256", WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(key.utf8), message: Array(body.utf8)))))
        }
        for (n, v) in extra { h.append((n, v)) }
        return WebhookRequest(headers: h, body: Array(body.utf8))
    }

    static func gitlab(_ body: String, token: String? = glToken, event: String = "Merge Request Hook",
                       uuid: String? = "2d3d8a4b-9c1f-4f6e-8c1e-0d6b1a2f3c4d", extra: [(String, String)] = []) -> WebhookRequest {
        var h: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Gitlab-Event", event)]
        if let uuid { h.append(("X-Gitlab-Event-UUID", uuid)) }
        if let token { h.append(("X-Gitlab-Token", token)) }
        for (n, v) in extra { h.append((n, v)) }
        return WebhookRequest(headers: h, body: Array(body.utf8))
    }

    static func hook(_ body: String, timestamp: Int64 = now, key: String? = hookKey, delivery: String? = "d-1",
                     extra: [(String, String)] = []) -> WebhookRequest {
        var h: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Warden-Timestamp", String(timestamp))]
        if let delivery { h.append(("X-Warden-Delivery", delivery)) }
        if let key {
            let mac = WebhookSignature.hmacSHA256(key: Array(key.utf8), message: Array("\(timestamp).\(body)".utf8))
            h.append(("X-Warden-Signature", WebhookSignature.header(mac)))
        }
        for (n, v) in extra { h.append((n, v)) }
        return WebhookRequest(headers: h, body: Array(body.utf8))
    }

    /// The rejection `f` throws, or nil when it returns.
    static func rejection<T>(_ f: () throws(WebhookRejection) -> T) -> WebhookRejection? {
        do throws(WebhookRejection) { _ = try f(); return nil } catch { return error }
    }

    /// Authenticates against every fixture trigger, then parses.
    static func deliver(_ request: WebhookRequest, _ endpoint: WebhookEndpoint) throws(WebhookRejection) -> WebhookDelivery {
        let verified = try authenticator.authenticate(request, endpoint: endpoint, candidates: triggers, now: now)
        return try WebhookParser.parse(request, endpoint: endpoint, verifiedSecrets: verified)
    }

    static let sha1 = "0123456789abcdef0123456789abcdef01234567"
    static let sha2 = "89abcdef0123456789abcdef0123456789abcdef"

    /// `s` as a JSON string's contents (quotes, backslashes and controls escaped).
    static func esc(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0..<0x20, 0x7F: out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// A pull_request delivery, pretty-printed the way a person would write one.
    static func pullRequest(action: String = "opened", repository: String = "acme/app", base: String = "main",
                            head: String = sha1, cloneURL: String = "https://github.com/acme/app.git", sender: String = "alice",
                            title: String = "Bump deps") -> String {
        """
        {
          "action": "\(esc(action))",
          "number": 7,
          "pull_request": {
            "number": 7,
            "title": "\(esc(title))",
            "head": {"ref": "bump", "sha": "\(esc(head))"},
            "base": {"ref": "\(esc(base))", "sha": "\(sha2)"},
            "labels": [{"name": "deps"}, {"name": "ci"}]
          },
          "repository": {"full_name": "\(esc(repository))", "clone_url": "\(esc(cloneURL))", "default_branch": "main"},
          "sender": {"login": "\(esc(sender))"}
        }
        """
    }
}

/// Known-answer vectors: GitHub's documented example and values computed with openssl.
@Suite struct WebhookFixturesTests {
    @Test func fixturePolicyChecks() {
        #expect(WebhookFixtures.triggers.count == 9)
    }

    /// GitHub's documented test values (docs.github.com, "Validating webhook deliveries":
    /// secret "It's a Secret to Everybody", payload "Hello, World!").
    @Test func githubDocumentedExample() {
        let mac = WebhookSignature.hmacSHA256(key: Array("It's a Secret to Everybody".utf8), message: Array("Hello, World!".utf8))
        #expect(WebhookSignature.header(mac) == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    /// `printf '%s' '{"zen":"Keep it logically awesome."}' | openssl dgst -sha256 -hmac 'warden-test-key'`
    /// `printf '%s' '1765000000.{"deploy":"v1"}' | openssl dgst -sha256 -hmac 'hook-secret-1'`
    /// `printf '' | openssl dgst -sha256 -hmac 'k'`
    @Test func opensslVectors() {
        func mac(_ key: String, _ message: String) -> String {
            WebhookSignature.hex(WebhookSignature.hmacSHA256(key: Array(key.utf8), message: Array(message.utf8)))
        }
        #expect(mac("warden-test-key", #"{"zen":"Keep it logically awesome."}"#) == "9ebe83c7c88ffc09b20b9f0eef57e40497afad5076f7e4c7fc8d39b546b3146f")
        #expect(mac("hook-secret-1", #"1765000000.{"deploy":"v1"}"#) == "97225b7edc533ac6a5e1c8b7ac297cc3421f7475b9dfc29b778023a724414786")
        #expect(mac("k", "") == "8bb990c40a7d61cb97597a942125025be50ac8beb74436e3735b98893a7f6620")
    }

    /// The documented GitHub example goes through the authenticator end to end.
    @Test func documentedExampleAuthenticates() throws {
        let request = WebhookRequest(headers: [("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")],
                                     body: Array("Hello, World!".utf8))
        let auth = WebhookAuthenticator(secrets: ["gh-key": Array("It's a Secret to Everybody".utf8)])
        let names = try auth.authenticate(request, endpoint: .github, candidates: WebhookFixtures.triggers, now: 0)
        #expect(names == ["gh-key"])
    }

    /// The generic webhook's documented vector (`<timestamp>.<body>`) verifies.
    @Test func genericVectorAuthenticates() throws {
        let request = WebhookRequest(headers: [("X-Warden-Timestamp", "1765000000"),
                                               ("X-Warden-Signature", "sha256=97225b7edc533ac6a5e1c8b7ac297cc3421f7475b9dfc29b778023a724414786")],
                                     body: Array(#"{"deploy":"v1"}"#.utf8))
        let names = try WebhookFixtures.authenticator.authenticate(request, endpoint: .hook("deploy"), candidates: WebhookFixtures.triggers,
                                                                   now: 1_765_000_100)
        #expect(names == ["hook-key"])
    }
}
