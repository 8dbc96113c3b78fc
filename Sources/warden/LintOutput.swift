import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LintRun {
    /// Lints every root policy under `paths` (checker diagnostics plus lint rules, with
    /// suppressions applied), merged and deduplicated; and how many files were read.
    /// `config` says where each policy's `.warden-lint.toml` comes from: it drops ignored
    /// policies and changes rule severities; a configuration that cannot be used is an
    /// `ioError` (exit 2) and its policies are not linted.
    static func lint(_ paths: [String], config: LintConfigLookup.Mode = .none,
                     ioError: (String) -> Void) -> (result: LintResult, fileCount: Int) {
        var lookup = LintConfigLookup(mode: config, currentDirectory: HostFacts.currentDirectory())
        let linter = Linter()
        let roots = expand(paths, ioError: ioError)
        let loader: PolicyLoader
        do {
            loader = PolicyLoader(provider: try StandardInputPolicy.provider(for: roots))
        } catch {
            ioError("\(error)")
            loader = PolicyLoader()
        }
        var diagnostics: [Diagnostic] = []
        var seen: Set<Diagnostic> = []
        var suppressed: [SuppressedDiagnostic] = []
        var seenSuppressed: Set<Diagnostic> = []
        var sources: [String: SourceFile] = [:]
        for root in roots {
            let configuration: LintConfiguration?
            do {
                configuration = try lookup.configuration(forPolicy: root == StandardInputPolicy.argument ? nil : root)
            } catch {
                ioError(error.description)
                continue
            }
            if let configuration, root != StandardInputPolicy.argument, configuration.ignores(lookup.absolute(root)) { continue }
            do {
                let r = try linter.lint(path: StandardInputPolicy.loaderPath(root), loader: loader)
                sources.merge(r.sources) { a, _ in a }
                let found = configuration.map { $0.apply(r.diagnostics) } ?? r.diagnostics
                for d in found where seen.insert(d).inserted { diagnostics.append(d) }
                for s in r.suppressed where seenSuppressed.insert(s.diagnostic).inserted { suppressed.append(s) }
            } catch {
                ioError("\(error)")
            }
        }
        return (LintResult(diagnostics: diagnostics.sortedForOutput(), suppressed: suppressed, sources: sources), sources.count)
    }
}

/// The output formats of `warden lint`.
enum LintOutput {
    static func render(_ result: LintResult, format: String, root: String?) -> String {
        switch format {
        case "json": return DiagnosticRenderer.json(result.diagnostics)
        case "sarif": return SARIFRenderer.render(result, toolVersion: WardenVersion.string, root: root)
        case "github": return GitHubAnnotationRenderer.render(result.diagnostics, root: root)
        default: return DiagnosticRenderer.text(result.diagnostics, sources: result.sources)
        }
    }

    /// `--list-rules`: an aligned table of the lint rules, then the checker's codes; or
    /// a JSON array of {id, kind ("lint" or "checker"), severity, rationale, tags}.
    static func ruleList(json: Bool) -> String {
        let lint = LintRules.catalog.map { (id: $0.id, kind: "lint", severity: $0.severity, rationale: $0.rationale, tags: $0.tags) }
        let checker = DiagnosticCodes.all.map { (id: $0.code, kind: "checker", severity: $0.severity, rationale: $0.summary, tags: ["correctness"]) }
        if json {
            return OrderedJSON.array((lint + checker).map { entry in
                .object([
                    ("id", .string(entry.id)),
                    ("kind", .string(entry.kind)),
                    ("severity", .string(entry.severity.rawValue)),
                    ("rationale", .string(entry.rationale)),
                    ("tags", .array(entry.tags.map { .string($0) })),
                ])
            }).rendered() + "\n"
        }
        let width = (lint + checker).map(\.id.count).max() ?? 0
        func table(_ rows: [(id: String, kind: String, severity: Severity, rationale: String, tags: [String])]) -> String {
            rows.map { e in
                let id = e.id + String(repeating: " ", count: width - e.id.count)
                let sev = e.severity.rawValue + String(repeating: " ", count: max(0, 7 - e.severity.rawValue.count))
                return "\(id)  \(sev)  \(e.rationale)\n"
            }.joined()
        }
        return "Lint rules (suppress with `# warden:ignore ID`):\n" + table(lint)
            + "\nChecker diagnostics (fix the policy; cannot be suppressed):\n" + table(checker)
    }
}
