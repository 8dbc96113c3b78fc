import WardenAudit

/// Parses a webhook body with WardenAudit's strict parser (no duplicate keys, valid UTF-8,
/// depth at most 64), after one linear pass that removes the blanks between tokens (which
/// the audit format never has but senders may) and writes every number that is not an
/// Int64 integer (`1.5`, `2e3`, `18446744073709551616`) as a string holding its text, so
/// events with fractional fields (GitLab's job durations) parse. The pass also bounds the
/// number of values, so an authenticated sender cannot make a small body expand into a
/// huge tree.
package enum WebhookJSON {
    /// The most containers and separators (`{`, `[`, `,`) a body may hold.
    static let maxValues = 200_000

    /// For the package's API clients (a forge's answers): the value, or nil when `body` is
    /// not JSON under the same rules.
    package static func value(_ body: [UInt8]) -> AuditValue? { try? parse(body) }

    static func parse(_ body: [UInt8]) throws(WebhookRejection) -> AuditValue {
        let normalized = try normalize(body)
        switch AuditValue.parseJSON(normalized) {
        case .success(let v): return v
        case .failure(let f): throw .badRequest("the body is not JSON: \(f.reason)")
        }
    }

    /// `body` without blanks outside strings, with non-Int64 numbers quoted.
    static func normalize(_ body: [UInt8]) throws(WebhookRejection) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var values = 0
        var i = 0
        let n = body.count
        var blank = false
        while i < n {
            let c = body[i]
            // Removing a blank must never join two tokens into one (`- 1`, `tr ue`, `1 2`).
            if blank, isWordByte(c), let last = out.last, isWordByte(last) {
                throw .badRequest("the body is not JSON: a blank inside a token")
            }
            blank = false
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D:
                blank = true
                i += 1
            case UInt8(ascii: "\""):
                // Copy the string through its closing quote, skipping escaped characters.
                out.append(c)
                i += 1
                while i < n {
                    let s = body[i]
                    out.append(s)
                    i += 1
                    if s == UInt8(ascii: "\\") {
                        if i < n { out.append(body[i]); i += 1 }
                    } else if s == UInt8(ascii: "\"") {
                        break
                    }
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var j = i
                while j < n, isNumberByte(body[j]) { j += 1 }
                let token = body[i..<j]
                if let quote = quotedNumber(token) {
                    out.append(contentsOf: quote)
                } else {
                    out.append(contentsOf: token)
                }
                i = j
            default:
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") || c == UInt8(ascii: ",") {
                    values += 1
                    guard values <= maxValues else {
                        throw WebhookRejection(status: 413, "the body holds more than \(maxValues) JSON values")
                    }
                }
                out.append(c)
                i += 1
            }
        }
        return out
    }

    static func isWordByte(_ c: UInt8) -> Bool {
        isNumberByte(c) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A)
    }

    static func isNumberByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    }

    /// `"token"` when `token` is a JSON number that is not an Int64 integer; nil otherwise
    /// (an integer that fits, or not a number at all: left for the parser to judge).
    static func quotedNumber(_ token: ArraySlice<UInt8>) -> [UInt8]? {
        let b = Array(token)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        let intDigits = digits()
        guard intDigits > 0, !(intDigits > 1 && b[intStart] == UInt8(ascii: "0")) else { return nil }
        var integer = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return nil }
            integer = false
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
            integer = false
        }
        guard i == b.count else { return nil }
        if integer, Int64(String(decoding: b, as: UTF8.self)) != nil { return nil }
        return [UInt8(ascii: "\"")] + b + [UInt8(ascii: "\"")]
    }
}
