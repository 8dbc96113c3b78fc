/// Meaning of the fields that decide framing and connection handling, shared by requests and
/// responses, and the rebuilding of a field section.
public enum HTTPFields {
    /// Hop-by-hop fields (RFC 9110 section 7.6.1 and common proxy fields): never forwarded as
    /// received; the broker emits its own `Connection` when needed. Every other `Proxy-*`
    /// field is dropped as well.
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
        "te", "trailer", "upgrade",
    ]

    /// Fields a `Connection` header may not name: the broker needs them to frame and route.
    static let connectionMayNotName: Set<String> = ["host", "content-length", "transfer-encoding"]

    /// Lowercased names of headers by which some servers and frameworks take the method or
    /// the path from the request instead of the request line. A request carrying one is
    /// refused: the rules decided the request line.
    public static let overrideHeaders: Set<String> = [
        "x-http-method-override", "x-http-method", "x-method-override",
        "x-original-url", "x-rewrite-url", "x-original-method",
    ]

    /// `lowercasedName` is one of ``overrideHeaders``, also when `_` is read as `-`.
    static func isOverrideHeader(_ lowercasedName: String) -> Bool {
        overrideHeaders.contains(lowercasedName) || overrideHeaders.contains(String(lowercasedName.map { $0 == "_" ? "-" : $0 }))
    }

    /// A name that is not Host, Content-Length or Transfer-Encoding but becomes one when `_`
    /// is read as `-` (as CGI-style servers do): refused so no server frames on it.
    static func looksLikeFramingHeader(_ lowercasedName: String) -> Bool {
        guard lowercasedName.utf8.contains(UInt8(ascii: "_")) else { return false }
        return connectionMayNotName.contains(String(lowercasedName.map { $0 == "_" ? "-" : $0 }))
    }

    /// A name the broker may emit: a non-empty token.
    public static func isValidName(_ name: String) -> Bool { HTTPSyntax.isToken(name.utf8) }

    /// A value the broker may emit: no control bytes except HTAB, no leading/trailing whitespace.
    public static func isValidValue(_ value: String) -> Bool {
        var previous: UInt8?
        for byte in value.utf8 {
            if previous == nil, byte == HTTPSyntax.space || byte == HTTPSyntax.tab { return false }
            if !HTTPSyntax.isFieldValueByte(byte) { return false }
            previous = byte
        }
        return previous.map { $0 != HTTPSyntax.space && $0 != HTTPSyntax.tab } ?? true
    }

    /// Content-Length: one field, one value of 1-15 digits.
    static func contentLength(_ values: [String], status: Int) throws(HTTPRefusal) -> Int? {
        guard let value = values.first else { return nil }
        if values.count > 1 { throw HTTPRefusal(status: status, reason: "more than one Content-Length header") }
        let bytes = Array(value.utf8)
        if bytes.contains(UInt8(ascii: ",")) { throw HTTPRefusal(status: status, reason: "Content-Length holds a list") }
        guard !bytes.isEmpty, bytes.allSatisfy(HTTPSyntax.isDigit) else {
            throw HTTPRefusal(status: status, reason: "Content-Length is not a decimal number")
        }
        guard bytes.count <= 15 else { throw HTTPRefusal(status: status == 400 ? 413 : status, reason: "Content-Length is too large") }
        return bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Transfer-Encoding: one field whose value is exactly `chunked` (any case).
    static func isChunked(_ values: [String], status: Int) throws(HTTPRefusal) -> Bool {
        guard let value = values.first else { return false }
        if values.count > 1 { throw HTTPRefusal(status: status, reason: "more than one Transfer-Encoding header") }
        guard HTTPSyntax.lowercasedASCII(value) == "chunked" else {
            throw HTTPRefusal(status: status == 400 ? 501 : status, reason: "Transfer-Encoding other than exactly 'chunked'")
        }
        return true
    }

    /// The options of every Connection field: `close`, `keep-alive`, and the other (lowercased) names.
    static func connection(_ values: [String], status: Int) throws(HTTPRefusal) -> (close: Bool, keepAlive: Bool, options: Set<String>) {
        var close = false
        var keepAlive = false
        var options: Set<String> = []
        for value in values {
            for element in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let trimmed = HTTPSyntax.trimmingOWS(ArraySlice(element))
                if trimmed.isEmpty { continue }
                guard HTTPSyntax.isToken(trimmed) else {
                    throw HTTPRefusal(status: status, reason: "Connection holds something other than tokens")
                }
                let option = HTTPSyntax.lowercasedASCII(String(decoding: trimmed, as: UTF8.self))
                switch option {
                case "close": close = true
                case "keep-alive": keepAlive = true
                default:
                    if connectionMayNotName.contains(option) {
                        throw HTTPRefusal(status: status, reason: "Connection names \(option), which must reach the server")
                    }
                    options.insert(option)
                }
            }
        }
        return (close, keepAlive, options)
    }

    /// Appends the rebuilt field section and its final CRLF: the headers kept (not hop-by-hop,
    /// not named in Connection, `removing` or `setting`), `Connection: close` unless the
    /// connection is kept or `setting` has a Connection, then `setting` in order. Entries
    /// with an invalid name or value (a caller's edit) are skipped, so nothing can split a line.
    static func appendSection(
        to out: inout [UInt8], headers: [(name: String, value: String)], connectionOptions: Set<String>,
        keepAlive: Bool, setting: [(name: String, value: String)], removing: Set<String>
    ) {
        let setNames = Set(setting.map { HTTPSyntax.lowercasedASCII($0.name) })
        let drop = hopByHop.union(connectionOptions).union(removing.map(HTTPSyntax.lowercasedASCII)).union(setNames)
        // Parsed headers are valid; the check guards values a caller changed (a replaced placeholder).
        for header in headers {
            let lower = HTTPSyntax.lowercasedASCII(header.name)
            guard !drop.contains(lower), !lower.hasPrefix("proxy-"), isValidName(header.name), isValidValue(header.value) else { continue }
            appendField(to: &out, header.name, header.value)
        }
        if !keepAlive && !setNames.contains("connection") { appendField(to: &out, "Connection", "close") }
        for header in setting where isValidName(header.name) && isValidValue(header.value) {
            appendField(to: &out, header.name, header.value)
        }
        out.append(contentsOf: [HTTPSyntax.cr, HTTPSyntax.lf])
    }

    static func appendField(to out: inout [UInt8], _ name: String, _ value: String) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: [HTTPSyntax.colon, HTTPSyntax.space])
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: [HTTPSyntax.cr, HTTPSyntax.lf])
    }
}
