/// A JSON value as stored in audit record fields.
///
/// Numbers are integers only (signed 64-bit): the audit format never needs fractions, and
/// integer-only numbers keep the serialisation canonical. Values that do not fit (for
/// example raw 64-bit syscall arguments) are stored as strings such as `"0xffffffffffffffff"`.
public enum AuditValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([AuditValue])
    case object([String: AuditValue])

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer payload, if this is an integer.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The boolean payload, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [AuditValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: AuditValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Member lookup on objects (nil for anything else).
    public subscript(key: String) -> AuditValue? {
        objectValue?[key]
    }

    /// An array of strings.
    public static func strings(_ values: [String]) -> AuditValue {
        .array(values.map { .string($0) })
    }
}

extension AuditValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: AuditValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, AuditValue)...) {
        var o: [String: AuditValue] = [:]
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
}
