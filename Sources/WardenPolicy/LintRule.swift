/// One lint finding before it becomes a `Diagnostic` (the rule supplies id and severity).
public struct LintFinding: Sendable, Hashable {
    public var message: String
    /// The exact offending text: a path, endpoint, name, or syscall spec.
    public var span: SourceSpan
    public var help: String?
    public var notes: [RelatedNote]

    public init(_ message: String, at span: SourceSpan, help: String? = nil, notes: [RelatedNote] = []) {
        self.message = message
        self.span = span
        self.help = help
        self.notes = notes
    }
}

/// A lint rule: a stable kebab-case id, a default severity, a one-line rationale, and a
/// check over the checked policy. Its findings are diagnostics whose `code` is the id.
public struct LintRule: Sendable {
    /// Stable kebab-case identifier, used in output, SARIF and `# warden:ignore`.
    public let id: String
    public let severity: Severity
    /// Why the rule exists, in one line.
    public let rationale: String
    /// Grouping for SARIF `properties.tags` (`security`, `hygiene`, `redundancy`).
    public let tags: [String]
    let check: @Sendable (CheckedPolicy) -> [LintFinding]

    public init(id: String, severity: Severity, rationale: String, tags: [String],
                check: @escaping @Sendable (CheckedPolicy) -> [LintFinding]) {
        self.id = id
        self.severity = severity
        self.rationale = rationale
        self.tags = tags
        self.check = check
    }

    /// The rule's diagnostics for `policy`, without duplicates, in source order.
    public func run(_ policy: CheckedPolicy) -> [Diagnostic] {
        var seen: Set<LintFinding> = []
        return check(policy).filter { seen.insert($0).inserted }.map {
            Diagnostic(severity, id, $0.message, at: $0.span, help: $0.help, notes: $0.notes)
        }
    }
}
