import WardenCompiler
import WardenPolicy

/// Human-readable text for decisions, shared by `test` and `explain`.
enum ExplainFormat {
    static func action(_ e: CheckedExpectation) -> String { action(e.action) }

    static func action(_ a: TestAction) -> String {
        switch a {
        case .fs(let access, let path): return "fs \(access.rawValue) \"\(path)\""
        case .net(let d, let p, let endpoint): return "net \(d.rawValue) \(p.rawValue) \"\(endpoint)\""
        case .syscall(let name, let args):
            guard let args else { return "syscall \(name)" }
            return "syscall \(name)(\(args.map { String($0) }.joined(separator: ", ")))"
        case .capability(let name): return "capability \(name)"
        }
    }

    /// The lines that explain a decision: deciding rules (with `because`), mechanism, note.
    static func reasons(_ d: Decision) -> [String] {
        var lines: [String] = []
        if d.rules.isEmpty {
            lines.append("decided by: default deny")
        }
        for rule in d.rules {
            lines.append("decided by: \(rule)")
            if let because = rule.because { lines.append("    because: \(because)") }
        }
        lines.append("enforced by: \(d.mechanism)")
        if let note = d.note { lines.append("note: \(note)") }
        return lines
    }
}
