/// A small, strict JSON parser for audit lines.
///
/// Accepts RFC 8259 JSON restricted to what the audit format uses: integers only (no
/// fractions or exponents, must fit in Int64), no duplicate object keys, valid UTF-8, no
/// unpaired surrogate escapes, nesting depth at most 64, nothing after the value.
/// Canonical form is checked separately by re-serialising (`AuditRecord.parse`).
struct StrictJSONParser {
    struct Failure: Error, Sendable {
        let offset: Int
        let reason: String
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> AuditValue {
        var p = StrictJSONParser(bytes)
        let v = try p.value()
        guard p.i == bytes.count else { throw Failure(offset: p.i, reason: "trailing bytes after the JSON value") }
        return v
    }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> AuditValue {
        let r: Result<AuditValue, Failure> = bytes.withUnsafeBytes { buf in
            do throws(Failure) { return .success(try parse(buf)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    private func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let n = literal.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input") }
        let p = literal.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func value() throws(Failure) -> AuditValue {
        guard let c = peek else { throw fail("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try integer())
        default: throw fail("unexpected byte 0x\(Hex.encode([c]))")
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > 64 { throw fail("nesting deeper than 64") }
    }

    private mutating func object() throws(Failure) -> AuditValue {
        try enter()
        i += 1
        var out: [String: AuditValue] = [:]
        if peek == UInt8(ascii: "}") { i += 1; depth -= 1; return .object(out) }
        while true {
            guard peek == UInt8(ascii: "\"") else { throw fail("expected an object key") }
            let key = try string()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            let v = try value()
            guard out.updateValue(v, forKey: key) == nil else { throw fail("duplicate key \"\(key)\"") }
            guard let c = peek else { throw fail("unexpected end of input") }
            i += 1
            if c == UInt8(ascii: "}") { break }
            guard c == UInt8(ascii: ",") else { i -= 1; throw fail("expected ',' or '}'") }
        }
        depth -= 1
        return .object(out)
    }

    private mutating func array() throws(Failure) -> AuditValue {
        try enter()
        i += 1
        var out: [AuditValue] = []
        if peek == UInt8(ascii: "]") { i += 1; depth -= 1; return .array(out) }
        while true {
            out.append(try value())
            guard let c = peek else { throw fail("unexpected end of input") }
            i += 1
            if c == UInt8(ascii: "]") { break }
            guard c == UInt8(ascii: ",") else { i -= 1; throw fail("expected ',' or ']'") }
        }
        depth -= 1
        return .array(out)
    }

    private mutating func integer() throws(Failure) -> Int64 {
        let negative = peek == UInt8(ascii: "-")
        if negative { i += 1 }
        let start = i
        var magnitude: UInt64 = 0
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail("integer out of range") }
            magnitude = m2
            i += 1
        }
        let count = i - start
        guard count > 0 else { throw fail("expected digits") }
        if count > 1 && bytes[start] == UInt8(ascii: "0") { throw fail("leading zero in number") }
        if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            throw fail("only integers are allowed")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("integer out of range") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("integer out of range") }
        return Int64(magnitude)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            if let x = Hex.value(c) { d = x }
            else if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F") { d = c - UInt8(ascii: "A") + 10 }
            else { throw fail("bad hex digit in \\u escape") }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        let start = i
        // Fast path: a run of plain bytes.
        while let c = peek, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), c >= 0x20 { i += 1 }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while true {
            guard let c = peek else { throw fail("unterminated string") }
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw fail("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    out.append(contentsOf: u.utf8)
                default: throw fail("invalid escape")
                }
            default:
                guard c >= 0x20 else { throw fail("raw control character in string") }
                out.append(c)
            }
        }
    }
}
