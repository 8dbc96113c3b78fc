/// A JSON value as stored in audit record fields.
///
/// Numbers are integers only (signed 64-bit): the audit format never needs fractions, and
/// integer-only numbers keep the serialisation canonical. Values that do not fit (for
/// example raw 64-bit syscall arguments) are stored as strings such as `"0xffffffffffffffff"`.
/// RFC 8785 (record version 2) writes an integer beyond ±(2^53−1) as a string of its decimal
/// digits, so such a value reads back as `.string`.
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

extension AuditValue {
    /// The value as RFC 8785 canonical JSON (keys sorted by UTF-16 code units, no whitespace,
    /// integers beyond ±(2^53−1) as decimal strings; see `CanonicalJSON`).
    public var jsonText: String { String(decoding: CanonicalJSON.serialize(self), as: UTF8.self) }

    /// Parses strict JSON (integers only, no duplicate keys, depth ≤ 64; see
    /// `StrictJSONParser`; blanks and line breaks after the value are allowed), or the
    /// reason when `bytes` is not such a document.
    public static func parseJSON(_ bytes: [UInt8]) -> Result<AuditValue, JSONParseFailure> {
        var end = bytes.count
        while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end - 1]) { end -= 1 }
        do throws(StrictJSONParser.Failure) { return .success(try StrictJSONParser.parse(Array(bytes[..<end]))) } catch {
            return .failure(JSONParseFailure(offset: error.offset, reason: error.reason))
        }
    }
}

/// Why bytes are not a strict JSON document: the byte offset and the reason.
public struct JSONParseFailure: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "byte \(offset): \(reason)" }
}
