/// A JSON value with ordered object keys, printed deterministically (for SARIF and
/// `--list-rules --format json`, whose output is compared with golden files).
public indirect enum OrderedJSON: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool { a.rendered() == b.rendered() }
    public func hash(into h: inout Hasher) { h.combine(rendered()) }

    /// Pretty-printed with 2-space indentation, ending without a newline.
    public func rendered(indent: Int = 0) -> String {
        var out = ""
        write(&out, indent)
        return out
    }

    private func write(_ out: inout String, _ level: Int) {
        // Indentation is built only for containers: leaves are most of a SARIF log.
        switch self {
        case .string(let s): out += DiagnosticRenderer.quote(s)
        case .int(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            let pad = String(repeating: "  ", count: level + 1)
            for (i, v) in items.enumerated() {
                out += pad
                v.write(&out, level + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: level) + "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{\n"
            let pad = String(repeating: "  ", count: level + 1)
            for (i, (k, v)) in fields.enumerated() {
                out += pad + DiagnosticRenderer.quote(k) + ": "
                v.write(&out, level + 1)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: level) + "}"
        }
    }
}
