import WardenPolicy

/// The whole webhook layer in one call, in the only safe order: authenticate against the
/// endpoint's triggers, parse, and keep the triggers the verifying secrets may start.
///
/// ```swift
/// guard let endpoint = WebhookEndpoint.parse(path: path) else { /* 404 */ }
/// let (delivery, eligible) = try intake.receive(request, endpoint: endpoint, now: now)
/// if delivery.isPing { /* 200 */ }
/// // dedupe on delivery.deliveryID and delivery.replayKey, then:
/// let decision = TriggerAuthorizer(triggers: eligible).decide(delivery.event, usage: ...)
/// ```
public struct WebhookIntake: Sendable {
    public let authenticator: WebhookAuthenticator
    /// The policy's triggers (all sources; each request uses its endpoint's).
    public let triggers: [CheckedTrigger]

    public init(triggers: [CheckedTrigger], secrets: [String: [UInt8]]) {
        self.triggers = triggers
        self.authenticator = WebhookAuthenticator(secrets: secrets)
    }

    /// The authenticated delivery and the triggers that may accept it (possibly none).
    public func receive(_ request: WebhookRequest, endpoint: WebhookEndpoint,
                        now: Int64) throws(WebhookRejection) -> (delivery: WebhookDelivery, eligible: [CheckedTrigger]) {
        let candidates = endpoint.candidates(in: triggers)
        let verified = try authenticator.authenticate(request, endpoint: endpoint, candidates: candidates, now: now)
        let delivery = try WebhookParser.parse(request, endpoint: endpoint, verifiedSecrets: verified)
        return (delivery, WebhookTriggerFilter.eligible(candidates, for: delivery))
    }
}
