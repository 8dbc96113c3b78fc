import WardenKernel

/// Why a delivery is refused: the HTTP status to answer with and a reason that is safe to
/// log and to send back (printable ASCII, every untrusted piece escaped and cut short, the
/// whole at most `maxReasonBytes`; never a secret, a token or a signature).
///
/// Statuses: 400 a malformed or ambiguous request (duplicated header, bad delivery id, a body
/// that is not JSON), 401 no usable credential (missing or malformed signature or token, a
/// timestamp outside the replay window), 403 a credential no declared secret verifies (or no
/// trigger of the endpoint declares a usable secret), 413 a body over `ServeLimits.maxBodyBytes`,
/// 415 a body that is not `application/json`, 422 JSON whose fields are missing or invalid.
public struct WebhookRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var reason: String

    /// The longest reason, in bytes.
    public static let maxReasonBytes = 200

    /// `reason` is made ASCII and cut to `maxReasonBytes`; quote untrusted values with `WebhookText.quote`.
    public init(status: Int, _ reason: String) {
        self.status = status
        self.reason = WebhookText.bounded(reason, maxBytes: Self.maxReasonBytes)
    }

    public var description: String { "\(status): \(reason)" }

    static func badRequest(_ reason: String) -> WebhookRejection { WebhookRejection(status: 400, reason) }
    static func unauthenticated(_ reason: String) -> WebhookRejection { WebhookRejection(status: 401, reason) }
    static func forbidden(_ reason: String) -> WebhookRejection { WebhookRejection(status: 403, reason) }
    static func unsupportedMediaType(_ reason: String) -> WebhookRejection { WebhookRejection(status: 415, reason) }
    static func unprocessable(_ reason: String) -> WebhookRejection { WebhookRejection(status: 422, reason) }
}

/// Turning untrusted text into short printable ASCII for reasons and logs.
public enum WebhookText {
    /// `text` quoted for a message: at most `maxScalars` scalars (then `…` as `...`), every
    /// character outside printable ASCII written as `\xHH` or `\uHHHH` (see `TerminalText`),
    /// between single quotes.
    public static func quote(_ text: String, maxScalars: Int = 40) -> String {
        "'" + ascii(text, maxScalars: maxScalars) + "'"
    }

    /// `text` with everything outside printable ASCII escaped, cut after `maxScalars` scalars.
    public static func ascii(_ text: String, maxScalars: Int) -> String {
        var out = ""
        var count = 0
        for u in text.unicodeScalars {
            if count == maxScalars { return out + "..." }
            count += 1
            if u.value >= 0x20 && u.value < 0x7F {
                out.unicodeScalars.append(u)
            } else if TerminalText.needsEscape(u) {
                out += TerminalText.escaped(u)
            } else {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return out
    }

    /// `text` made printable ASCII and cut to at most `maxBytes` bytes (ending in `...` when cut).
    static func bounded(_ text: String, maxBytes: Int) -> String {
        // Each kept scalar makes at least one byte: never escape more than can be kept.
        let a = TerminalText.escape(ascii(text, maxScalars: maxBytes))
        guard a.utf8.count > maxBytes else { return a }
        return String(decoding: a.utf8.prefix(maxBytes - 3), as: UTF8.self) + "..."
    }
}
