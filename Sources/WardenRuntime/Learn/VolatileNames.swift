/// Names that differ from run to run: process ids, hashes, temporary files. A grant on such
/// a name would not hold for the next run, so the proposal grants the directory holding it.
///
/// A path component is volatile when it is
/// - digits only (`12345`: a pid, a counter);
/// - or holds a run of at least 8 hexadecimal characters with a digit in it (`3f2a9c1b`,
///   a commit or content hash, a UUID part);
/// - or is a temporary file's name: `tmp` followed by 6 or more random letters, digits or
///   `_` with a digit among them (Python's `tempfile`, `mktemp tmp.XXXXXX` after the dot),
///   `cc` followed by exactly 6 letters and digits with an upper-case letter or a digit
///   (gcc's `ccXyZ123.s`);
/// - or has a part (between `.`, `-`, `_`) of 6 or more letters and digits with at least two
///   of each that alternates between letters and digits at least three times (`a1b2c3`).
/// Ordinary names are not: `python3.11`, `sha256sum`, `x86_64-linux-gnu`, `libQt5Core.so`,
/// `cc1plus`, `tmpfiles.d`.
public enum VolatileNames {
    public static func isVolatile(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        if bytes.isEmpty { return false }
        if bytes.allSatisfy(isDigit) { return true }
        if hasHexRun(bytes) { return true }
        if temporaryName(bytes) { return true }
        return component.split(whereSeparator: { $0 == "." || $0 == "-" || $0 == "_" }).contains { alternates(Array($0.utf8)) }
    }

    static func temporaryName(_ b: [UInt8]) -> Bool {
        let tmp = Array("tmp".utf8), cc = Array("cc".utf8)
        if b.starts(with: tmp) {
            let rest = b.dropFirst(3).prefix { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "_") }
            let afterDot = b.count > 4 && b[3] == UInt8(ascii: ".") ? Array(b.dropFirst(4)) : []
            if rest.count >= 6 && rest.contains(where: isDigit) { return true }
            if afterDot.count >= 6 && afterDot.allSatisfy({ isDigit($0) || isLetter($0) }) && afterDot.contains(where: { isDigit($0) || isUpper($0) }) { return true }
        }
        if b.starts(with: cc) {
            let rest = Array(b.dropFirst(2).prefix { isDigit($0) || isLetter($0) })
            let end = 2 + rest.count
            if rest.count == 6, end == b.count || b[end] == UInt8(ascii: "."), rest.contains(where: { isDigit($0) || isUpper($0) }) { return true }
        }
        return false
    }

    static func alternates(_ b: [UInt8]) -> Bool {
        guard b.count >= 6, b.allSatisfy({ isDigit($0) || isLetter($0) }) else { return false }
        let digits = b.filter(isDigit).count
        var transitions = 0
        for i in 1..<b.count where isDigit(b[i]) != isDigit(b[i - 1]) { transitions += 1 }
        return digits >= 2 && b.count - digits >= 2 && transitions >= 3
    }

    static func hasHexRun(_ b: [UInt8]) -> Bool {
        var run = 0, digit = false
        for c in b {
            if isHex(c) {
                run += 1
                digit = digit || isDigit(c)
                if run >= 8 && digit { return true }
            } else {
                run = 0
                digit = false
            }
        }
        return false
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isLetter(_ c: UInt8) -> Bool { isUpper(c) || (c >= 97 && c <= 122) }
    static func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
}
