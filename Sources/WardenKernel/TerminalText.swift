/// Makes untrusted text (paths, names, policy excerpts, anything an agent or a policy
/// author wrote) safe to print on a terminal or in a CI log: every character that a
/// terminal or log viewer would interpret instead of show is replaced by a visible escape.
///
/// Escaped: C0 controls (`\0`, `\a`, `\b`, `\t`, `\n`, `\v`, `\f`, `\r`, `\x1b`, other
/// `\xNN`), DEL (`\x7f`), C1 controls (`\u{9b}`), and the invisible characters that reorder
/// or hide text (bidirectional overrides and isolates, line/paragraph separators, zero-width
/// characters, the byte-order mark: `\u{202e}`). Everything else, including a backslash, is
/// kept as is: the result is for reading, not a reversible encoding (use JSON for that).
public enum TerminalText {
    /// `text` with every unsafe character escaped. `keepTabs` keeps horizontal tabs (for
    /// source excerpts, where they matter for alignment and are harmless).
    public static func escape(_ text: String, keepTabs: Bool = false) -> String {
        // Fast path: nothing to escape (the common case) returns the string itself.
        if !text.unicodeScalars.contains(where: { needsEscape($0, keepTabs: keepTabs) }) { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for u in text.unicodeScalars { append(u, to: &out, keepTabs: keepTabs) }
        return out
    }

    /// `escape(text)`, cut to at most `maxScalars` scalars of input, with `…` appended
    /// when cut (for messages that may quote an arbitrarily long value).
    public static func escape(_ text: String, maxScalars: Int, keepTabs: Bool = false) -> String {
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
    public static func append(_ u: Unicode.Scalar, to out: inout String, keepTabs: Bool = false) {
        if needsEscape(u, keepTabs: keepTabs) {
            out += escaped(u)
        } else {
            out.unicodeScalars.append(u)
        }
    }

    /// Whether `u` is shown escaped.
    public static func needsEscape(_ u: Unicode.Scalar, keepTabs: Bool = false) -> Bool {
        let v = u.value
        if v == 0x09 { return !keepTabs }
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
        default: return false
        }
    }

    /// The visible escape of one unsafe character (`\x1b`, `\0`, `\u{202e}`).
    public static func escaped(_ u: Unicode.Scalar) -> String {
        switch u.value {
        case 0x00: return "\\0"
        case 0x07: return "\\a"
        case 0x08: return "\\b"
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0B: return "\\v"
        case 0x0C: return "\\f"
        case 0x0D: return "\\r"
        case let v where v < 0x80: return "\\x" + hex(v, width: 2)
        case let v: return "\\u{" + hex(v, width: 1) + "}"
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
