import WardenPolicy

/// GitHub deliveries: `X-GitHub-Event`, `X-GitHub-Delivery`, a JSON body.
///
/// Branch: a pull request's base (`pull_request.base.ref`), a push's branch (`ref`
/// `refs/heads/X`; a tag push has none). Issues and comments have no branch (a comment on a
/// pull request does not carry its base), so a trigger with `branch` refuses them; other
/// events have none either. Commit: `pull_request.head.sha`, or a push's `after` (none when
/// the push deleted the branch).
enum GitHubPayload {
    /// For the events Warden reads fields of, the member the payload must have: the event
    /// header is not signed, so a body of one event cannot be passed off as another.
    static let shapes: [String: [String]] = [
        "pull_request": ["pull_request", "repository"],
        "issues": ["issue", "repository"],
        "issue_comment": ["issue", "comment", "repository"],
        "push": ["repository"],
        "ping": ["hook"],
    ]

    static func parse(_ request: WebhookRequest) throws(WebhookRejection) -> WebhookParser.Parsed {
        try request.requireJSONContentType("GitHub")
        let event = try request.required("X-GitHub-Event")
        guard WebhookValues.isEventName(event) else {
            throw .badRequest("header X-GitHub-Event \(WebhookText.quote(event)) is not an event name")
        }
        let id = try WebhookParser.deliveryID(request, "X-GitHub-Delivery")
        let p = try WebhookPayload(WebhookJSON.parse(request.body))

        for member in shapes[event] ?? [] where !p.hasObject(member) {
            throw .unprocessable("the payload is not a \(event) event: it has no \(member) object")
        }
        if event == "push" {
            _ = try p.required("ref", "ref", valid: { _ in true })
        } else if event == "pull_request" || event == "issues" || event == "issue_comment" {
            // Their payloads always carry an action; GitHub's other events are read as they come.
            _ = try p.required("action", "action", valid: WebhookValues.isEventName)
        }
        if event == "issues", p.hasObject("comment") {
            throw .unprocessable("the payload is not an issues event: it has a comment object")
        }

        var e = TriggerEvent(source: .github)
        e.event = event
        e.action = try p.string("action", "action", valid: WebhookValues.isEventName)
        e.repository = try p.string("repository.full_name", "repository (owner/name)", valid: WebhookValues.isGitHubRepository)
        e.sender = try p.string("sender.login", "login", valid: WebhookValues.isLogin)
        var commit: String?
        switch event {
        case "pull_request":
            e.branch = try p.required("pull_request.base.ref", "branch", valid: WebhookValues.isBranch)
            commit = try p.commit("pull_request.head.sha")
            guard commit != nil else { throw .unprocessable("the payload has no pull_request.head.sha") }
        case "push":
            e.branch = try p.branch(ofRef: "ref")
            commit = try p.commit("after")
        default:
            break
        }
        let (url, refusal) = try WebhookParser.cloneURL(p, "repository.clone_url", repository: e.repository, allowPrefix: false)
        return WebhookParser.Parsed(deliveryID: id, event: e, payload: p.root, commit: commit, cloneURL: url,
                                    cloneURLRefusal: refusal, isPing: event == "ping")
    }
}
