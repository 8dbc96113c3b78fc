/// A JSON-shaped value with ordered keys, rendered as JSON or YAML for the exporters.
/// Unlike `JSONEncoder`, integers keep all 64 bits (seccomp argument values) and key order
/// is the order a human reads best (`ociVersion` first, `kind` before `spec`).
public indirect enum ExportValue: Sendable, Equatable {
    case string(String)
    case uint(UInt64)
    case int(Int64)
    case bool(Bool)
    case array([ExportValue])
    case object([(String, ExportValue)])

    public static func == (a: ExportValue, b: ExportValue) -> Bool { a.json() == b.json() }

    /// The value of `key` in an object.
    public subscript(key: String) -> ExportValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// Pretty JSON with 2-space indentation and a final newline.
    public func json() -> String {
        var out = ""
        writeJSON(&out, level: 0)
        return out + "\n"
    }

    private func writeJSON(_ out: inout String, level: Int) {
        let pad = String(repeating: "  ", count: level + 1)
        let close = String(repeating: "  ", count: level)
        switch self {
        case .string(let s): out += ExportValue.quoted(s)
        case .uint(let v): out += String(v)
        case .int(let v): out += String(v)
        case .bool(let b): out += b ? "true" : "false"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Short arrays of scalars stay on one line (syscall name lists get long: not those).
            if items.count <= 8, items.allSatisfy(\.isScalar), !items.contains(where: \.isString) {
                out += "[" + items.map { $0.json().dropLast() }.joined(separator: ", ") + "]"
                return
            }
            out += "[\n"
            for (i, v) in items.enumerated() {
                out += pad
                v.writeJSON(&out, level: level + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (k, v)) in fields.enumerated() {
                out += pad + ExportValue.quoted(k) + ": "
                v.writeJSON(&out, level: level + 1)
                out += i == fields.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        }
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    var isString: Bool { if case .string = self { return true } else { return false } }

    /// A JSON string literal (also a valid YAML double-quoted scalar).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f || (u.value >= 0x80 && u.value < 0xa0) || u.value == 0x2028 || u.value == 0x2029 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

// MARK: YAML

extension ExportValue {
    /// Block-style YAML. Strings are always double-quoted (JSON escapes are valid YAML), so
    /// values such as `no`, `0755`, `1.10` or `*.example.org` keep their type; keys are plain
    /// only when they are made of letters, digits and `-_./` and do not start with a symbol.
    public func yaml() -> String {
        var out = ""
        writeYAML(&out, indent: 0)
        return out
    }

    private func writeYAML(_ out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .object(let fields):
            if fields.isEmpty { out += pad + "{}\n"; return }
            for (k, v) in fields {
                out += pad + ExportValue.yamlKey(k) + ":"
                v.writeYAMLValue(&out, indent: indent)
            }
        case .array(let items):
            if items.isEmpty { out += pad + "[]\n"; return }
            for v in items {
                switch v {
                case .object(let f) where !f.isEmpty:
                    // "- " then the first field on the same line, the rest aligned under it.
                    var inner = ""
                    v.writeYAML(&inner, indent: indent + 2)
                    let lines = inner.split(separator: "\n", omittingEmptySubsequences: false)
                    out += pad + "- " + lines[0].dropFirst(indent + 2) + "\n"
                    for line in lines.dropFirst() where !line.isEmpty { out += line + "\n" }
                case .array(let a) where !a.isEmpty:
                    out += pad + "-\n"
                    v.writeYAML(&out, indent: indent + 2)
                default:
                    out += pad + "- " + v.yamlScalar + "\n"
                }
            }
        default:
            out += pad + yamlScalar + "\n"
        }
    }

    private func writeYAMLValue(_ out: inout String, indent: Int) {
        switch self {
        case .object(let f) where !f.isEmpty:
            out += "\n"
            writeYAML(&out, indent: indent + 2)
        case .array(let a) where !a.isEmpty:
            out += "\n"
            writeYAML(&out, indent: indent + 2)
        default:
            out += " " + yamlScalar + "\n"
        }
    }

    private var yamlScalar: String {
        switch self {
        case .string(let s): return ExportValue.quoted(s)
        case .uint(let v): return String(v)
        case .int(let v): return String(v)
        case .bool(let b): return b ? "true" : "false"
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    static func yamlKey(_ k: String) -> String {
        let safe = !k.isEmpty && k.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || "-_./".unicodeScalars.contains($0)
        }
        let first = k.unicodeScalars.first.map { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") } ?? false
        let reserved = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"].contains(k.lowercased())
        return safe && first && !reserved ? k : quoted(k)
    }
}
