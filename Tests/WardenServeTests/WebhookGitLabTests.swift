import Testing
import WardenAudit
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// GitLab deliveries: merge requests, pushes, tag pushes, notes; delivery ids; hostile values.
@Suite struct WebhookGitLabTests {
    typealias F = WebhookFixtures

    static func mergeRequest(project: String = "grp/sub/app", target: String = "main", url: String = "https://gitlab.example.com/grp/sub/app.git") -> String {
        """
        {"object_kind":"merge_request","event_type":"merge_request",
         "user":{"id":1,"name":"Erin","username":"erin"},
         "project":{"id":15,"path_with_namespace":"\(F.esc(project))","git_http_url":"\(F.esc(url))","git_ssh_url":"git@gitlab.example.com:grp/sub/app.git"},
         "object_attributes":{"iid":4,"title":"Fix","action":"open","target_branch":"\(F.esc(target))","source_branch":"fix",
           "last_commit":{"id":"\(F.sha1)","message":"fix"},"time_estimate":0},
         "labels":[]}
        """
    }

    static let push = #"{"object_kind":"push","event_name":"push","before":"\#(F.sha2)","after":"\#(F.sha1)","ref":"refs/heads/main","checkout_sha":"\#(F.sha1)","user_id":4,"user_name":"Frank","user_username":"frank","project":{"path_with_namespace":"grp/app","git_http_url":"https://gitlab.example.com/grp/app.git"},"commits":[],"total_commits_count":0}"#

    func deliver(_ body: String, extra: [(String, String)] = [], uuid: String? = "2d3d8a4b-9c1f-4f6e-8c1e-0d6b1a2f3c4d") throws(WebhookRejection) -> WebhookDelivery {
        try F.deliver(F.gitlab(body, uuid: uuid, extra: extra), .gitlab)
    }

    func status(_ body: String, extra: [(String, String)] = [], uuid: String? = "u-1") -> Int? {
        F.rejection { () throws(WebhookRejection) in try deliver(body, extra: extra, uuid: uuid) }?.status
    }

    @Test func mergeRequestOpened() throws {
        let d = try deliver(Self.mergeRequest())
        #expect(d.event == .forge(.gitlab, event: "merge_request", action: "open", repository: "grp/sub/app", branch: "main", sender: "erin"))
        #expect(d.commit == F.sha1)
        #expect(d.cloneURL == "https://gitlab.example.com/grp/sub/app.git")
        #expect(d.deliveryID == "2d3d8a4b-9c1f-4f6e-8c1e-0d6b1a2f3c4d")
        #expect(d.secretName == "gl-token")
        #expect(!d.isPing)
        let decision = TriggerAuthorizer(triggers: WebhookTriggerFilter.eligible(F.triggers, for: d)).decide(d.event)
        #expect(decision.launches.map(\.trigger) == ["mr"])
    }

    @Test func pushesAndTags() throws {
        let d = try deliver(Self.push)
        #expect(d.event == .forge(.gitlab, event: "push", action: nil, repository: "grp/app", branch: "main", sender: "frank"))
        #expect(d.commit == F.sha1)
        let deleted = Self.push.replacingOccurrences(of: #""checkout_sha":"\#(F.sha1)""#, with: #""checkout_sha":null"#)
        #expect(try deliver(deleted).commit == nil)
        let tag = Self.push.replacingOccurrences(of: #""object_kind":"push""#, with: #""object_kind":"tag_push""#)
            .replacingOccurrences(of: "refs/heads/main", with: "refs/tags/v1")
        let t = try deliver(tag)
        #expect(t.event.event == "tag_push")
        #expect(t.event.branch == nil)
        #expect(t.commit == F.sha1)
    }

    @Test func notesAndIssuesHaveNoBranch() throws {
        let note = #"{"object_kind":"note","user":{"username":"gina"},"project":{"path_with_namespace":"grp/app"},"object_attributes":{"note":"/review","noteable_type":"MergeRequest"},"merge_request":{"target_branch":"main"}}"#
        let n = try deliver(note)
        #expect(n.event == .forge(.gitlab, event: "note", action: nil, repository: "grp/app", branch: nil, sender: "gina"))
        let issue = #"{"object_kind":"issue","user":{"username":"gina"},"project":{"path_with_namespace":"grp/app"},"object_attributes":{"action":"open","title":"x"}}"#
        #expect(try deliver(issue).event == .forge(.gitlab, event: "issue", action: "open", repository: "grp/app", branch: nil, sender: "gina"))
    }

    /// GitLab's build events carry fractional durations; they parse, as strings.
    @Test func fractionalNumbersParse() throws {
        let build = #"{"object_kind":"build","build_duration":23.265997,"build_queued_duration":1095.588715,"project":{"path_with_namespace":"grp/app"},"user":{"username":"erin"}}"#
        let d = try deliver(build)
        #expect(d.payload["build_duration"] == "23.265997")
        #expect(d.event.event == "build")
    }

    /// A relative URL root is allowed before the project's path; nothing else is.
    @Test func cloneURLs() throws {
        #expect(try deliver(Self.mergeRequest(url: "https://example.com/gitlab/grp/sub/app.git")).cloneURL == "https://example.com/gitlab/grp/sub/app.git")
        for bad in ["http://gitlab.example.com/grp/sub/app.git", "https://gitlab.example.com/evil/sub/app.git", "https://gitlab.example.com/grp/sub/app2.git",
                    "https://gitlab.example.com/xgrp/sub/app.git", "https://oauth2:glpat-secret@gitlab.example.com/grp/sub/app.git",
                    "git@gitlab.example.com:grp/sub/app.git"] {
            let d = try deliver(Self.mergeRequest(url: bad))
            #expect(d.cloneURL == nil, "\(bad)")
            #expect(d.cloneURLRefusal?.contains("glpat-secret") == false)
        }
    }

    /// Idempotency-Key (the same on retries) is preferred; without either id the delivery is refused.
    @Test func deliveryIDs() throws {
        #expect(try deliver(Self.push, extra: [("Idempotency-Key", "idem-1")]).deliveryID == "idem-1")
        #expect(try deliver(Self.push, extra: [("Idempotency-Key", "idem-1")], uuid: nil).deliveryID == "idem-1")
        #expect(status(Self.push, uuid: nil) == 400)
        #expect(status(Self.push, extra: [("Idempotency-Key", "bad key")]) == 400)
        #expect(status(Self.push, extra: [("Idempotency-Key", "a"), ("idempotency-key", "b")]) == 400)
        #expect(status(Self.push, uuid: "u\u{1b}") == 400)
        #expect(status(Self.push, uuid: String(repeating: "u", count: 129)) == 400)
    }

    @Test func hostileValues() {
        for bad in ["grp/../app", "grp/sub/..", "grp/app\u{1b}[2J", "app", "grp//app", "grp/app/", "grp/a p", "grp/app\u{202e}",
                    Array(repeating: "g", count: 22).joined(separator: "/")] {
            #expect(status(Self.mergeRequest(project: bad)) == 422, "\(bad)")
        }
        for bad in ["-main", "ma..in", "main\u{7}"] {
            #expect(status(Self.mergeRequest(target: bad)) == 422, "\(bad)")
        }
        #expect(status(#"{"project":{"path_with_namespace":"grp/app"}}"#) == 422)
        #expect(status(#"{"object_kind":"Merge Request","project":{"path_with_namespace":"grp/app"}}"#) == 422)
        #expect(status(#"{"object_kind":"push","project":{"path_with_namespace":"grp/app"}}"#) == 422)
        #expect(status(#"{"object_kind":"merge_request","project":{}}"#) == 422)
        #expect(status(Self.push.replacingOccurrences(of: #""user_username":"frank""#, with: #""user_username":"fr ank""#)) == 422)
        #expect(status(Self.push.replacingOccurrences(of: #""checkout_sha":"\#(F.sha1)""#, with: #""checkout_sha":"HEAD""#)) == 422)
    }

    @Test func headers() {
        let bad = F.rejection { () throws(WebhookRejection) in try F.deliver(F.gitlab(Self.push, event: "Push Hook\u{1b}"), .gitlab) }
        #expect(bad?.status == 400)
        #expect(F.rejection { () throws(WebhookRejection) in try F.deliver(F.gitlab(Self.push, event: ""), .gitlab) }?.status == 400)
        var form = F.gitlab(Self.push)
        form.headers = form.headers.map { $0.name == "Content-Type" ? (name: $0.name, value: "application/x-www-form-urlencoded") : $0 }
        #expect(F.rejection { () throws(WebhookRejection) in try F.deliver(form, .gitlab) }?.status == 415)
    }
}
