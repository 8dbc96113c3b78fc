/// The two canonical serialisations of audit JSON; a record line's `version` says which.
///
/// Both write no whitespace, integers in decimal, strings as raw UTF-8 with `"` and `\`
/// escaped as `\"` `\\`, U+0008, U+0009, U+000A, U+000C and U+000D as `\b \t \n \f \r`, and
/// the other characters below U+0020 as `\u00xx` (lowercase hex). They differ in three
/// places only (docs/audit.md, "Canonical form"):
///
/// | | `legacy` (record version 1) | `jcs` (RFC 8785, record version 2) |
/// |---|---|---|
/// | object keys | sorted by UTF-8 bytes (code points) | sorted by UTF-16 code units |
/// | U+007F (DEL) | escaped, `\u007f` | raw |
/// | integers beyond ±(2^53−1) | decimal | a JSON string of the decimal digits |
///
/// The key orders differ only between a key character in U+E000–U+FFFF and one above
/// U+FFFF (UTF-16 puts the latter, a surrogate pair, first). Integers beyond ±(2^53−1) are
/// not I-JSON (RFC 7493), which RFC 8785 requires: an ECMAScript number cannot hold them
/// exactly, so JCS writes them as strings and never rounds a value.
public enum CanonicalForm: Sendable, Equatable {
    /// Warden's form before RFC 8785 (record version 1): verified, never written to a log.
    case legacy
    /// RFC 8785, the JSON Canonicalization Scheme (record version 2).
    case jcs
}

/// Deterministic JSON serialisation for audit lines and every other JSON Warden writes.
enum CanonicalJSON {
    /// Largest magnitude an integer may have to be written as a JSON number in JCS (I-JSON).
    static let maxExactInteger: Int64 = 9_007_199_254_740_991

    static func serialize(_ value: AuditValue, form: CanonicalForm = .jcs) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        append(value, form: form, to: &out)
        return out
    }

    static func append(_ value: AuditValue, form: CanonicalForm = .jcs, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): appendInt(i, form: form, to: &out)
        case .string(let s): appendString(s, form: form, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(v, form: form, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            appendObject(o, form: form, to: &out)
        }
    }

    static func appendObject(_ o: [String: AuditValue], form: CanonicalForm = .jcs, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in sorted(o, form: form) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendString(key, form: form, to: &out)
            out.append(UInt8(ascii: ":"))
            append(value, form: form, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Members in the form's key order (never Swift's Unicode-aware `String` ordering).
    static func sorted(_ o: [String: AuditValue], form: CanonicalForm) -> [(key: String, value: AuditValue)] {
        switch form {
        case .legacy: return o.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        case .jcs: return o.sorted { KeyOrder.utf16Precedes($0.key, $1.key) }
        }
    }

    /// An integer: decimal, or in JCS a decimal string when it is beyond ±(2^53−1).
    static func appendInt(_ i: Int64, form: CanonicalForm = .jcs, to out: inout [UInt8]) {
        if form == .jcs && (i > maxExactInteger || i < -maxExactInteger) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: String(i).utf8)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: String(i).utf8)
        }
    }

    static func appendString(_ s: String, form: CanonicalForm = .jcs, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0..<0x20: appendEscape(b, to: &out)
            case 0x7F where form == .legacy: appendEscape(b, to: &out)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `\u00xx` with lowercase hex digits.
    private static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        out.append(contentsOf: "\\u00".utf8)
        out.append(Hex.digit(b >> 4))
        out.append(Hex.digit(b & 0xF))
    }
}
