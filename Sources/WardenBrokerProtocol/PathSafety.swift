/// The rules an origin path must follow before a rule is matched against it. Anything a
/// server might read differently from the broker is refused rather than normalised:
/// - bytes other than RFC 3986 `pchar` and `/` (so spaces, backslash, control bytes, bytes
///   at or above 0x80, `"<>[]^{|}` and backquote);
/// - `;` anywhere, raw or encoded (`%3B`): matrix parameters, which Tomcat and Spring strip
///   (`/admin;x=1` reaches `/admin`);
/// - `%` not followed by two hex digits; `%2F`, `%5C`, `%00`, `%25` (an encoded `%` invites
///   double decoding), and any encoded whitespace or control character (`%20`, `%09`,
///   `%0A`, `%7F`, and after UTF-8 decoding U+0085, U+00A0, U+2028, zero-width and other
///   Unicode space, control and format characters);
/// - `.` and `..` segments, raw or encoded (`%2e`), and any segment that ends in `.`
///   (IIS and Windows file systems trim it: `/admin.` reaches `/admin`);
/// - empty segments (`//`); a trailing `/` is allowed;
/// - encoded bytes that do not form UTF-8.
///
/// Two forms of an accepted path: ``decoded(_:)`` (every escape decoded; what rules match)
/// and ``normalized(_:)`` (only unreserved characters decoded, other escapes in uppercase
/// hex; what the broker forwards). Percent-decoding the forwarded form gives exactly the
/// decided form, so a server that decodes the path sees the path the rules saw.
public enum PathSafety {
    public static func check(_ rawPath: String) throws(HTTPRefusal) {
        _ = try decoded(rawPath)
    }

    /// Checks `rawPath` and returns it percent-decoded (what rules are matched against).
    public static func decoded(_ rawPath: String) throws(HTTPRefusal) -> String {
        try forms(Array(rawPath.utf8)[...]).decoded
    }

    /// Checks `rawPath` and returns the form the broker forwards: escapes of unreserved
    /// characters (`A-Z a-z 0-9 - . _ ~`) decoded, every other escape kept with uppercase hex
    /// digits, raw bytes unchanged. `/%65cho` becomes `/echo`; `/a%3fb` becomes `/a%3Fb`.
    public static func normalized(_ rawPath: String) throws(HTTPRefusal) -> String {
        try forms(Array(rawPath.utf8)[...]).normalized
    }

    static func decoded(_ raw: ArraySlice<UInt8>) throws(HTTPRefusal) -> String {
        try forms(raw).decoded
    }

    /// Validates `raw` and returns both forms (see the type's documentation).
    static func forms(_ raw: ArraySlice<UInt8>) throws(HTTPRefusal) -> (decoded: String, normalized: String) {
        guard raw.first == UInt8(ascii: "/") else { throw refusal("the path does not start with /") }
        var decodedBytes: [UInt8] = []
        decodedBytes.reserveCapacity(raw.count)
        var normalizedBytes: [UInt8] = []
        normalizedBytes.reserveCapacity(raw.count)
        // Where the current segment starts in `decodedBytes`.
        var segmentStart = 0
        var index = raw.startIndex
        func endSegment(isLast: Bool) throws(HTTPRefusal) {
            let segment = decodedBytes[segmentStart...]
            if segment.isEmpty {
                if isLast { return }
                throw refusal("empty path segment (//)")
            }
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw refusal("dot segment (. or ..) in the path")
            }
            if segment.last == UInt8(ascii: ".") {
                throw refusal("path segment ending in '.' (some servers trim it)")
            }
        }
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "/") {
                if index != raw.startIndex { try endSegment(isLast: false) }
                decodedBytes.append(byte)
                normalizedBytes.append(byte)
                segmentStart = decodedBytes.count
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
                case UInt8(ascii: ";"): throw refusal("encoded semicolon (%3B) in the path: matrix parameters are not supported")
                case UInt8(ascii: " "): throw refusal("encoded space (%20) in the path")
                case ..<0x20, 0x7F: throw refusal("encoded control or whitespace byte in the path")
                default: break
                }
                decodedBytes.append(value)
                if isUnreserved(value) {
                    normalizedBytes.append(value)
                } else {
                    normalizedBytes.append(contentsOf: [UInt8(ascii: "%"), hexDigit(value >> 4), hexDigit(value & 0xF)])
                }
                index += 3
                continue
            }
            guard isPathByte(byte) else {
                switch byte {
                case UInt8(ascii: "\\"): throw refusal("backslash in the path")
                case UInt8(ascii: " "): throw refusal("space in the path")
                case ..<0x20, 0x7F: throw refusal("control byte in the path")
                case 0x80...: throw refusal("byte above 0x7F in the path (percent-encode it)")
                case UInt8(ascii: ";"): throw refusal("semicolon (;) in the path: matrix parameters are not supported")
                default: throw refusal("character \(HTTPSyntax.describe(byte)) is not allowed in a path")
                }
            }
            decodedBytes.append(byte)
            normalizedBytes.append(byte)
            index += 1
        }
        try endSegment(isLast: true)
        guard let text = HTTPSyntax.exactString(decodedBytes) else {
            throw refusal("percent-encoded bytes in the path are not UTF-8")
        }
        if text.unicodeScalars.contains(where: isInvisibleOrSpace) {
            throw refusal("encoded Unicode whitespace, control or format character in the path")
        }
        return (text, String(decoding: normalizedBytes, as: UTF8.self))
    }

    /// RFC 3986 `pchar` without `%` and `;` (unreserved, sub-delims but `;`, ':' and '@').
    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="),
             UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    /// RFC 3986 unreserved: an escape of one of these means the same as the byte itself.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Scalars a server may trim, fold or hide: controls (C0, DEL, C1), every Unicode space
    /// and line/paragraph separator, and format characters (zero-width space, BOM, bidi marks).
    static func isInvisibleOrSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return scalar.properties.isWhitespace
        }
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    static func refusal(_ reason: String) -> HTTPRefusal { HTTPRefusal(status: 400, reason: reason) }
}
