import WardenKernel

/// Renders diagnostics as GNU-style text or as JSON.
public enum DiagnosticRenderer {
    /// `file:line:col: error[code]: message`, the source line, a caret line, `  help: ...`,
    /// then each note the same way. `sources` supplies the lines (missing: lines omitted).
    /// Everything taken from the policy or its path is escaped for the terminal
    /// (`TerminalText`) and bounded in length.
    public static func text(_ diagnostics: [Diagnostic], sources: [String: SourceFile]) -> String {
        var out = ""
        for d in diagnostics {
            out += "\(location(d.span)): \(d.severity.rawValue)[\(d.code)]: \(shown(d.message))\n"
            out += excerpt(d.span, sources)
            if let help = d.help { out += "  help: \(shown(help))\n" }
            for n in d.notes {
                out += "\(location(n.span)): note: \(shown(n.message))\n"
                out += excerpt(n.span, sources)
            }
        }
        return out
    }

    /// The longest message, help or note shown in text (a message may quote a value of any length).
    static let maxMessageScalars = 1000

    /// `text` escaped for a terminal and cut to `maxMessageScalars`.
    static func shown(_ text: String) -> String {
        TerminalText.escape(text, maxScalars: maxMessageScalars)
    }

    /// `file:line:column` with the file name escaped.
    static func location(_ span: SourceSpan) -> String {
        "\(TerminalText.escape(span.file)):\(span.start.line):\(span.start.column)"
    }

    /// A one-line summary such as `2 errors, 1 warning`.
    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let e = diagnostics.filter { $0.severity == .error }.count
        let w = diagnostics.filter { $0.severity == .warning }.count
        return "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
    }

    /// Lines up to this many characters are shown whole; longer ones are cut to a window
    /// of this width around the span, marked with `...`.
    static let excerptWidth = 160
    /// How many characters before the span a cut line keeps.
    static let excerptLead = 60
    /// How many characters a cut line shows at least.
    static let excerptMinimum = 120

    /// The source line of `span` and a caret line under it (`^~~~`). Only a bounded window
    /// of bytes around the span is ever decoded, so a huge one-line file costs the same as
    /// a short line; control and invisible characters are shown escaped (`\x1b`) and the
    /// carets account for the width of each escape.
    static func excerpt(_ span: SourceSpan, _ sources: [String: SourceFile]) -> String {
        guard let file = sources[span.file], let line = file.lineRange(span.start.line) else { return "" }
        let bytes = file.bytes
        let start = min(max(span.start.offset, line.lowerBound), line.upperBound)
        let end = span.end.line == span.start.line ? min(max(span.end.offset, start), line.upperBound) : line.upperBound
        // A scalar is at most 4 bytes: this window holds every scalar that can be shown.
        let from = boundary(bytes, max(line.lowerBound, start - excerptLead * 4 - 4), line.lowerBound)
        let to = boundary(bytes, min(line.upperBound, start + excerptWidth * 4 + 4), line.lowerBound)
        let before = Array(String(decoding: bytes[from..<start], as: UTF8.self).unicodeScalars)
        let rest = Array(String(decoding: bytes[start..<to], as: UTF8.self).unicodeScalars)
        let spanCount = String(decoding: bytes[start..<min(end, to)], as: UTF8.self).unicodeScalars.count
        let cutLeft = from > line.lowerBound, cutRight = to < line.upperBound

        var shownBefore = before[...], shownRest = rest[...]
        var prefix = "", suffix = ""
        if cutLeft || cutRight || before.count + rest.count > excerptWidth {
            shownBefore = before.suffix(excerptLead)
            // At least `excerptMinimum` characters in all, more (up to the width) to show the span.
            let keep = max(excerptMinimum - shownBefore.count, min(spanCount, excerptWidth - shownBefore.count))
            shownRest = rest.prefix(keep)
            prefix = cutLeft || shownBefore.count < before.count ? "..." : ""
            suffix = cutRight || shownRest.count < rest.count ? "..." : ""
        }
        var text = prefix, pad = String(repeating: " ", count: prefix.count)
        for u in shownBefore {
            let piece = display(u)
            text += piece
            pad += u == "\t" ? "\t" : String(repeating: " ", count: piece.count)
        }
        var width = 0
        for (i, u) in shownRest.enumerated() {
            let piece = display(u)
            text += piece
            if i < spanCount { width += piece.count }
        }
        text += suffix
        return "  \(text)\n  \(pad)^\(String(repeating: "~", count: max(1, width) - 1))\n"
    }

    /// A source character as shown in an excerpt (tabs kept for alignment).
    private static func display(_ u: Unicode.Scalar) -> String {
        TerminalText.needsEscape(u, keepTabs: true) ? TerminalText.escaped(u) : String(Character(u))
    }

    /// `offset` moved back to the start of a UTF-8 scalar (not before `floor`).
    private static func boundary(_ bytes: [UInt8], _ offset: Int, _ floor: Int) -> Int {
        var i = offset
        while i > floor, i < bytes.count, bytes[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    /// A JSON array of objects: file, line, column, endLine, endColumn, severity, code,
    /// message, help (null when absent), notes (file, line, column, message).
    public static func json(_ diagnostics: [Diagnostic]) -> String {
        var out = "["
        for (i, d) in diagnostics.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "  {\"file\": \(quote(d.span.file)), \"line\": \(d.span.start.line), \"column\": \(d.span.start.column), "
            out += "\"endLine\": \(d.span.end.line), \"endColumn\": \(d.span.end.column), "
            out += "\"severity\": \(quote(d.severity.rawValue)), \"code\": \(quote(d.code)), \"message\": \(quote(d.message)), "
            out += "\"help\": \(d.help.map(quote) ?? "null"), \"notes\": ["
            out += d.notes.map {
                "{\"file\": \(quote($0.span.file)), \"line\": \($0.span.start.line), \"column\": \($0.span.start.column), \"message\": \(quote($0.message))}"
            }.joined(separator: ", ")
            out += "]}"
        }
        out += diagnostics.isEmpty ? "]\n" : "\n]\n"
        return out
    }

    /// A JSON string literal.
    public static func quote(_ s: String) -> String { JSONText.quote(s) }
}
