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

extension Diagnostic {
    /// The code of an include that exists but could not be read (I/O, not a regular file,
    /// too large, not UTF-8).
    public static let includeUnreadableCode = "include-unreadable"

    /// True for diagnostics that report an input problem rather than a policy mistake:
    /// commands exit with status 2 (usage or I/O error) when one is present.
    public var isInputError: Bool { code == Diagnostic.includeUnreadableCode }
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

    /// True when any diagnostic is an input (I/O) error: see `Diagnostic.isInputError`.
    public var hasInputErrors: Bool { contains { $0.isInputError } }
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

/// The lexer's and parser's diagnostics for one file, at most `limit` of them: a file of a
/// million stray bytes yields a thousand errors and one `too-many-errors`, not a million
/// (which would take gigabytes and minutes to build and print). Once full, the parser
/// stops (`isFull`) and the rest of the file is not checked.
struct BoundedDiagnostics {
    static let limit = 1000
    private(set) var items: [Diagnostic] = []
    /// Where the first diagnostic that did not fit was (nil: nothing was dropped).
    private var overflow: SourceSpan?

    var isFull: Bool { items.count >= Self.limit }

    mutating func append(_ d: Diagnostic) {
        if isFull {
            if overflow == nil { overflow = d.span }
        } else {
            items.append(d)
        }
    }

    /// The diagnostics kept, then `too-many-errors` when some were dropped or the parser
    /// stopped early at `stoppedAt`.
    func finished(stoppedAt: SourceSpan?) -> [Diagnostic] {
        guard let at = overflow ?? (isFull ? stoppedAt : nil) else { return items }
        return items + [.error("too-many-errors", "too many errors in this file (\(Self.limit)); the rest of the file is not checked", at: at,
                               help: "fix the errors above and run again")]
    }
}
