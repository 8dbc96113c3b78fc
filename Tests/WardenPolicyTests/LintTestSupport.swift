import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import WardenPolicy

/// Lints `text` as `main.warden` (with `others` available to include).
func lintText(_ text: String, others: [String: String] = [:], rules: [LintRule] = LintRules.all) -> LintResult {
    var files = others
    files["main.warden"] = text
    let loader = PolicyLoader(provider: InMemorySourceProvider(files))
    do {
        return try Linter(rules: rules).lint(path: "main.warden", loader: loader)
    } catch {
        Issue.record("unexpected load failure: \(error)")
        return LintResult(diagnostics: [], suppressed: [], sources: [:])
    }
}

/// `code@line:column` of each finding of rule `id` when linting `text`.
func findings(_ id: String, in text: String) -> [String] {
    lintText(text).diagnostics.filter { $0.code == id }.map { "\($0.code)@\($0.span.start.line):\($0.span.start.column)" }
}

/// An identity named `agent` with a description and limits (so only the rule under test fires).
func agent(_ body: String, extra: String = "") -> String {
    """
    warden 1
    \(extra)
    identity agent {
      description "test agent"
    \(body)
      limit wall-time 10m
    }

    """
}

/// The directory of golden files, found from this file's path.
let goldenDirectory: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast()
    return parts.joined(separator: "/") + "/Golden"
}()

func readFile(_ path: String) -> String? {
    try? FileSystemSourceProvider().read(path)
}

func writeFile(_ path: String, _ text: String) {
    guard let f = fopen(path, "w") else { return }
    fputs(text, f)
    fclose(f)
}

/// Compares `actual` with the golden file `name`; with WARDEN_UPDATE_GOLDEN=1 rewrites it.
func expectGolden(_ actual: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let path = goldenDirectory + "/" + name
    if getenv("WARDEN_UPDATE_GOLDEN") != nil {
        writeFile(path, actual)
        return
    }
    guard let expected = readFile(path) else {
        Issue.record("missing golden file \(name); run with WARDEN_UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let i = Array(zip(a, b)).firstIndex { $0 != $1 } ?? min(a.count, b.count)
        Issue.record("""
            \(name) differs at line \(i + 1):
              expected: \(i < a.count ? String(a[i]) : "<end>")
              actual:   \(i < b.count ? String(b[i]) : "<end>")
            """, sourceLocation: sourceLocation)
    }
}
