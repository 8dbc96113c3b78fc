/// Deterministic JSON serialisation used for every audit line.
///
/// Rules (documented in docs/audit.md): object keys sorted by their UTF-8 bytes; no
/// whitespace; integers in shortest decimal form; strings escape only `"` and `\` (as `\"`,
/// `\\`), `\b \t \n \f \r` for those controls, every other byte below 0x20 and 0x7F as
/// `\u00xx` (lowercase hex); all other characters are written as raw UTF-8.
enum CanonicalJSON {
    static func serialize(_ value: AuditValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        append(value, to: &out)
        return out
    }

    static func append(_ value: AuditValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): appendInt(i, to: &out)
        case .string(let s): appendString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(v, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            appendObject(o, to: &out)
        }
    }

    static func appendObject(_ o: [String: AuditValue], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for key in sortedKeys(o) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            if let v = o[key] { append(v, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Keys in UTF-8 byte order (not Swift's Unicode-aware String ordering).
    static func sortedKeys(_ o: [String: AuditValue]) -> [String] {
        o.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func appendInt(_ i: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(i).utf8)
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
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
            case 0..<0x20, 0x7F:
                out.append(contentsOf: "\\u00".utf8)
                out.append(Hex.digit(b >> 4))
                out.append(Hex.digit(b & 0xF))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
