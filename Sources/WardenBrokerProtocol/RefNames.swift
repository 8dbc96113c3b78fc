/// Ref names as `git check-ref-format` accepts them, a little stricter: ASCII only and under `refs/`.
public enum RefNames {
    /// The longest ref name accepted.
    public static let maxLength = 1024

    /// Why `ref` is not an acceptable ref name, or nil when it is.
    public static func problem(with ref: String) -> String? {
        let bytes = Array(ref.utf8)
        guard bytes.count <= maxLength else { return "ref name longer than \(maxLength) bytes" }
        guard ref.hasPrefix("refs/") else { return "ref name does not start with refs/" }
        for byte in bytes {
            switch byte {
            case ..<0x20, 0x7F: return "control byte in ref name"
            case 0x80...: return "non-ASCII byte in ref name"
            case UInt8(ascii: " "), UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: ":"), UInt8(ascii: "?"),
                 UInt8(ascii: "*"), UInt8(ascii: "["), UInt8(ascii: "\\"):
                return "character \(HTTPSyntax.describe(byte)) in ref name"
            default: continue
            }
        }
        if ref.contains("..") { return "'..' in ref name" }
        if ref.contains("@{") { return "'@{' in ref name" }
        if ref.hasSuffix("/") { return "ref name ends with /" }
        if ref.hasSuffix(".") { return "ref name ends with ." }
        for component in ref.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty component (//) in ref name" }
            if component.hasPrefix(".") { return "ref name component starts with ." }
            if component.hasSuffix(".lock") { return "ref name component ends with .lock" }
        }
        return nil
    }
}
