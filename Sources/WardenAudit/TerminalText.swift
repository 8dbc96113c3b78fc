/// Makes untrusted text safe to print on a terminal.
///
/// Audit records hold what the agent chose (argv, DNS names, paths). Printed raw, ESC
/// sequences could rewrite or hide lines, CR could overwrite a line, LF could forge one.
/// `escape` keeps printable text as it is and writes every control character visibly, in
/// the notation of bash's `$'…'`: `\n` `\r` `\t` `\\`, `\xHH` for the other C0 bytes and
/// DEL, `\uHHHH` for C1 controls (U+0080–U+009F), bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069), and the line/paragraph separators (U+2028, U+2029).
public enum TerminalText {
    /// `text` with every control character escaped (and `\` doubled so the result is
    /// unambiguous).
    public static func escape(_ text: String) -> String {
        // Fast path: printable ASCII without a backslash (most values) is returned as is.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return text }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for u in text.unicodeScalars {
            if needsEscape(u) { out += escaped(u) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// True when `text` has a character `escape` would rewrite.
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { needsEscape($0) && $0 != "\\" }
    }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x5C, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    static func escaped(_ u: Unicode.Scalar) -> String {
        switch u.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x5C: return "\\\\"
        case 0x00...0x7F: return "\\x" + hex(u.value, width: 2)
        default: return "\\u" + hex(u.value, width: 4)
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
