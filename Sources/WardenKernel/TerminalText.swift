/// Makes untrusted text (paths, names, policy excerpts, anything an agent or a policy
/// author wrote) safe to print on a terminal or in a CI log: every character that a
/// terminal or log viewer would interpret instead of show is written visibly, in the
/// notation of bash's `$'…'`.
///
/// Escaped: C0 controls and DEL (`\n`, `\r`, `\t`, else `\xHH`: `\x00`, `\x1b`, `\x7f`),
/// C1 controls, and the invisible characters that reorder or hide text (bidirectional
/// embeddings, overrides and isolates, line/paragraph separators, zero-width characters,
/// the byte-order mark), as `\uHHHH` (`\u009b`, `\u202e`). A backslash is kept as is
/// unless `doublingBackslashes` is set (for data that must read back unambiguously, such
/// as audit records; source excerpts keep a policy's own escapes readable).
public enum TerminalText {
    /// `text` with every unsafe character escaped. `keepTabs` keeps horizontal tabs (for
    /// source excerpts, where they matter for alignment and are harmless).
    public static func escape(_ text: String, keepTabs: Bool = false, doublingBackslashes: Bool = false) -> String {
        // Fast path: nothing to escape (the common case) returns the string itself.
        if !text.unicodeScalars.contains(where: { needsEscape($0, keepTabs: keepTabs, doublingBackslashes: doublingBackslashes) }) {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for u in text.unicodeScalars { append(u, to: &out, keepTabs: keepTabs, doublingBackslashes: doublingBackslashes) }
        return out
    }

    /// `escape(text)`, cut to at most `maxScalars` scalars of input, with `…` appended
    /// when cut (for messages that may quote an arbitrarily long value).
    public static func escape(_ text: String, maxScalars: Int, keepTabs: Bool = false) -> String {
        // Fast path: short enough and nothing to escape (the common case).
        if text.utf8.count <= maxScalars, !text.unicodeScalars.contains(where: { needsEscape($0, keepTabs: keepTabs) }) { return text }
        var out = ""
        var count = 0
        for u in text.unicodeScalars {
            if count == maxScalars { return out + "…" }
            append(u, to: &out, keepTabs: keepTabs)
            count += 1
        }
        return out
    }

    /// Appends `u` to `out`, escaped when it is unsafe.
    public static func append(_ u: Unicode.Scalar, to out: inout String, keepTabs: Bool = false, doublingBackslashes: Bool = false) {
        if needsEscape(u, keepTabs: keepTabs, doublingBackslashes: doublingBackslashes) {
            out += escaped(u)
        } else {
            out.unicodeScalars.append(u)
        }
    }

    /// Whether `text` holds a character `escape` would rewrite (a backslash does not count).
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { needsEscape($0) }
    }

    /// Whether `u` is shown escaped.
    public static func needsEscape(_ u: Unicode.Scalar, keepTabs: Bool = false, doublingBackslashes: Bool = false) -> Bool {
        let v = u.value
        if v == 0x09 { return !keepTabs }
        if v == 0x5C { return doublingBackslashes }
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        return isInvisibleOrControl(v)
    }

    /// A C1 control, or a character that reorders or hides text without being visible.
    public static func isInvisibleOrControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x80...0x9F: return true  // C1 controls (0x9B is CSI)
        case 0x200B...0x200F: return true  // zero-width space/joiners, LRM, RLM
        case 0x2028...0x202E: return true  // line/paragraph separators, bidi embeddings and overrides
        case 0x2060...0x2069: return true  // word joiner, invisible operators, bidi isolates
        case 0xFEFF: return true  // zero-width no-break space (byte-order mark)
        case 0x00AD, 0x061C, 0x180E, 0xFFF9...0xFFFB: return true  // soft hyphen, Arabic letter mark, ... (invisible formats)
        default: return false
        }
    }

    /// The visible form of one unsafe character (`\n`, `\x1b`, `\u202e`, `\\`).
    public static func escaped(_ u: Unicode.Scalar) -> String {
        switch u.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x5C: return "\\\\"
        case let v where v < 0x80: return "\\x" + hex(v, width: 2)
        case let v: return "\\u" + hex(v, width: 4)
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
