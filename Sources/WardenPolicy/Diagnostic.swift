/// How bad a diagnostic is.
public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case error, warning, note

    private var rank: Int {
        switch self { case .error: return 0; case .warning: return 1; case .note: return 2 }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A secondary location that explains a diagnostic ("first defined here").
public struct RelatedNote: Sendable, Hashable, Codable {
    public var message: String
    public var span: SourceSpan

    public init(_ message: String, at span: SourceSpan) {
        self.message = message
        self.span = span
    }
}

/// One finding about a policy: from the parser, the checker, the loader, or a lint rule.
public struct Diagnostic: Sendable, Hashable, Codable {
    public var severity: Severity
    /// Stable kebab-case identifier (`unknown-syscall`); lint rules use their rule id.
    public var code: String
    public var message: String
    public var span: SourceSpan
    /// One actionable line ("did you mean `openat`?").
    public var help: String?
    public var notes: [RelatedNote]

    public init(_ severity: Severity, _ code: String, _ message: String, at span: SourceSpan,
                help: String? = nil, notes: [RelatedNote] = []) {
        self.severity = severity
        self.code = code
        self.message = message
        self.span = span
        self.help = help
        self.notes = notes
    }

    public static func error(_ code: String, _ message: String, at span: SourceSpan,
                             help: String? = nil, notes: [RelatedNote] = []) -> Diagnostic {
        Diagnostic(.error, code, message, at: span, help: help, notes: notes)
    }

    public static func warning(_ code: String, _ message: String, at span: SourceSpan,
                               help: String? = nil, notes: [RelatedNote] = []) -> Diagnostic {
        Diagnostic(.warning, code, message, at: span, help: help, notes: notes)
    }
}

extension Array where Element == Diagnostic {
    /// Sorted by file, line, column, then severity, code and message (deterministic).
    public func sortedForOutput() -> [Diagnostic] {
        sorted { a, b in
            if a.span.file != b.span.file { return a.span.file < b.span.file }
            if a.span.start.line != b.span.start.line { return a.span.start.line < b.span.start.line }
            if a.span.start.column != b.span.start.column { return a.span.start.column < b.span.start.column }
            if a.severity != b.severity { return a.severity < b.severity }
            if a.code != b.code { return a.code < b.code }
            return a.message < b.message
        }
    }

    /// True when any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// Collects diagnostics during a pass.
struct DiagnosticSink {
    var items: [Diagnostic] = []
    mutating func append(_ d: Diagnostic) { items.append(d) }
    mutating func error(_ code: String, _ message: String, at span: SourceSpan,
                        help: String? = nil, notes: [RelatedNote] = []) {
        items.append(.error(code, message, at: span, help: help, notes: notes))
    }
}
