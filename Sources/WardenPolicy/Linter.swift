/// The outcome of linting one policy.
public struct LintResult: Sendable {
    /// Checker diagnostics and rule findings that were not suppressed, sorted for output.
    public var diagnostics: [Diagnostic]
    /// Findings a `# warden:ignore` comment silenced (shown in SARIF as suppressions).
    public var suppressed: [SuppressedDiagnostic]
    /// The loaded files, by path (for excerpts).
    public var sources: [String: SourceFile]

    public init(diagnostics: [Diagnostic], suppressed: [SuppressedDiagnostic], sources: [String: SourceFile]) {
        self.diagnostics = diagnostics
        self.suppressed = suppressed
        self.sources = sources
    }
}

/// Runs the checker's diagnostics plus lint rules, and applies `# warden:ignore` comments.
public struct Linter: Sendable {
    public var rules: [LintRule]

    public init(rules: [LintRule] = LintRules.all) {
        self.rules = rules
    }

    /// Lints a loaded and checked policy. The rules run even when the checker found
    /// errors (on whatever was valid), so that one run reports every mistake.
    public func lint(_ analysis: PolicyAnalysis) -> LintResult {
        lint(policy: analysis.policy, checkerDiagnostics: analysis.diagnostics)
    }

    /// Loads `path` with `loader`, checks and lints it.
    public func lint(path: String, loader: PolicyLoader = PolicyLoader()) throws(SourceProviderError) -> LintResult {
        lint(try loader.analyze(path))
    }

    public func lint(policy: CheckedPolicy, checkerDiagnostics: [Diagnostic]) -> LintResult {
        var findings: [Diagnostic] = []
        for rule in rules { findings += rule.run(policy) }
        var kept = checkerDiagnostics
        var suppressed: [SuppressedDiagnostic] = []
        // Suppressions by file and target line.
        var byLine: [String: [Int: [Suppression]]] = [:]
        var seenFiles: Set<String> = []
        let known = Set(LintRules.all.map(\.id))
        for file in policy.files where seenFiles.insert(file.path).inserted {
            for s in Suppression.scan(file.source) {
                if s.ruleIDs.isEmpty {
                    kept.append(.warning(LintRules.unknownSuppressionID, "`# warden:ignore` names no rule", at: s.span,
                                         help: "write `# warden:ignore rule-id`; `warden lint --list-rules` lists the ids"))
                }
                for id in s.ruleIDs where !known.contains(id.value) {
                    let help = Suggestions.help(for: id.value, in: known)
                        ?? "only lint rules can be suppressed; `warden lint --list-rules` lists them"
                    kept.append(.warning(LintRules.unknownSuppressionID, "unknown lint rule `\(id.value)` in suppression", at: id.span, help: help))
                }
                if let line = s.targetLine { byLine[file.path, default: [:]][line, default: []].append(s) }
            }
        }
        for d in findings {
            let match = byLine[d.span.file]?[d.span.start.line]?.first { s in s.ruleIDs.contains { $0.value == d.code } }
            if let match {
                suppressed.append(SuppressedDiagnostic(diagnostic: d, suppression: match))
            } else {
                kept.append(d)
            }
        }
        return LintResult(diagnostics: kept.sortedForOutput(), suppressed: suppressed, sources: policy.sources)
    }
}
