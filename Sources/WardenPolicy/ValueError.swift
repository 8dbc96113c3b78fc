/// Why a literal (path, endpoint, size, duration, integer) is malformed.
public struct ValueError: Error, Sendable, Hashable {
    public var code: String
    public var message: String
    public var help: String?

    public init(_ code: String, _ message: String, help: String? = nil) {
        self.code = code
        self.message = message
        self.help = help
    }
}

/// Integer literals: decimal, `0x` hex, `0o` or leading-`0` octal, `0b` binary.
public enum IntegerLiteral {
    public static func parse(_ text: String) -> Result<UInt64, ValueError> {
        var digits = Substring(text)
        var radix: UInt64 = 10
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0b") { radix = 2; digits = digits.dropFirst(2) }
        else if text.count > 1, text.hasPrefix("0") { radix = 8; digits = digits.dropFirst() }
        guard !digits.isEmpty else { return .failure(ValueError("invalid-number", "`\(text)` is not a number")) }
        var value: UInt64 = 0
        for ch in digits {
            guard let d = ch.hexDigitValue, UInt64(d) < radix else {
                let kind = radix == 8 ? "octal " : radix == 16 ? "hexadecimal " : radix == 2 ? "binary " : ""
                return .failure(ValueError("invalid-number", "`\(text)` is not a valid \(kind)number",
                                           help: radix == 8 ? "a leading 0 means octal; write the number without it" : nil))
            }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return .failure(ValueError("number-overflow", "`\(text)` does not fit in 64 bits")) }
            value = s
        }
        return .success(value)
    }
}
