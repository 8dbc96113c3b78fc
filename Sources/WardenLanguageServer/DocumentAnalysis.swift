import WardenPolicy

/// An open document: its text as the editor holds it, and what the checker and the
/// linter make of it (includes read from disk, or from other open documents, which win).
public struct AnalyzedDocument: Sendable {
    public let uri: String
    /// The normalised path the loader uses for this document.
    public let path: String
    public let text: String
    public let lines: LineMap
    /// This document's syntax tree.
    public let file: PolicyFile
    /// The policy with its includes, checked (built from whatever was valid).
    public let policy: CheckedPolicy?
    /// Checker diagnostics plus lint findings, for every loaded file.
    public let diagnostics: [Diagnostic]
    /// Why the document itself could not be loaded (it never happens for an open
    /// document below the size limit, but is reported rather than lost).
    public let loadError: String?
    /// Why the lint configuration that applies could not be used (the findings are then
    /// shown without it, and `warden lint` would exit 2).
    public let lintConfigurationError: LintConfigurationError?

    /// Parses, checks and lints `text` as the file at `uri`; `overrides` are the texts of
    /// the open documents by path, read instead of the files on disk. `lintConfiguration`
    /// (the `.warden-lint.toml` that applies) changes rule severities as in `warden lint`;
    /// when it ignores this document, only the checker's diagnostics remain.
    public init(uri: String, text: String, overrides: [String: String],
                lintConfiguration: LintConfiguration? = nil, lintConfigurationError: LintConfigurationError? = nil) {
        self.lintConfigurationError = lintConfigurationError
        self.uri = uri
        self.text = text
        self.lines = LineMap(text)
        let path = PolicyPaths.normalize(DocumentURI.path(uri))
        self.path = path
        var files = overrides
        files[path] = text
        let loader = PolicyLoader(provider: OverlaySourceProvider(overrides: files))
        do {
            let analysis = try loader.analyze(path)
            let result = Linter().lint(analysis)
            policy = analysis.policy
            diagnostics = Self.configured(result.diagnostics, lintConfiguration, path: path)
            loadError = nil
            file = analysis.policy.files.last { $0.path == path } ?? Parser.parse(SourceFile(path: path, text: text)).file
        } catch {
            policy = nil
            diagnostics = []
            loadError = error.description
            file = Parser.parse(SourceFile(path: path, text: text)).file
        }
    }

    /// `diagnostics` as `configuration` wants them: rules off, warning or error; for a
    /// document it ignores, the checker's diagnostics only (`warden lint` skips the file,
    /// but its language errors still stop `warden test` and `warden run`).
    static func configured(_ diagnostics: [Diagnostic], _ configuration: LintConfiguration?, path: String) -> [Diagnostic] {
        guard let configuration else { return diagnostics }
        guard path.hasPrefix("/"), configuration.ignores(path) else { return configuration.apply(diagnostics) }
        let lintRules = Set(LintRules.catalog.map(\.id))
        return diagnostics.filter { !lintRules.contains($0.code) }
    }

    /// The source text of `span` when it is in a loaded file.
    func text(of span: SourceSpan) -> String? {
        let source: SourceFile? = span.file == path ? file.source : policy?.sources[span.file]
        guard let source else { return nil }
        let bytes = source.bytes
        let start = max(0, min(span.start.offset, bytes.count)), end = max(start, min(span.end.offset, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The LSP range of `span`, converted with the line map of the file it is in.
    func range(of span: SourceSpan) -> LSPRange? {
        if span.file == path { return lines.range(span.start.offset, span.end.offset) }
        guard let source = policy?.sources[span.file] else { return nil }
        return LineMap(source.text).range(span.start.offset, span.end.offset)
    }
}
