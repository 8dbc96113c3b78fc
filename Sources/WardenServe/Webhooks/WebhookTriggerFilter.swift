import WardenPolicy

/// Which triggers may accept an authenticated delivery: only those of the delivery's
/// endpoint (its source; for a generic webhook, its hook) whose `secret` is one that
/// verified it. A trigger without a secret never accepts a served delivery, and a delivery
/// verified by secret A never reaches a trigger declaring secret B. Give the result to
/// `TriggerAuthorizer(triggers:)` to decide.
public enum WebhookTriggerFilter {
    public static func eligible(_ triggers: [CheckedTrigger], endpoint: WebhookEndpoint,
                                verifiedSecrets: Set<String>) -> [CheckedTrigger] {
        endpoint.candidates(in: triggers).filter { t in
            guard let secret = t.secret else { return false }
            return verifiedSecrets.contains(secret)
        }
    }

    /// `eligible(_:endpoint:verifiedSecrets:)` for `delivery`.
    public static func eligible(_ triggers: [CheckedTrigger], for delivery: WebhookDelivery) -> [CheckedTrigger] {
        eligible(triggers, endpoint: delivery.endpoint, verifiedSecrets: delivery.verifiedSecrets)
    }
}
