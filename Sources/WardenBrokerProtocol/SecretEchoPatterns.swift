/// The byte strings that betray a secret in a response (a server echoing request headers
/// back: httpbin's `/headers`, a debug endpoint, TRACE on a server that allows it, or a
/// stateful service returning a stored credential later), for a ``PlaceholderScanner`` run
/// over a case-folded copy of response heads and bodies (see ``folded(_:)``).
///
/// The heuristic: every window of `min(len, 12)` consecutive bytes of the value (so a
/// truncated echo, or either half of one split in two, is caught when at least 12 bytes of it
/// are sent together); the same windows of its JSON-escaped (`\/`, `\"`, `\\`, `\u00XX`),
/// HTML-escaped and percent-encoded forms when they differ; and windows of 16 characters of
/// its base64 at the three alignments (of V, "x"+V and "xx"+V, with the characters that
/// depend on the neighbouring bytes trimmed). Matching is ASCII case-insensitive.
/// False positives: a 12-byte window (16 for base64) of a random secret is very unlikely in an
/// honest response; a secret shorter than 12 bytes is scanned whole, and a short or
/// low-entropy one (a PIN, a dictionary word) may match ordinary text and cut a response.
public enum SecretEchoPatterns {
    /// Bytes of the value per window.
    public static let window = 12
    /// Characters of base64 per window.
    public static let base64Window = 16

    /// Every pattern for a secret `value`, and for each `basicUsers` entry the base64
    /// credential `base64(user:value)` whole. Case-folded, deduplicated, none empty.
    public static func patterns(value: [UInt8], basicUsers: [String] = []) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        func add(_ pattern: [UInt8]) {
            let p = folded(pattern)
            if !p.isEmpty && seen.insert(p).inserted { out.append(p) }
        }
        func addWindows(_ form: [UInt8], size: Int) {
            guard !form.isEmpty else { return }
            let n = min(form.count, size)
            for start in 0...(form.count - n) { add(Array(form[start..<(start + n)])) }
        }
        guard !value.isEmpty else { return [] }
        for form in [value, jsonEscaped(value), htmlEscaped(value), percentEncoded(value)] {
            addWindows(form, size: window)
        }
        for prefix in 0..<3 {
            let encoded = Array(Base64.encode(Array(repeating: UInt8(ascii: "x"), count: prefix) + value).utf8)
            // Characters 0..<lead mix the prefix's bits; the last ones mix padding or the next byte.
            let lead = prefix == 0 ? 0 : prefix + 1
            let total = prefix + value.count
            let end = total / 3 * 4 + total % 3
            guard end > lead else { continue }
            addWindows(Array(encoded[lead..<end]), size: base64Window)
        }
        for user in basicUsers {
            add(Array(Base64.encode(Array(user.utf8) + [UInt8(ascii: ":")] + value).utf8))
        }
        return out
    }

    /// ASCII case-folded (A-Z to a-z), the same length: scan `folded(bytes)` for these patterns.
    public static func folded(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    /// `value` inside a JSON string as PHP writes it: `"`, `\` and `/` escaped, control bytes as `\u00XX`.
    static func jsonEscaped(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in value {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") {
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            } else if byte < 0x20 {
                out.append(contentsOf: Array("\\u00".utf8) + hex(byte, upper: false))
            } else {
                out.append(byte)
            }
        }
        return out
    }

    /// `value` with `& < > " '` as HTML entities (`&amp;` `&lt;` `&gt;` `&quot;` `&#39;`).
    static func htmlEscaped(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in value {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// `value` percent-encoded: every byte but the RFC 3986 unreserved ones as `%XX`.
    static func percentEncoded(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in value {
            let unreserved = HTTPSyntax.isDigit(byte) || (byte | 0x20 >= 97 && byte | 0x20 <= 122)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
            if unreserved { out.append(byte) } else { out.append(UInt8(ascii: "%")); out.append(contentsOf: hex(byte, upper: true)) }
        }
        return out
    }

    private static func hex(_ byte: UInt8, upper: Bool) -> [UInt8] {
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 15)]]
    }
}
