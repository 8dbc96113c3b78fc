import WardenPolicy

/// `textDocument/publishDiagnostics` for an analysed document.
enum DiagnosticsPublisher {
    /// LSP DiagnosticSeverity.
    static func severity(_ s: Severity) -> Int64 {
        switch s {
        case .error: return 1
        case .warning: return 2
        case .note: return 3
        }
    }

    /// The diagnostics located in this document (those in included files are published
    /// when those files are open), each with its help line and related notes.
    static func diagnostics(_ doc: AnalyzedDocument) -> [JSON] {
        if let error = doc.loadError {
            return [.object([("range", doc.lines.range(0, 0).json), ("severity", .int(1)), ("source", .string("warden")),
                             ("message", .string(error))])]
        }
        return configurationProblem(doc) + doc.diagnostics.filter { $0.span.file == doc.path }.map { d in
            var message = bounded(d.message)
            if let help = d.help { message += "\nhelp: \(bounded(help))" }
            var members: [(String, JSON)] = [
                ("range", doc.lines.range(d.span.start.offset, d.span.end.offset).json),
                ("severity", .int(severity(d.severity))),
                ("code", .string(d.code)),
                ("source", .string("warden")),
                ("message", .string(message)),
            ]
            let related: [JSON] = d.notes.compactMap { note in
                guard let range = doc.range(of: note.span) else { return nil }
                return .object([("location", .object([("uri", .string(DocumentURI.uri(note.span.file))), ("range", range.json)])),
                                ("message", .string(bounded(note.message)))])
            }
            if !related.isEmpty { members.append(("relatedInformation", .array(related))) }
            return .object(members)
        }
    }

    /// An error at the document's start when its lint configuration cannot be used, with
    /// the configuration file's line as related information.
    static func configurationProblem(_ doc: AnalyzedDocument) -> [JSON] {
        guard let error = doc.lintConfigurationError else { return [] }
        let start = LSPPosition(line: 0, character: 0)
        let line = LSPPosition(line: max(0, error.line - 1), character: 0)
        let related: JSON = .object([
            ("location", .object([("uri", .string(DocumentURI.uri(error.path))), ("range", LSPRange(start: line, end: line).json)])),
            ("message", .string(bounded(error.message))),
        ])
        return [.object([("range", LSPRange(start: start, end: start).json), ("severity", .int(1)),
                         ("code", .string("lint-configuration")), ("source", .string("warden")),
                         ("message", .string("the lint configuration cannot be used (`warden lint` exits 2); lint findings are shown without it: " + bounded(error.description))),
                         ("relatedInformation", .array([related]))])]
    }

    /// The diagnostics of an open `.warden-lint.toml`: none, or its one error at its line.
    static func configurationNotification(uri: String, path: String, text: String) -> JSON {
        var diagnostics: [JSON] = []
        do throws(LintConfigurationError) {
            guard text.utf8.count <= LintConfiguration.maxBytes else {
                throw LintConfigurationError(path: path, line: 0, message: "the lint configuration is larger than \(LintConfiguration.maxBytes >> 10) KiB")
            }
            _ = try LintConfiguration.parse(text, path: path)
        } catch {
            let line = LSPPosition(line: max(0, error.line - 1), character: 0)
            diagnostics.append(.object([("range", LSPRange(start: line, end: line).json), ("severity", .int(1)),
                                        ("source", .string("warden")), ("message", .string(bounded(error.message)))]))
        }
        return .object([("jsonrpc", .string("2.0")), ("method", .string("textDocument/publishDiagnostics")),
                        ("params", .object([("uri", .string(uri)), ("diagnostics", .array(diagnostics))]))])
    }

    /// The most bytes of one message line shown: a diagnostic may quote a token, and a
    /// token may be megabytes long.
    static let maxMessageBytes = 1000

    /// `text` cut to `maxMessageBytes` (whole characters) with an ellipsis.
    static func bounded(_ text: String) -> String {
        guard text.utf8.count > maxMessageBytes else { return text }
        var out = ""
        var bytes = 0
        for c in text {
            bytes += c.utf8.count
            if bytes > maxMessageBytes { break }
            out.append(c)
        }
        return out + "…"
    }

    static func notification(_ doc: AnalyzedDocument, version: Int64?) -> JSON {
        var params: [(String, JSON)] = [("uri", .string(doc.uri))]
        if let version { params.append(("version", .int(version))) }
        params.append(("diagnostics", .array(diagnostics(doc))))
        return .object([("jsonrpc", .string("2.0")), ("method", .string("textDocument/publishDiagnostics")), ("params", .object(params))])
    }

    /// One error at the start of a document the server would not analyse.
    static func refused(uri: String, _ message: String) -> JSON {
        let start = LSPPosition(line: 0, character: 0)
        let diagnostic: JSON = .object([("range", LSPRange(start: start, end: start).json), ("severity", .int(1)),
                                        ("source", .string("warden")), ("message", .string(message))])
        return .object([("jsonrpc", .string("2.0")), ("method", .string("textDocument/publishDiagnostics")),
                        ("params", .object([("uri", .string(uri)), ("diagnostics", .array([diagnostic]))]))])
    }

    /// Clears a closed document's diagnostics.
    static func cleared(uri: String) -> JSON {
        .object([("jsonrpc", .string("2.0")), ("method", .string("textDocument/publishDiagnostics")),
                 ("params", .object([("uri", .string(uri)), ("diagnostics", .array([]))]))])
    }
}

/// `textDocument/formatting`: one edit replacing the whole document with `warden fmt`'s
/// output; none when it is already formatted or does not parse.
enum DocumentFormatting {
    static func edits(_ doc: AnalyzedDocument) -> [JSON] {
        guard let formatted = try? PolicyFormatter.format(SourceFile(path: doc.path, text: doc.text)), formatted != doc.text else {
            return []
        }
        return [.object([("range", doc.lines.whole.json), ("newText", .string(formatted))])]
    }
}
