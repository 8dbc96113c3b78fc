/// The GitHub and GitLab webhook events a trigger may name, and the actions of those that
/// have them (GitHub's `action`, GitLab's `object_attributes.action`). An event missing from
/// the action table takes any action the forge sends.
enum TriggerVocabulary {
    static let githubEvents: Set<String> = [
        "branch_protection_rule", "check_run", "check_suite", "code_scanning_alert", "commit_comment", "create", "delete",
        "dependabot_alert", "deployment", "deployment_status", "discussion", "discussion_comment", "fork", "gollum",
        "issue_comment", "issues", "label", "member", "merge_group", "milestone", "package", "page_build", "ping",
        "project", "public", "pull_request", "pull_request_review", "pull_request_review_comment",
        "pull_request_review_thread", "push", "registry_package", "release", "repository", "repository_dispatch",
        "repository_vulnerability_alert", "secret_scanning_alert", "security_advisory", "status", "watch",
        "workflow_dispatch", "workflow_job", "workflow_run",
    ]

    static let githubActions: [String: Set<String>] = [
        "pull_request": ["assigned", "auto_merge_disabled", "auto_merge_enabled", "closed", "converted_to_draft", "demilestoned",
                         "dequeued", "edited", "enqueued", "labeled", "locked", "milestoned", "opened", "ready_for_review",
                         "reopened", "review_request_removed", "review_requested", "synchronize", "unassigned", "unlabeled", "unlocked"],
        "issues": ["assigned", "closed", "deleted", "demilestoned", "edited", "labeled", "locked", "milestoned", "opened", "pinned",
                   "reopened", "transferred", "typed", "unassigned", "unlabeled", "unlocked", "unpinned", "untyped"],
        "issue_comment": ["created", "deleted", "edited"],
        "pull_request_review": ["dismissed", "edited", "submitted"],
        "pull_request_review_comment": ["created", "deleted", "edited"],
        "release": ["created", "deleted", "edited", "prereleased", "published", "released", "unpublished"],
        "workflow_run": ["completed", "in_progress", "requested"],
        "check_suite": ["completed", "requested", "rerequested"],
        "check_run": ["completed", "created", "requested_action", "rerequested"],
    ]

    /// GitHub events whose payload has no `action`.
    static let githubWithoutAction: Set<String> = ["create", "delete", "fork", "gollum", "page_build", "ping", "public", "push", "status"]

    static let gitlabEvents: Set<String> = [
        "build", "deployment", "emoji", "feature_flag", "issue", "member", "merge_request", "note", "pipeline", "push",
        "release", "tag_push", "wiki_page",
    ]

    static let gitlabActions: [String: Set<String>] = [
        "merge_request": ["approval", "approved", "close", "merge", "open", "reopen", "unapproval", "unapproved", "update"],
        "issue": ["close", "open", "reopen", "update"],
    ]

    static let gitlabWithoutAction: Set<String> = ["push", "tag_push", "note", "build", "pipeline"]

    static func events(_ source: TriggerSourceKind) -> Set<String> { source == .github ? githubEvents : gitlabEvents }

    static func actions(_ source: TriggerSourceKind, _ event: String) -> Set<String>? {
        source == .github ? githubActions[event] : gitlabActions[event]
    }

    static func hasNoAction(_ source: TriggerSourceKind, _ event: String) -> Bool {
        source == .github ? githubWithoutAction.contains(event) : gitlabWithoutAction.contains(event)
    }
}
