import WardenKernel
import WardenCompiler
import WardenPolicy

/// Human-readable text for decisions, shared by `test` and `explain`. Text from the policy
/// or the command line (paths, endpoints, rule text, reasons) is escaped with `shown(_:)`.
enum ExplainFormat {
    static func action(_ e: CheckedExpectation) -> String { action(e.action) }

    /// The action as policy text; `escape` escapes the policy's strings for a terminal
    /// (reports that quote text themselves, JSON and XML, pass `{ $0 }`).
    static func action(_ a: TestAction, escape: (String) -> String = { TerminalText.escape($0) }) -> String {
        switch a {
        case .fs(let access, let path): return "fs \(access.rawValue) \"\(escape("\(path)"))\""
        case .net(let d, let p, let endpoint): return "net \(d.rawValue) \(p.rawValue) \"\(escape("\(endpoint)"))\""
        case .syscall(let name, let args):
            guard let args else { return "syscall \(name)" }
            return "syscall \(name)(\(args.map { String($0) }.joined(separator: ", ")))"
        case .capability(let name): return "capability \(name)"
        case .http(let method, let url): return "\(url.scheme.rawValue) \(escape(method)) \"\(escape(url.description))\""
        case .gitPush(let host, let port, let repo, let ref):
            let at = port == 443 ? host : "\(host):\(port)"
            return "git push \"\(escape("\(at)/\(repo)"))\" ref \"\(escape(ref))\""
        case .trigger(let event): return "trigger \(escape(event.words))"
        }
    }

    /// The lines that explain a decision: deciding rules (with `because`), mechanism, note.
    static func reasons(_ d: Decision) -> [String] {
        var lines: [String] = []
        if d.rules.isEmpty {
            lines.append("decided by: default deny")
        }
        for rule in d.rules {
            lines.append("decided by: \(shown("\(rule)"))")
            if let because = rule.because { lines.append("    because: \(shown(because))") }
        }
        if d.rules.contains(where: { $0.rule.hasPrefix("cache ") }) {
            lines.append("cache: the path is the identity's own persistent store (kept across its runs, never executable), not the operator's directory")
        }
        lines.append("enforced by: \(shown("\(d.mechanism)"))")
        if let note = d.note { lines.append("note: \(shown(note))") }
        return lines
    }
}

extension ExplainFormat {
    /// The lines naming what an allowed request gets injected (secret names, never values).
    static func injections(_ d: HTTPDecision) -> [String] {
        var lines = d.injections.map { i -> String in
            let form: String
            switch i.form {
            case .bearer: form = "Bearer"
            case .basic(let user): form = "Basic (user \"\(shown(user))\")"
            case .header: form = "the value"
            }
            return "injects: \(shown(i.headerName)): \(form) from secret \(shown(i.secret)) (replacing any the agent sent)"
        }
        if let conflict = d.conflict { lines.append("conflict: \(shown(conflict))") }
        return lines
    }
}
