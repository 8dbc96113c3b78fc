import WardenKernel

/// Writing compact JSON with members in the order given (JWT headers and claims, JWKS,
/// discovery documents): no whitespace, strings quoted by the project's one JSON string
/// writer (`WardenKernel.JSONText.quote`).
public struct JSONObjectWriter: Sendable {
    private var text = "{"
    private var empty = true

    public init() {}

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        text += JSONText.quote(name) + ":"
    }

    public mutating func string(_ name: String, _ value: String) { key(name); text += JSONText.quote(value) }
    public mutating func integer(_ name: String, _ value: Int64) { key(name); text += String(value) }
    public mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "[" + values.map(JSONText.quote).joined(separator: ",") + "]"
    }
    /// A member whose value is already JSON text (a nested object or array).
    public mutating func raw(_ name: String, _ json: String) { key(name); text += json }

    public var json: String { text + "}" }
}
