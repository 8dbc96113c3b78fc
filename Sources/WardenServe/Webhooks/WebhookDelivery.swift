import WardenAudit
import WardenPolicy

/// An authenticated, parsed delivery: what the launch decision, the dedupe store and the
/// agent's event document are made from.
public struct WebhookDelivery: Sendable {
    public var endpoint: WebhookEndpoint
    /// The dedupe key the sender gives: GitHub's `X-GitHub-Delivery`, GitLab's
    /// `Idempotency-Key` (the same on retries) or else `X-Gitlab-Event-UUID`, a generic
    /// webhook's `X-Warden-Delivery`; 1-128 of `A-Z a-z 0-9 . _ : -`. No signature covers
    /// it: whoever replays a captured delivery can pick a fresh one. See `replayKey`.
    public var deliveryID: String
    /// The dedupe key derived from what the credential covers: `SOURCE:` and the SHA-256 (hex)
    /// of the raw body (github, gitlab) or of `<timestamp>.<body>` (webhook; the same on every
    /// hook, so a delivery replayed to another hook sharing the secret collides). Refuse a
    /// delivery whose replay key was seen: a captured GitHub delivery otherwise replays forever
    /// under fresh delivery ids (GitHub signs no timestamp). Generic webhook keys need keeping
    /// only for twice `ServeLimits.replayWindowSeconds`. A GitHub "Redeliver" of a delivery
    /// that already ran has the same key.
    public var replayKey: String
    /// The event the authorizer decides on (github/gitlab: source, event, action,
    /// repository, branch, sender; webhook: the hook name). `senderTeams` is left empty here:
    /// the server fills it from its membership source when a decision needs it (`TeamResolver`).
    public var event: TriggerEvent
    /// The commit to check out, 40 or 64 lowercase hex: a pull request's `head.sha`, a
    /// push's `after` (GitLab: `checkout_sha`), a merge request's `last_commit.id`; nil when
    /// the event has none (or a push deleted the branch).
    public var commit: String?
    /// The repository's HTTPS clone URL, when the payload names one that `WebhookCloneURL`
    /// accepts (https, no credentials, naming the delivery's repository).
    public var cloneURL: String?
    /// Why the payload's clone URL was not accepted (nil when it was, or when there is
    /// none); a `workspace clone` trigger cannot launch without `cloneURL`.
    public var cloneURLRefusal: String?
    /// The secrets that verified the delivery (at least one).
    public var verifiedSecrets: Set<String>
    /// The first of `verifiedSecrets` in sorted order, for records.
    public var secretName: String
    /// The parsed body (numbers that are not Int64 integers appear as strings of their text).
    public var payload: AuditValue
    /// A GitHub `ping` (sent when a hook is created): answer 200 and launch nothing.
    public var isPing: Bool
    /// SHA-256 of the raw body, lowercase hex.
    public var bodyDigest: String
}
