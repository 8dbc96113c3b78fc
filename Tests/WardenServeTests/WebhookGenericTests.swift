import Testing
import WardenAudit
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// Generic webhooks: signed timestamp and body, delivery ids, and which triggers may accept.
@Suite struct WebhookGenericTests {
    typealias F = WebhookFixtures

    @Test func deliveryToAHook() throws {
        let d = try F.deliver(F.hook(#"{"version":"1.2.3","targets":["eu","us"]}"#), .hook("deploy"))
        #expect(d.event == .webhook("deploy"))
        #expect(d.deliveryID == "d-1")
        #expect(d.payload["targets"] == ["eu", "us"])
        #expect(d.commit == nil)
        #expect(d.cloneURL == nil)
        #expect(d.verifiedSecrets == ["hook-key"])
        let decision = TriggerAuthorizer(triggers: WebhookTriggerFilter.eligible(F.triggers, for: d)).decide(d.event)
        #expect(decision.launches.map(\.trigger) == ["deploy"])
    }

    /// The replay key covers the signed timestamp and body, not the delivery id or the hook:
    /// printf '%s' '1765000000.{"deploy":"v1"}' | sha256sum
    @Test func replayKeyCoversWhatIsSigned() throws {
        let body = #"{"deploy":"v1"}"#
        let a = try F.deliver(F.hook(body, delivery: "a"), .hook("deploy"))
        #expect(a.replayKey == "webhook:ead392b82f5a4cdc2bcf9abd6d62505e9aa7ffeb48130676ace28b4ac3aadc53")
        #expect(try F.deliver(F.hook(body, delivery: "b"), .hook("deploy")).replayKey == a.replayKey)
        #expect(try F.deliver(F.hook(body, timestamp: F.now + 1, delivery: "a"), .hook("deploy")).replayKey != a.replayKey)
        // Parsing a generic delivery needs its timestamp.
        var r = F.hook(body)
        r.headers.removeAll { $0.name == "X-Warden-Timestamp" }
        #expect(F.rejection { () throws(WebhookRejection) in try WebhookParser.parse(r, endpoint: .hook("deploy"), secretName: "hook-key") }?.status == 400)
    }

    @Test func anyJSONValueIsAPayload() throws {
        #expect(try F.deliver(F.hook("[1,2]"), .hook("deploy")).payload == [1, 2])
        #expect(try F.deliver(F.hook("null"), .hook("deploy")).payload == .null)
    }

    @Test func deliveryIDAndBody() {
        func status(_ r: WebhookRequest) -> Int? { F.rejection { () throws(WebhookRejection) in try F.deliver(r, .hook("deploy")) }?.status }
        #expect(status(F.hook("{}", delivery: nil)) == 400)
        #expect(status(F.hook("{}", delivery: "x\ny")) == 400)
        #expect(status(F.hook("{}", delivery: String(repeating: "x", count: 129))) == 400)
        #expect(status(F.hook("not json")) == 400)
        #expect(status(F.hook(String(repeating: "[", count: 5000))) == 400)
        var form = F.hook("a=b")
        form.headers = form.headers.map { $0.name == "Content-Type" ? (name: $0.name, value: "application/x-www-form-urlencoded") : $0 }
        #expect(status(form) == 415)
    }

    /// Both secrets of a hook's triggers verify only their own deliveries; a secret that
    /// happens to hold the same value as another verifies for both.
    @Test func sharedValuesVerifyBothNames() throws {
        let auth = WebhookAuthenticator(secrets: ["hook-key": Array("same".utf8), "hook-other": Array("same".utf8)])
        let r = F.hook("{}", key: "same")
        let names = try auth.authenticate(r, endpoint: .hook("deploy"), candidates: F.triggers, now: F.now)
        #expect(names == ["hook-key", "hook-other"])
        let d = try WebhookParser.parse(r, endpoint: .hook("deploy"), verifiedSecrets: names)
        #expect(d.secretName == "hook-key")
        #expect(WebhookTriggerFilter.eligible(F.triggers, for: d).map(\.name) == ["deploy", "deploy-b"])
    }
}

/// Which triggers may accept a verified delivery.
@Suite struct WebhookFilterTests {
    typealias F = WebhookFixtures

    @Test func aTriggerWithoutSecretNeverAccepts() throws {
        let issue = #"{"action":"opened","issue":{"number":3},"repository":{"full_name":"acme/app"},"sender":{"login":"carol"}}"#
        let d = try F.deliver(F.github(issue, event: "issues"), .github)
        // Unfiltered, the authorizer would start `open-issues` (it has no secret)...
        #expect(TriggerAuthorizer(triggers: F.triggers).decide(d.event).launches.map(\.trigger) == ["open-issues"])
        // ...filtered, nothing accepts it.
        let eligible = WebhookTriggerFilter.eligible(F.triggers, for: d)
        #expect(!eligible.contains { $0.name == "open-issues" })
        #expect(!TriggerAuthorizer(triggers: eligible).decide(d.event).allowed)
        // Whatever names are claimed verified.
        #expect(WebhookTriggerFilter.eligible(F.triggers, endpoint: .hook("open"), verifiedSecrets: ["", "gh-key", "hook-key"]).isEmpty)
    }

    @Test func secretADoesNotOpenTriggerB() throws {
        let d = try F.deliver(F.github(F.pullRequest(), key: "other-key"), .github)
        #expect(d.verifiedSecrets == ["gh-other"])
        let eligible = WebhookTriggerFilter.eligible(F.triggers, for: d)
        #expect(eligible.map(\.name) == ["other-prs"])
        #expect(TriggerAuthorizer(triggers: eligible).decide(d.event).launches.map(\.trigger) == ["other-prs"])
        // A hook delivery verified by hook-other never reaches `deploy` (hook-key).
        let h = try F.deliver(F.hook("{}", key: "hook-secret-2"), .hook("deploy"))
        #expect(WebhookTriggerFilter.eligible(F.triggers, for: h).map(\.name) == ["deploy-b"])
    }

    @Test func secretsOfOtherEndpointsDoNotCount() {
        // gh-key verified a GitHub delivery; it opens no GitLab or webhook trigger.
        #expect(WebhookTriggerFilter.eligible(F.triggers, endpoint: .gitlab, verifiedSecrets: ["gh-key", "hook-key"]).isEmpty)
        #expect(WebhookTriggerFilter.eligible(F.triggers, endpoint: .hook("deploy"), verifiedSecrets: ["gh-key", "gl-token"]).isEmpty)
        #expect(WebhookTriggerFilter.eligible(F.triggers, endpoint: .hook("other"), verifiedSecrets: ["hook-key"]).isEmpty)
        #expect(WebhookTriggerFilter.eligible(F.triggers, endpoint: .github, verifiedSecrets: []).isEmpty)
    }
}

/// The one-call intake: authenticate, parse, filter, in that order.
@Suite struct WebhookIntakeTests {
    typealias F = WebhookFixtures
    let intake = WebhookIntake(triggers: F.triggers, secrets: F.secrets)

    @Test func receivesAndFilters() throws {
        let (d, eligible) = try intake.receive(F.github(F.pullRequest()), endpoint: .github, now: F.now)
        #expect(d.verifiedSecrets == ["gh-key"])
        #expect(eligible.map(\.name) == ["review-prs", "pushes"])
        let (h, hooks) = try intake.receive(F.hook("{}", key: "hook-secret-2"), endpoint: .hook("deploy"), now: F.now)
        #expect(h.event == .webhook("deploy"))
        #expect(hooks.map(\.name) == ["deploy-b"])
    }

    /// Nothing is parsed before the credential is checked: an unsigned hostile body gets 401, not 400.
    @Test func authenticatesBeforeParsing() {
        let r = WebhookRequest(headers: [("Content-Type", "text/plain")], body: Array(String(repeating: "[", count: 10_000).utf8))
        #expect(F.rejection { () throws(WebhookRejection) in try intake.receive(r, endpoint: .github, now: F.now) }?.status == 401)
        #expect(F.rejection { () throws(WebhookRejection) in try intake.receive(F.github("not json", key: "wrong"), endpoint: .github, now: F.now) }?.status == 403)
    }
}

/// The bridge to the HTTP layer's types.
@Suite struct WebhookServeBridgeTests {
    @Test func servedRequestsAndRejections() throws {
        let signed = WebhookFixtures.github(WebhookFixtures.pullRequest())
        let served = ServeRequest(method: "POST", path: "/hooks/github", headers: signed.headers, body: signed.body)
        let r = WebhookRequest(served)
        #expect(r.body == signed.body)
        #expect(try r.header("x-github-event") == "pull_request")
        let response = WebhookRejection(status: 415, "not \u{1b}json").response
        #expect(response.status == 415)
        #expect(response.body == Array("not \\x1bjson\n".utf8))
    }
}
