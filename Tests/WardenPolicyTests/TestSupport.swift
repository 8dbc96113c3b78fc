import Testing
@testable import WardenPolicy

/// Analyses `text` as `main.warden`, with `others` available to include.
func analyze(_ text: String, others: [String: String] = [:]) -> PolicyAnalysis {
    var files = others
    files["main.warden"] = text
    let loader = PolicyLoader(provider: InMemorySourceProvider(files))
    do {
        return try loader.analyze("main.warden")
    } catch {
        Issue.record("unexpected load failure: \(error)")
        return PolicyAnalysis(policy: CheckedPolicy(files: [], permissionSets: [:], identities: [:], tests: []), diagnostics: [])
    }
}

/// Parses `text` alone (no checker).
func parse(_ text: String) -> (file: PolicyFile, diagnostics: [Diagnostic]) {
    Parser.parse(SourceFile(path: "main.warden", text: text))
}

/// `code@line:column` for each diagnostic, in output order.
func locations(_ diagnostics: [Diagnostic]) -> [String] {
    diagnostics.map { "\($0.code)@\($0.span.start.line):\($0.span.start.column)" }
}

/// `text` wrapped in `warden 1` and an identity block.
func inIdentity(_ body: String, name: String = "agent") -> String {
    "warden 1\nidentity \(name) {\n\(body)\n}\n"
}

/// The statements of the first identity or permission set of a parse.
func statements(_ file: PolicyFile) -> [Statement] {
    for item in file.items {
        if case .identity(let d) = item { return d.statements }
        if case .permissions(let d) = item { return d.statements }
    }
    return []
}

/// The only rule of `body` parsed inside an identity.
func singleRule(_ body: String) -> Rule? {
    let (file, diags) = parse(inIdentity(body))
    #expect(diags.isEmpty, "\(diags)")
    guard case .rule(let r)? = statements(file).first else { return nil }
    return r
}

/// Root of the package, found from this file's path.
let packageRoot: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast(3)  // Tests/WardenPolicyTests/TestSupport.swift
    return parts.joined(separator: "/")
}()
