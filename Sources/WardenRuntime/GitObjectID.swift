/// A git object id as git prints it: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
public enum GitObjectID {
    public static func isValid<S: Collection>(_ bytes: S) -> Bool where S.Element == UInt8 {
        (bytes.count == 40 || bytes.count == 64) && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    public static func isValid(_ text: String) -> Bool { isValid(text.utf8) }
}
