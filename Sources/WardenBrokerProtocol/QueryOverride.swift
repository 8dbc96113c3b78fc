/// The `_method` parameter by which Rails, Laravel and Symfony let a POST run as another
/// method (`?_method=DELETE`). Only the query is checked: the same parameter in a form body
/// is not seen by the broker (see docs/network.md).
enum QueryOverride {
    /// Whether some `&`- or `;`-separated parameter of `query` is named `_method`
    /// (percent-decoded, any case).
    static func namesMethod(_ query: String) -> Bool {
        for parameter in query.utf8.split(whereSeparator: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: ";") }) {
            let name = parameter.prefix { $0 != UInt8(ascii: "=") }
            let decoded = PercentDecoding.decodedRepeatedly(String(decoding: name, as: UTF8.self))
            if HTTPSyntax.lowercasedASCII(String(decoding: decoded, as: UTF8.self)) == "_method" { return true }
        }
        return false
    }
}
