/// A bounded request as the HTTP layer hands it over: its header fields in order
/// (names as received, values without surrounding blanks) and its raw body.
public struct WebhookRequest: Sendable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(headers: [(name: String, value: String)], body: [UInt8]) {
        self.headers = headers
        self.body = body
    }

    /// The value of header `name` (compared without regard to ASCII case), nil when absent.
    /// A header that appears more than once is ambiguous: 400, whatever the values.
    public func header(_ name: String) throws(WebhookRejection) -> String? {
        var found: String?
        var seen = false
        for h in headers where Self.sameName(h.name, name) {
            guard !seen else { throw .badRequest("header \(name) appears more than once") }
            seen = true
            found = Self.trimmed(h.value)
        }
        return found
    }

    /// The value of header `name`; 400 naming it when absent or empty.
    func required(_ name: String) throws(WebhookRejection) -> String {
        guard let v = try header(name), !v.isEmpty else { throw .badRequest("header \(name) is missing") }
        return v
    }

    /// ASCII case-insensitive comparison of header names.
    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }

    /// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
    static func trimmed(_ s: String) -> String {
        let b = Array(s.utf8)
        var lo = 0, hi = b.count
        while lo < hi, b[lo] == 0x20 || b[lo] == 0x09 { lo += 1 }
        while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x09 { hi -= 1 }
        return lo == 0 && hi == b.count ? s : String(decoding: b[lo..<hi], as: UTF8.self)
    }

    /// Requires a JSON body: `Content-Type: application/json` (parameters such as
    /// `charset=utf-8` allowed). A form-encoded body gets 415 with how to fix the hook.
    func requireJSONContentType(_ source: String) throws(WebhookRejection) {
        guard let ct = try header("Content-Type") else {
            throw .unsupportedMediaType("the request has no Content-Type; send the body as application/json")
        }
        let mediaType = String(decoding: ct.utf8.prefix { $0 != UInt8(ascii: ";") }.map(Self.lower), as: UTF8.self)
        switch Self.trimmed(mediaType) {
        case "application/json": return
        case "application/x-www-form-urlencoded":
            throw .unsupportedMediaType("the \(source) hook sends form-encoded bodies; set its content type to application/json")
        default:
            throw .unsupportedMediaType("Content-Type \(WebhookText.quote(ct)) is not application/json")
        }
    }
}
