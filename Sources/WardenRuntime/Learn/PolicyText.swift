/// Agent-controlled text written into a proposed policy: a quoted path or endpoint only when
/// it needs no escaping (printable ASCII without `"`, `\`, `$`), a comment only with every
/// character outside printable ASCII replaced, so nothing the agent chose can end a string
/// or a comment, start a new statement, or hide in invisible characters.
public enum PolicyText {
    /// `text` in double quotes, or nil when it cannot be written safely as a literal.
    public static func quoted(_ text: String, allowVariables: Bool = false) -> String? {
        var rest = Substring(text)
        if allowVariables {
            for v in ["${workspace}", "${home}", "${tmp}"] where rest.hasPrefix(v) {
                rest = rest.dropFirst(v.count)
                break
            }
        }
        guard !text.isEmpty, text.utf8.count <= 1024,
              rest.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "$") })
        else { return nil }
        return "\"" + text + "\""
    }

    /// `text` for a comment: printable ASCII kept, anything else (newlines, escapes,
    /// non-ASCII, bidi controls) as `?`, at most `limit` characters (then `...`).
    public static func comment(_ text: String, limit: Int = 160) -> String {
        var out = ""
        for u in text.unicodeScalars.prefix(limit) {
            out.unicodeScalars.append(u.value >= 0x20 && u.value < 0x7f ? u : "?")
        }
        return text.unicodeScalars.count > limit ? out + "..." : out
    }
}
