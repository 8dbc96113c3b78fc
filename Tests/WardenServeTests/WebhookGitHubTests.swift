import Testing
import WardenAudit
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// GitHub deliveries: realistic payloads of each event kind to exact events, and hostile ones.
@Suite struct WebhookGitHubTests {
    typealias F = WebhookFixtures

    func deliver(_ body: String, event: String = "pull_request", delivery: String? = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                 contentType: String = "application/json") throws(WebhookRejection) -> WebhookDelivery {
        try F.deliver(F.github(body, event: event, delivery: delivery, contentType: contentType), .github)
    }

    func status(_ body: String, event: String = "pull_request", delivery: String? = "d-1", contentType: String = "application/json") -> Int? {
        F.rejection { () throws(WebhookRejection) in try deliver(body, event: event, delivery: delivery, contentType: contentType) }?.status
    }

    @Test func pullRequestOpened() throws {
        let d = try deliver(F.pullRequest())
        #expect(d.event == .forge(.github, event: "pull_request", action: "opened", repository: "acme/app", branch: "main", sender: "alice"))
        #expect(d.commit == F.sha1)
        #expect(d.cloneURL == "https://github.com/acme/app.git")
        #expect(d.cloneURLRefusal == nil)
        #expect(d.deliveryID == "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        #expect(d.secretName == "gh-key")
        #expect(d.verifiedSecrets == ["gh-key"])
        #expect(!d.isPing)
        #expect(d.payload["pull_request"]?["title"] == "Bump deps")
        #expect(d.endpoint == .github)
    }

    /// End to end: filtered by secret, then decided by the authorizer.
    @Test func pullRequestStartsOnlyTheTriggerOfItsSecret() throws {
        let d = try deliver(F.pullRequest())
        let decision = TriggerAuthorizer(triggers: WebhookTriggerFilter.eligible(F.triggers, for: d)).decide(d.event)
        #expect(decision.launches.map(\.trigger) == ["review-prs"])
        let other = try F.deliver(F.github(F.pullRequest(), key: "other-key"), .github)
        #expect(TriggerAuthorizer(triggers: WebhookTriggerFilter.eligible(F.triggers, for: other)).decide(other.event).launches.map(\.trigger) == ["other-prs"])
    }

    @Test func pushToBranchTagAndDeletion() throws {
        let push = #"{"ref":"refs/heads/release/1.2","before":"\#(F.sha2)","after":"\#(F.sha1)","created":false,"deleted":false,"repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"bob"},"sender":{"login":"bob"},"commits":[]}"#
        let d = try deliver(push, event: "push")
        #expect(d.event == .forge(.github, event: "push", action: nil, repository: "acme/app", branch: "release/1.2", sender: "bob"))
        #expect(d.commit == F.sha1)

        let tag = push.replacingOccurrences(of: "refs/heads/release/1.2", with: "refs/tags/v1.2")
        let t = try deliver(tag, event: "push")
        #expect(t.event.branch == nil)
        #expect(t.commit == F.sha1)

        let deletion = push.replacingOccurrences(of: F.sha1, with: String(repeating: "0", count: 40))
        let x = try deliver(deletion, event: "push")
        #expect(x.commit == nil)
        #expect(x.event.branch == "release/1.2")

        // SHA-256 repositories have 64-digit ids.
        let sha256 = String(repeating: "ab", count: 32)
        #expect(try deliver(push.replacingOccurrences(of: F.sha1, with: sha256), event: "push").commit == sha256)
    }

    @Test func issuesAndCommentsHaveNoBranch() throws {
        let issue = #"{"action":"opened","issue":{"number":3,"title":"Crash"},"repository":{"full_name":"acme/app","default_branch":"main","clone_url":"https://github.com/acme/app.git"},"sender":{"login":"carol"}}"#
        let d = try deliver(issue, event: "issues")
        #expect(d.event == .forge(.github, event: "issues", action: "opened", repository: "acme/app", branch: nil, sender: "carol"))
        #expect(d.commit == nil)

        let comment = #"{"action":"created","issue":{"number":3,"pull_request":{"url":"x"}},"comment":{"body":"/review"},"repository":{"full_name":"acme/app"},"sender":{"login":"dave"}}"#
        let c = try deliver(comment, event: "issue_comment")
        #expect(c.event == .forge(.github, event: "issue_comment", action: "created", repository: "acme/app", branch: nil, sender: "dave"))
        #expect(c.cloneURL == nil)
        #expect(c.cloneURLRefusal == nil)
    }

    @Test func pingIsFlagged() throws {
        let ping = #"{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"type":"Repository","events":["pull_request"]},"repository":{"full_name":"acme/app"},"sender":{"login":"alice"}}"#
        let d = try deliver(ping, event: "ping")
        #expect(d.isPing)
        #expect(d.event.event == "ping")
        // The body digest is SHA-256 of the raw body: printf '%s' "$body" | sha256sum
        #expect(d.bodyDigest == "717554326515fe7624b25c9306df16f9d7315a3bfd9363f3aad5a49a5e8c15ea")
        #expect(d.replayKey == "github:717554326515fe7624b25c9306df16f9d7315a3bfd9363f3aad5a49a5e8c15ea")
    }

    /// A captured delivery replayed under a fresh delivery id keeps its replay key.
    @Test func replayKeyIgnoresTheDeliveryID() throws {
        let a = try deliver(F.pullRequest(), delivery: "one")
        let b = try deliver(F.pullRequest(), delivery: "two")
        #expect(a.deliveryID != b.deliveryID)
        #expect(a.replayKey == b.replayKey)
        #expect(try deliver(F.pullRequest(action: "synchronize")).replayKey != a.replayKey)
    }

    /// Reviews, review comments and threads carry the pull request's base and head.
    @Test func reviewsCarryThePullRequest() throws {
        let review = #"{"action":"submitted","review":{"state":"approved"},"pull_request":{"number":7,"base":{"ref":"main"},"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":"acme/app"},"sender":{"login":"erin"}}"#
        let d = try deliver(review, event: "pull_request_review")
        #expect(d.event == .forge(.github, event: "pull_request_review", action: "submitted", repository: "acme/app", branch: "main", sender: "erin"))
        #expect(d.commit == F.sha1)
        // Its body does not pass as a pull_request event, nor as a review comment.
        #expect(status(review, event: "pull_request") == 422)
        #expect(status(review, event: "pull_request_review_comment") == 422)
        let reviewComment = review.replacingOccurrences(of: #""review":{"state":"approved"}"#, with: #""comment":{"body":"nit"}"#)
        #expect(status(reviewComment, event: "pull_request") == 422)
        #expect(try deliver(reviewComment, event: "pull_request_review_comment").event.branch == "main")
    }

    /// A branch creation (`create`) does not pass as a push.
    @Test func createDoesNotPassAsPush() {
        let create = #"{"ref":"main","ref_type":"branch","master_branch":"main","repository":{"full_name":"acme/app"},"sender":{"login":"bob"}}"#
        #expect(status(create, event: "push") == 422)
        #expect(status(create, event: "create") == nil)
    }

    @Test func formEncodedBodiesAreRefusedWithAFix() {
        let r = F.rejection { () throws(WebhookRejection) in try deliver("payload=%7B%7D", contentType: "application/x-www-form-urlencoded") }
        #expect(r?.status == 415)
        #expect(r?.reason.contains("application/json") == true)
    }

    @Test func deliveryIDs() throws {
        #expect(status(F.pullRequest(), delivery: nil) == 400)
        #expect(status(F.pullRequest(), delivery: "") == 400)
        #expect(status(F.pullRequest(), delivery: "abc\u{1b}[2J") == 400)
        #expect(status(F.pullRequest(), delivery: "a b") == 400)
        #expect(status(F.pullRequest(), delivery: "a/b") == 400)
        #expect(status(F.pullRequest(), delivery: String(repeating: "a", count: 129)) == 400)
        #expect(try deliver(F.pullRequest(), delivery: String(repeating: "a", count: 128)).deliveryID.utf8.count == 128)
        #expect(try deliver(F.pullRequest(), delivery: "A.b_c:d-9").deliveryID == "A.b_c:d-9")
        // Two delivery ids are ambiguous.
        let two = F.github(F.pullRequest(), extra: [("X-GitHub-Delivery", "other")])
        #expect(F.rejection { () throws(WebhookRejection) in try F.deliver(two, .github) }?.status == 400)
    }

    @Test func eventHeaderMustBeAName() {
        for bad in ["", "Pull_Request", "pull request", "pull_request\u{0}", String(repeating: "a", count: 65)] {
            #expect(status(F.pullRequest(), event: bad) == 400, "\(bad)")
        }
    }

    /// The event header is not signed: a body of one event cannot pass as another.
    @Test func eventHeaderMustMatchTheBody() {
        let comment = #"{"action":"created","issue":{"number":3},"comment":{"body":"x"},"repository":{"full_name":"acme/app"},"sender":{"login":"dave"}}"#
        #expect(status(comment, event: "pull_request") == 422)
        #expect(status(comment, event: "issues") == 422)
        #expect(status(F.pullRequest(), event: "push") == 422)
        #expect(status(F.pullRequest(), event: "issue_comment") == 422)
        #expect(status(F.pullRequest(), event: "ping") == 422)
    }

    @Test func hostileRepositoryNames() {
        for bad in ["acme/app\u{1b}]0;x\u{7}", "acme/..", "../app", "acme/.", "acme/app/extra", "acme", "/app", "acme/", "acme//app",
                    "acme/app name", "acme/app\u{202e}", "acme/app\u{0}", "ac%2fme/app", String(repeating: "a", count: 200) + "/" + String(repeating: "b", count: 100)] {
            let r = F.rejection { () throws(WebhookRejection) in try deliver(F.pullRequest(repository: bad)) }
            #expect(r?.status == 422, "\(bad)")
            #expect(r?.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } == true)
        }
        // A repository name beginning with a dot is genuine (`.github`).
        #expect((try? deliver(F.pullRequest(repository: "acme/.github", cloneURL: "https://github.com/acme/.github.git")))?.event.repository == "acme/.github")
    }

    @Test func hostileCloneURLsAreNotUsed() throws {
        for bad in ["https://user:token@github.com/acme/app.git", "https://token@github.com/acme/app.git", "http://github.com/acme/app.git",
                    "ssh://git@github.com/acme/app.git", "git@github.com:acme/app.git", "file:///srv/acme/app.git", "ext::sh -c touch% /tmp/pwned",
                    "https://github.com/evil/app.git", "https://github.com/acme/other.git", "https://github.com/evil/acme/app.git",
                    "https://github.com/acme/app.git?ref=x", "https://github.com/acme/app.git#x", "https://github.com/acme/../evil/app.git",
                    "https://github.com/acme/%2e%2e/app.git", "https://github.com:99999/acme/app.git", "https://[::1]/acme/app.git",
                    "https://github.com/acme/app.git ", "https://github.com/acme/app.git\n", "https://-x.com/acme/app.git", "https://github.com",
                    "https:///acme/app.git", "HTTPS://github.com/acme/app.git", "https://github.com/acme/app.git/", "https://github.com/acme/app.gitx",
                    "https://github.com/acme/app.git.git", "-https://github.com/acme/app.git", "https://github..com/acme/app.git"] {
            let d = try deliver(F.pullRequest(cloneURL: bad))
            #expect(d.cloneURL == nil, "\(bad)")
            #expect(d.cloneURLRefusal != nil, "\(bad)")
            // The refusal never quotes the URL (it may carry credentials).
            #expect(d.cloneURLRefusal?.contains("token") == false)
        }
        for ok in ["https://github.com/acme/app.git", "https://github.com/acme/app", "https://GitHub.com/Acme/App.git", "https://ghe.example.com:8443/acme/app.git"] {
            #expect(try deliver(F.pullRequest(cloneURL: ok)).cloneURL == ok, "\(ok)")
        }
    }

    @Test func hostileFieldValues() {
        for bad in ["-rf", "a..b", "main\u{1b}[31m", "main.lock", ".hidden", "a//b", "/main", "main/", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[",
                    "a\\b", "@", "a@{1}", "main.", "a\u{200b}b"] {
            #expect(status(F.pullRequest(base: bad)) == 422, "\(bad)")
        }
        for bad in [F.sha1.uppercased(), String(F.sha1.dropLast()), F.sha1 + "0", "g" + F.sha1.dropFirst(), ""] {
            #expect(status(F.pullRequest(head: bad)) == 422, "\(bad)")
        }
        #expect(status(F.pullRequest(head: String(repeating: "0", count: 40))) == 422)
        for bad in ["al ice", "alice\u{1b}", "", "al/ice", "[bot]"] {
            #expect(status(F.pullRequest(sender: bad)) == 422, "\(bad)")
        }
        #expect(status(F.pullRequest(action: "Opened")) == 422)
        #expect(status(F.pullRequest(action: "op\u{1b}ened")) == 422)
        // Fields of the wrong type.
        #expect(status(#"{"action":"opened","pull_request":{"base":{"ref":7},"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":"acme/app"}}"#) == 422)
        #expect(status(#"{"action":"opened","pull_request":{"base":{"ref":"main"},"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":["acme/app"]}}"#) == 422)
        #expect(status(#"{"action":"opened","pull_request":{"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":"acme/app"}}"#) == 422)
        #expect(status(#"{"action":"opened","pull_request":{"base":{"ref":"main"}},"repository":{"full_name":"acme/app"}}"#) == 422)
        #expect(status(#"{"pull_request":{"base":{"ref":"main"},"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":"acme/app"}}"#) == 422)
        #expect(status(#"{"action":"opened","pull_request":{"base":{"ref":"main"},"head":{"sha":"\#(F.sha1)"}},"repository":{"name":"app"}}"#) == 422)
        #expect(status(#"{"action":"opened","pull_request":{"base":{"ref":"main"},"head":{"sha":"\#(F.sha1)"}},"repository":{"full_name":null}}"#) == 422)
        // A bot login is genuine.
        #expect(status(F.pullRequest(sender: "dependabot[bot]")) == nil)
    }

    @Test func bodiesThatAreNotJSONObjects() {
        #expect(status("[1,2]") == 422)
        #expect(status("\"x\"") == 422)
        #expect(status("not json") == 400)
        #expect(status("") == 400)
        #expect(status(#"{"a":1,"a":2}"#) == 400)
        #expect(status(String(repeating: "[", count: 100_000)) == 400)
        #expect(status(String(repeating: "{\"a\":", count: 70) + "1" + String(repeating: "}", count: 70)) == 400)
    }

    @Test func signedInvalidUTF8IsRefused() {
        var r = F.github("", key: nil)
        let body: [UInt8] = Array(#"{"action":"opened","x":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        r.body = body
        r.headers.append(("X-Hub-Signature-256", WebhookSignature.header(WebhookSignature.hmacSHA256(key: Array(F.ghKey.utf8), message: body))))
        #expect(F.rejection { () throws(WebhookRejection) in try F.deliver(r, .github) }?.status == 400)
    }

    @Test func parseRequiresAuthentication() {
        let r = F.rejection { () throws(WebhookRejection) in try WebhookParser.parse(F.github(F.pullRequest()), endpoint: .github, verifiedSecrets: []) }
        #expect(r?.status == 403)
        #expect(F.rejection { () throws(WebhookRejection) in try WebhookParser.parse(F.github(F.pullRequest()), endpoint: .github, secretName: "") }?.status == 403)
    }
}
