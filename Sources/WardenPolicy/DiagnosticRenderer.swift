import WardenKernel

/// Renders diagnostics as GNU-style text or as JSON.
public enum DiagnosticRenderer {
    /// `file:line:col: error[code]: message`, the source line, a caret line, `  help: ...`,
    /// then each note the same way. `sources` supplies the lines (missing: lines omitted).
    public static func text(_ diagnostics: [Diagnostic], sources: [String: SourceFile]) -> String {
        var out = ""
        for d in diagnostics {
            out += "\(d.span): \(d.severity.rawValue)[\(d.code)]: \(d.message)\n"
            out += excerpt(d.span, sources)
            if let help = d.help { out += "  help: \(help)\n" }
            for n in d.notes {
                out += "\(n.span): note: \(n.message)\n"
                out += excerpt(n.span, sources)
            }
        }
        return out
    }

    /// A one-line summary such as `2 errors, 1 warning`.
    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let e = diagnostics.filter { $0.severity == .error }.count
        let w = diagnostics.filter { $0.severity == .warning }.count
        return "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
    }

    /// The source line of `span` and a caret line under it (`^~~~`). Lines longer than
    /// 160 characters are cut to a window around the span, marked with `...`.
    static func excerpt(_ span: SourceSpan, _ sources: [String: SourceFile]) -> String {
        guard let file = sources[span.file] else { return "" }
        var scalars = Array(file.lineText(span.start.line).unicodeScalars)
        var startCol = max(1, min(span.start.column, scalars.count + 1))
        var endCol = span.end.line == span.start.line ? max(startCol + 1, min(span.end.column, scalars.count + 1)) : scalars.count + 1
        var prefix = "", suffix = ""
        if scalars.count > 160 {
            let from = max(0, startCol - 1 - 60)
            let to = min(scalars.count, max(from + 120, min(endCol - 1, from + 160)))
            prefix = from > 0 ? "..." : ""
            suffix = to < scalars.count ? "..." : ""
            scalars = Array(scalars[from..<to])
            startCol = startCol - from + prefix.count
            endCol = min(endCol - from, scalars.count + 1) + prefix.count
            endCol = max(endCol, startCol + 1)
        }
        var line = prefix
        line.unicodeScalars.append(contentsOf: scalars)
        line += suffix
        var pad = ""
        for s in (prefix.unicodeScalars + scalars).prefix(startCol - 1) { pad.append(s == "\t" ? "\t" : " ") }
        let width = max(1, endCol - startCol)
        return "  \(line)\n  \(pad)^\(String(repeating: "~", count: width - 1))\n"
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
