/// The rules an origin path must follow before a rule is matched against it. Anything a
/// server might read differently from the broker is refused rather than normalised:
/// - bytes other than RFC 3986 `pchar` and `/` (so spaces, backslash, control bytes, bytes
///   at or above 0x80, `"<>[]^{|}` and backquote);
/// - `%` not followed by two hex digits; `%2F`, `%5C`, `%00`, any encoded control byte, and
///   `%25` (an encoded `%` invites double decoding);
/// - `.` and `..` segments, raw or encoded (`%2e`), also before a `;` parameter (`..;`);
/// - empty segments (`//`); a trailing `/` is allowed;
/// - encoded bytes that do not form UTF-8.
public enum PathSafety {
    public static func check(_ rawPath: String) throws(HTTPRefusal) {
        _ = try decoded(rawPath)
    }

    /// Checks `rawPath` and returns it percent-decoded (what rules are matched against).
    public static func decoded(_ rawPath: String) throws(HTTPRefusal) -> String {
        try decoded(Array(rawPath.utf8)[...])
    }

    static func decoded(_ raw: ArraySlice<UInt8>) throws(HTTPRefusal) -> String {
        guard raw.first == UInt8(ascii: "/") else { throw refusal("the path does not start with /") }
        var decodedBytes: [UInt8] = []
        decodedBytes.reserveCapacity(raw.count)
        // The decoded bytes of the current segment, up to its first ';'.
        var segmentStart = 0
        var segmentParamsAt: Int?
        var index = raw.startIndex
        func endSegment(isLast: Bool) throws(HTTPRefusal) {
            let end = segmentParamsAt ?? decodedBytes.count
            let segment = decodedBytes[segmentStart..<end]
            if decodedBytes.count == segmentStart && !isLast {
                throw refusal("empty path segment (//)")
            }
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw refusal("dot segment (. or ..) in the path")
            }
            if segmentParamsAt == segmentStart {
                throw refusal("path parameter (;) without a segment name")
            }
        }
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "/") {
                if index != raw.startIndex { try endSegment(isLast: false) }
                decodedBytes.append(byte)
                segmentStart = decodedBytes.count
                segmentParamsAt = nil
                index += 1
                continue
            }
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.endIndex, let high = HTTPSyntax.hexValue(raw[index + 1]), let low = HTTPSyntax.hexValue(raw[index + 2]) else {
                    throw refusal("'%' not followed by two hex digits")
                }
                let value = UInt8(high << 4 | low)
                switch value {
                case UInt8(ascii: "/"): throw refusal("encoded slash (%2F) in the path")
                case UInt8(ascii: "\\"): throw refusal("encoded backslash (%5C) in the path")
                case 0: throw refusal("encoded NUL (%00) in the path")
                case UInt8(ascii: "%"): throw refusal("encoded percent (%25) in the path: double encoding")
                case ..<0x20, 0x7F: throw refusal("encoded control byte in the path")
                default: break
                }
                decodedBytes.append(value)
                index += 3
                continue
            }
            guard isPathByte(byte) else {
                switch byte {
                case UInt8(ascii: "\\"): throw refusal("backslash in the path")
                case UInt8(ascii: " "): throw refusal("space in the path")
                case ..<0x20, 0x7F: throw refusal("control byte in the path")
                case 0x80...: throw refusal("byte above 0x7F in the path (percent-encode it)")
                default: throw refusal("character \(HTTPSyntax.describe(byte)) is not allowed in a path")
                }
            }
            if byte == UInt8(ascii: ";") && segmentParamsAt == nil { segmentParamsAt = decodedBytes.count }
            decodedBytes.append(byte)
            index += 1
        }
        try endSegment(isLast: true)
        guard let text = HTTPSyntax.exactString(decodedBytes) else {
            throw refusal("percent-encoded bytes in the path are not UTF-8")
        }
        return text
    }

    /// RFC 3986 `pchar` without `%` (unreserved, sub-delims, ':' and '@').
    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
             UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    static func refusal(_ reason: String) -> HTTPRefusal { HTTPRefusal(status: 400, reason: reason) }
}
