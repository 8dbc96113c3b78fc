/// Writing compact JSON with members in the order given (JWT headers and claims, JWKS,
/// discovery documents): no whitespace, strings escaped per RFC 8259 (`"`, `\`, control
/// characters; everything else is written as UTF-8).
public struct JSONObjectWriter: Sendable {
    private var text = "{"
    private var empty = true

    public init() {}

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        text += JSONText.quoted(name) + ":"
    }

    public mutating func string(_ name: String, _ value: String) { key(name); text += JSONText.quoted(value) }
    public mutating func integer(_ name: String, _ value: Int64) { key(name); text += String(value) }
    public mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "[" + values.map(JSONText.quoted).joined(separator: ",") + "]"
    }
    /// A member whose value is already JSON text (a nested object or array).
    public mutating func raw(_ name: String, _ json: String) { key(name); text += json }

    public var json: String { text + "}" }
}

public enum JSONText {
    /// `value` as a JSON string literal.
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
