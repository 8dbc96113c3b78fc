import WardenPolicy

/// GitLab deliveries: `X-Gitlab-Event` (required, not trusted for anything: the token
/// covers nothing), `Idempotency-Key` or `X-Gitlab-Event-UUID`, a JSON body whose
/// `object_kind` is the event.
///
/// Branch: a merge request's `object_attributes.target_branch`, a push's branch (`ref`
/// `refs/heads/X`); tag pushes, issues and notes (comments) have none, so a trigger with
/// `branch` refuses them. Commit: a merge request's `object_attributes.last_commit.id`, a
/// push's or tag push's `checkout_sha`. Sender: `user_username` for pushes, `user.username` else.
enum GitLabPayload {
    /// Events whose payload must name the project.
    static let projectEvents: Set<String> = ["push", "tag_push", "merge_request", "issue", "note"]

    static func parse(_ request: WebhookRequest) throws(WebhookRejection) -> WebhookParser.Parsed {
        try request.requireJSONContentType("GitLab")
        let header = try request.required("X-Gitlab-Event")
        guard header.utf8.count <= 64, header.utf8.allSatisfy({ WebhookValues.isAlnum($0) || $0 == 0x20 }) else {
            throw .badRequest("header X-Gitlab-Event \(WebhookText.quote(header)) is not an event name")
        }
        // Idempotency-Key stays the same when GitLab retries a delivery (GitLab 17.4+).
        let id = try request.header("Idempotency-Key") != nil
            ? WebhookParser.deliveryID(request, "Idempotency-Key")
            : WebhookParser.deliveryID(request, "X-Gitlab-Event-UUID")
        let p = try WebhookPayload(WebhookJSON.parse(request.body))

        var e = TriggerEvent(source: .gitlab)
        let kind = try p.required("object_kind", "event name", valid: WebhookValues.isEventName)
        e.event = kind
        e.action = try p.string("object_attributes.action", "action", valid: WebhookValues.isEventName)
        if projectEvents.contains(kind) {
            e.repository = try p.required("project.path_with_namespace", "project path", valid: WebhookValues.isGitLabRepository)
        } else {
            e.repository = try p.string("project.path_with_namespace", "project path", valid: WebhookValues.isGitLabRepository)
        }
        var commit: String?
        switch kind {
        case "push", "tag_push":
            e.sender = try p.string("user_username", "login", valid: WebhookValues.isLogin)
            e.branch = kind == "push" ? try p.branch(ofRef: "ref") : nil
            commit = try p.commit("checkout_sha")
        case "merge_request":
            e.sender = try p.string("user.username", "login", valid: WebhookValues.isLogin)
            e.branch = try p.required("object_attributes.target_branch", "branch", valid: WebhookValues.isBranch)
            commit = try p.commit("object_attributes.last_commit.id")
        default:
            e.sender = try p.string("user.username", "login", valid: WebhookValues.isLogin)
        }
        let (url, refusal) = try WebhookParser.cloneURL(p, "project.git_http_url", repository: e.repository, allowPrefix: true)
        return WebhookParser.Parsed(deliveryID: id, event: e, payload: p.root, commit: commit, cloneURL: url, cloneURLRefusal: refusal)
    }
}
