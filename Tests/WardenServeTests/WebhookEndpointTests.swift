import Testing
import WardenPolicy
@testable import WardenServe

/// Paths to endpoints, header lookups and content types.
@Suite struct WebhookEndpointTests {
    @Test func pathsNameEndpoints() {
        #expect(WebhookEndpoint.parse(path: "/hooks/github") == .github)
        #expect(WebhookEndpoint.parse(path: "/hooks/gitlab") == .gitlab)
        #expect(WebhookEndpoint.parse(path: "/hooks/webhook/deploy") == .hook("deploy"))
        #expect(WebhookEndpoint.parse(path: "/hooks/webhook/a-b_9") == .hook("a-b_9"))
        let longest = String(repeating: "a", count: 64)
        #expect(WebhookEndpoint.parse(path: "/hooks/webhook/" + longest) == .hook(longest))
        #expect(WebhookEndpoint.hook("deploy").source == .webhook)
        #expect(WebhookEndpoint.github.source == .github)
        #expect(WebhookEndpoint.gitlab.source == .gitlab)
        #expect(WebhookEndpoint.hook("x").path == "/hooks/webhook/x")
    }

    @Test func everythingElseIsNotAnEndpoint() {
        for p in ["", "/", "/hooks", "/hooks/", "/hooks/github/", "/hooks/GitHub", "/HOOKS/github", "/hooks/github?x=1", "/hooks/github#f",
                  "//hooks/github", "/hooks//github", "/hooks/webhook", "/hooks/webhook/", "/hooks/webhook/" + String(repeating: "a", count: 65),
                  "/hooks/webhook/a/b", "/hooks/webhook/a%2Fb", "/hooks/webhook/Deploy", "/hooks/webhook/de ploy", "/hooks/webhook/../github",
                  "/hooks/webhook/..", "/hooks/webhook/.", "/hooks/webhook/a\u{0}", "/hooks/webhook/a\n", "/hooks/webhook/dépLoy",
                  "/hooks/schedule", "/hooks/manual", "hooks/github", "/hooks/github\u{0}", "/hooks/webhook/deploy?sig=1"] {
            #expect(WebhookEndpoint.parse(path: p) == nil, "\(p)")
        }
    }

    @Test func candidatesAreTheEndpointsTriggers() {
        let all = WebhookFixtures.triggers
        #expect(WebhookEndpoint.github.candidates(in: all).map(\.name) == ["review-prs", "other-prs", "pushes", "open-issues"])
        #expect(WebhookEndpoint.gitlab.candidates(in: all).map(\.name) == ["mr"])
        #expect(WebhookEndpoint.hook("deploy").candidates(in: all).map(\.name) == ["deploy", "deploy-b"])
        #expect(WebhookEndpoint.hook("nobody").candidates(in: all).isEmpty)
    }

    @Test func headerLookup() throws {
        let r = WebhookRequest(headers: [("Content-Type", " application/json "), ("X-One", "1"), ("x-two", "a"), ("X-TWO", "b")], body: [])
        #expect(try r.header("content-type") == "application/json")
        #expect(try r.header("X-ONE") == "1")
        #expect(try r.header("X-Missing") == nil)
        #expect(WebhookFixtures.rejection { () throws(WebhookRejection) in try r.header("X-Two") }?.status == 400)
        // A name that differs beyond ASCII case is another header.
        #expect(try r.header("X-One ") == nil)
        #expect(try r.header("X-Onè") == nil)
    }

    @Test func contentTypes() {
        func check(_ ct: String?) -> WebhookRejection? {
            let h: [(name: String, value: String)] = ct.map { [("Content-Type", $0)] } ?? []
            return WebhookFixtures.rejection { () throws(WebhookRejection) in try WebhookRequest(headers: h, body: []).requireJSONContentType("GitHub") }
        }
        for ok in ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"] {
            #expect(check(ok) == nil, "\(ok)")
        }
        let form = check("application/x-www-form-urlencoded")
        #expect(form?.status == 415)
        #expect(form?.reason.contains("application/json") == true)
        for bad in [nil, "", "text/plain", "application/jsonx", "application/json-patch+json", "multipart/form-data", "application/json\u{1b}[2J"] {
            #expect(check(bad)?.status == 415, "\(String(describing: bad))")
        }
        // The reason quoting a hostile content type is escaped printable ASCII.
        let hostile = check("text/\u{1b}]0;pwned\u{7}\u{202e}" + String(repeating: "x", count: 500))
        #expect(hostile?.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } == true)
        #expect((hostile?.reason.utf8.count ?? 999) <= WebhookRejection.maxReasonBytes)
        #expect(hostile?.reason.contains("\\x1b") == true)
    }

    @Test func rejectionReasonsAreBoundedASCII() {
        let r = WebhookRejection(status: 400, "x \u{1b}[31m é \u{0} " + String(repeating: "ü", count: 300))
        #expect(r.reason.utf8.count <= WebhookRejection.maxReasonBytes)
        #expect(r.reason.hasPrefix("x \\x1b[31m \\u00e9 \\x00 "))
        #expect(r.reason.hasSuffix("..."))
        #expect(WebhookText.quote("a\nb", maxScalars: 2) == "'a\\n...'")
    }
}
