import WardenPolicy

/// GitHub deliveries: `X-GitHub-Event`, `X-GitHub-Delivery`, a JSON body.
///
/// Branch: a pull request's base (`pull_request.base.ref`, also for reviews, review
/// comments and review threads), a push's branch (`ref` `refs/heads/X`; a tag push has
/// none). Issues and comments have no branch (a comment on a pull request does not carry
/// its base), so a trigger with `branch` refuses them; other events have none either.
/// Commit: `pull_request.head.sha`, or a push's `after` (none when the push deleted the branch).
enum GitHubPayload {
    /// The event header is not signed, so for the events Warden reads fields of, the body
    /// must have the members of that event and none that tell another apart (a review's
    /// body, which holds a `pull_request`, cannot pass as a `pull_request` event).
    struct Shape {
        var objects: [String]
        var strings: [String] = []
        var forbidden: [String] = []
    }

    static let shapes: [String: Shape] = [
        "pull_request": Shape(objects: ["pull_request", "repository"], strings: ["action"], forbidden: ["review", "comment", "thread"]),
        "pull_request_review": Shape(objects: ["pull_request", "review", "repository"], strings: ["action"]),
        "pull_request_review_comment": Shape(objects: ["pull_request", "comment", "repository"], strings: ["action"], forbidden: ["review", "thread"]),
        "pull_request_review_thread": Shape(objects: ["pull_request", "thread", "repository"], strings: ["action"], forbidden: ["review", "comment"]),
        "issues": Shape(objects: ["issue", "repository"], strings: ["action"], forbidden: ["comment"]),
        "issue_comment": Shape(objects: ["issue", "comment", "repository"], strings: ["action"]),
        "push": Shape(objects: ["repository"], strings: ["ref", "after"], forbidden: ["ref_type", "action"]),
        "ping": Shape(objects: ["hook"], strings: ["zen"]),
    ]

    /// Events whose base branch and commit are the pull request's.
    static let pullRequestEvents: Set<String> = ["pull_request", "pull_request_review", "pull_request_review_comment", "pull_request_review_thread"]

    static func parse(_ request: WebhookRequest) throws(WebhookRejection) -> WebhookParser.Parsed {
        try request.requireJSONContentType("GitHub")
        let event = try request.required("X-GitHub-Event")
        guard WebhookValues.isEventName(event) else {
            throw .badRequest("header X-GitHub-Event \(WebhookText.quote(event)) is not an event name")
        }
        let id = try WebhookParser.deliveryID(request, "X-GitHub-Delivery")
        let p = try WebhookPayload(WebhookJSON.parse(request.body))

        if let shape = shapes[event] {
            for member in shape.objects where !p.hasObject(member) {
                throw .unprocessable("the payload is not a \(event) event: it has no \(member) object")
            }
            for member in shape.strings where p.value(member)?.stringValue == nil {
                throw .unprocessable("the payload is not a \(event) event: it has no \(member)")
            }
            for member in shape.forbidden where p.root[member] != nil {
                throw .unprocessable("the payload is not a \(event) event: it has a \(member)")
            }
        }

        var e = TriggerEvent(source: .github)
        e.event = event
        e.action = try p.string("action", "action", valid: WebhookValues.isEventName)
        if shapes[event]?.objects.contains("repository") == true {
            e.repository = try p.required("repository.full_name", "repository (owner/name)", valid: WebhookValues.isGitHubRepository)
        } else {
            e.repository = try p.string("repository.full_name", "repository (owner/name)", valid: WebhookValues.isGitHubRepository)
        }
        e.sender = try p.string("sender.login", "login", valid: WebhookValues.isLogin)
        var commit: String?
        if pullRequestEvents.contains(event) {
            e.branch = try p.required("pull_request.base.ref", "branch", valid: WebhookValues.isBranch)
            commit = try p.commit("pull_request.head.sha")
            guard commit != nil else { throw .unprocessable("the payload has no pull_request.head.sha") }
        } else if event == "push" {
            e.branch = try p.branch(ofRef: "ref")
            commit = try p.commit("after")
        }
        let (url, refusal) = try WebhookParser.cloneURL(p, "repository.clone_url", repository: e.repository, allowPrefix: false)
        return WebhookParser.Parsed(deliveryID: id, event: e, payload: p.root, commit: commit, cloneURL: url,
                                    cloneURLRefusal: refusal, isPing: event == "ping")
    }
}
