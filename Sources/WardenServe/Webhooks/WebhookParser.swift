import Crypto
import WardenAudit
import WardenPolicy

/// Turns an authenticated request into a delivery: headers and JSON body checked, the
/// normalized event extracted. Call only after `WebhookAuthenticator.authenticate`.
public enum WebhookParser {
    /// Parses `request`, authenticated by `verifiedSecrets` (what `authenticate` returned;
    /// empty is refused with 403). 400: headers or body malformed; 415: not JSON; 422: the
    /// payload lacks a field its event needs, or holds an invalid one.
    public static func parse(_ request: WebhookRequest, endpoint: WebhookEndpoint,
                             verifiedSecrets: Set<String>) throws(WebhookRejection) -> WebhookDelivery {
        guard let secretName = verifiedSecrets.min() else { throw .forbidden("the delivery was not authenticated") }
        guard request.body.count <= ServeLimits.maxBodyBytes else {
            throw WebhookRejection(status: 413, "the body is larger than \(ServeLimits.maxBodyBytes) bytes")
        }
        let parsed: Parsed
        switch endpoint {
        case .github: parsed = try GitHubPayload.parse(request)
        case .gitlab: parsed = try GitLabPayload.parse(request)
        case .hook(let name): parsed = try generic(request, hook: name)
        }
        var signed = request.body
        if case .hook = endpoint {
            signed = Array(try request.required("X-Warden-Timestamp").utf8) + [UInt8(ascii: ".")] + request.body
        }
        let replayKey = endpoint.source.rawValue + ":" + WebhookSignature.hex(SHA256.hash(data: signed))
        return WebhookDelivery(endpoint: endpoint, deliveryID: parsed.deliveryID, replayKey: replayKey, event: parsed.event, commit: parsed.commit,
                               cloneURL: parsed.cloneURL, cloneURLRefusal: parsed.cloneURLRefusal, verifiedSecrets: verifiedSecrets,
                               secretName: secretName, payload: parsed.payload, isPing: parsed.isPing,
                               bodyDigest: WebhookSignature.hex(SHA256.hash(data: request.body)))
    }

    /// `parse(_:endpoint:verifiedSecrets:)` for a delivery verified by one secret.
    public static func parse(_ request: WebhookRequest, endpoint: WebhookEndpoint, secretName: String) throws(WebhookRejection) -> WebhookDelivery {
        try parse(request, endpoint: endpoint, verifiedSecrets: secretName.isEmpty ? [] : [secretName])
    }

    /// What a source's parser extracts.
    struct Parsed {
        var deliveryID: String
        var event: TriggerEvent
        var payload: AuditValue
        var commit: String? = nil
        var cloneURL: String? = nil
        var cloneURLRefusal: String? = nil
        var isPing = false
    }

    /// A delivery id header's value, 400 when missing or not 1-128 of `A-Z a-z 0-9 . _ : -`.
    static func deliveryID(_ request: WebhookRequest, _ header: String) throws(WebhookRejection) -> String {
        let id = try request.required(header)
        guard WebhookValues.isDeliveryID(id) else {
            throw .badRequest("header \(header) \(WebhookText.quote(id)) is not 1-128 of A-Z a-z 0-9 . _ : -")
        }
        return id
    }

    /// The payload's clone URL at `path` checked against `repository`: (url, nil) or (nil, why).
    static func cloneURL(_ payload: WebhookPayload, _ path: String, repository: String?,
                         allowPrefix: Bool) throws(WebhookRejection) -> (String?, String?) {
        guard let v = payload.value(path) else { return (nil, nil) }
        guard let url = v.stringValue else { return (nil, "\(path) is not a string") }
        guard let repository else { return (nil, "the payload names no repository for its clone URL") }
        switch WebhookCloneURL.check(url, repository: repository, allowPrefix: allowPrefix) {
        case .success(let u): return (u, nil)
        case .failure(let r): return (nil, r.reason)
        }
    }

    /// A generic webhook: any JSON body, the event is the hook's name.
    static func generic(_ request: WebhookRequest, hook: String) throws(WebhookRejection) -> Parsed {
        try request.requireJSONContentType("webhook")
        let id = try deliveryID(request, "X-Warden-Delivery")
        let payload = try WebhookJSON.parse(request.body)
        return Parsed(deliveryID: id, event: .webhook(hook), payload: payload)
    }
}
