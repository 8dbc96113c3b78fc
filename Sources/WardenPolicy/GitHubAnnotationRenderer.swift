import WardenKernel

/// Renders diagnostics as GitHub Actions workflow commands, which the Actions runner turns
/// into annotations on the pull request:
/// `::error file=F,line=L,endLine=L2,col=C,endColumn=C2,title=rule-id::message`.
/// Text from the policy is escaped (`TerminalText`) before the workflow-command encoding,
/// so an ESC in a policy cannot colour or rewrite the log, and (with CR and LF encoded) no
/// text from it can start a line, and so a workflow command, of its own.
public enum GitHubAnnotationRenderer {
    /// `root`: absolute paths under it are made relative (GitHub resolves `file=` against
    /// the repository root, which is the working directory of a workflow step).
    public static func render(_ diagnostics: [Diagnostic], root: String? = nil) -> String {
        var out = ""
        for d in diagnostics {
            let command: String
            switch d.severity {
            case .error: command = "error"
            case .warning: command = "warning"
            case .note: command = "notice"
            }
            var props = [
                "file=" + escapeProperty(TerminalText.escape(relative(d.span.file, root: root))),
                "line=\(d.span.start.line)",
                "endLine=\(d.span.end.line)",
                "col=\(d.span.start.column)",
            ]
            // GitHub uses endColumn only within one line.
            if d.span.end.line == d.span.start.line { props.append("endColumn=\(d.span.end.column)") }
            props.append("title=" + escapeProperty("\(d.code)"))
            var message = DiagnosticRenderer.shown(d.message)
            if let help = d.help { message += "\nhelp: " + DiagnosticRenderer.shown(help) }
            for n in d.notes { message += "\nnote: \(DiagnosticRenderer.location(n.span)): \(DiagnosticRenderer.shown(n.message))" }
            out += "::\(command) " + props.joined(separator: ",") + "::" + escapeData(message) + "\n"
        }
        return out
    }

    static func relative(_ path: String, root: String?) -> String {
        var p = path
        if let root, !root.isEmpty, p.hasPrefix("/") {
            let base = root.hasSuffix("/") ? root : root + "/"
            if p.hasPrefix(base) { p = String(p.dropFirst(base.count)) }
        }
        while p.hasPrefix("./") { p = String(p.dropFirst(2)) }
        return p
    }

    /// Escapes a command's message: `%`, CR and LF.
    public static func escapeData(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Escapes a property value: as data, plus `:` and `,`.
    public static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingColonsAndCommas()
    }
}

extension String {
    fileprivate func replacingColonsAndCommas() -> String {
        var out = ""
        for c in unicodeScalars {
            switch c {
            case ":": out += "%3A"
            case ",": out += "%2C"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
