import WardenAudit
import WardenPolicy

/// The JSON document an agent receives in its world for a launch:
///
/// ```json
/// {"action":"opened","branch":"main","clone_url":"https://github.com/acme/app.git",
///  "commit":"<sha>","delivery":"<id>","event":"pull_request","fields":{"pull_request.number":7},
///  "hook":null,"repository":"acme/app","sender":"alice","source":"github","trigger":"review-prs"}
/// ```
///
/// Every key is always present (null when the event has no such value). `fields` maps each of
/// the trigger's `fields` paths to the payload's value there, or null when missing. A path
/// steps through objects by member name and through arrays by decimal index
/// (`commits.0.id`; no leading zeros, no negative indexes).
public enum EventDocument {
    public static func make(_ delivery: WebhookDelivery, trigger: CheckedTrigger) -> AuditValue {
        let e = delivery.event
        func opt(_ s: String?) -> AuditValue { s.map { .string($0) } ?? .null }
        var fields: [String: AuditValue] = [:]
        for path in trigger.fields { fields[path] = field(delivery.payload, path) }
        return .object([
            "source": .string(e.source.rawValue),
            "event": opt(e.event),
            "action": opt(e.action),
            "repository": opt(e.repository),
            "branch": opt(e.branch),
            "commit": opt(delivery.commit),
            "sender": opt(e.sender),
            "hook": opt(e.hook),
            "clone_url": opt(delivery.cloneURL),
            "trigger": .string(trigger.name),
            "delivery": .string(delivery.deliveryID),
            "fields": .object(fields),
        ])
    }

    /// The RFC 8785 canonical JSON text of `document` (`AuditValue.jsonText`).
    public static func bytes(_ document: AuditValue) -> [UInt8] {
        Array(document.jsonText.utf8)
    }

    /// The value at dotted `path` in `payload`, or null.
    static func field(_ payload: AuditValue, _ path: String) -> AuditValue {
        var v = payload
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch v {
            case .object(let o):
                guard let next = o[String(segment)] else { return .null }
                v = next
            case .array(let a):
                guard let i = index(segment), i < a.count else { return .null }
                v = a[i]
            default:
                return .null
            }
        }
        return v
    }

    /// A canonical decimal array index (`0`, `17`; not `07`, `-1`, `+1`, or over 9 digits).
    static func index(_ s: Substring) -> Int? {
        let b = s.utf8
        guard (1...9).contains(b.count), b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), b.count == 1 || b.first != 0x30 else { return nil }
        return Int(s)
    }
}
