import WardenCompiler
import WardenKernel
import WardenPolicy

/// `warden diff --format github`: one `::warning file=F,line=L,title=…::…` workflow
/// command per widening (an annotation on the pull request), at the same place as the
/// SARIF result. Policy text is escaped for a terminal, then with the workflow-command
/// encoding, so no text from a policy can start a command of its own.
enum DiffFormatGitHub {
    static func render(_ report: DiffReport, root: String?) -> String {
        var out = ""
        for file in report.files {
            for identity in file.diff.identities {
                for w in identity.widenings {
                    let at = DiffFormatSARIF.place(w, identity: identity, file: file)
                    let props = [
                        "file=" + GitHubAnnotationRenderer.escapeProperty(TerminalText.escape(relative(at.file, root: root))),
                        "line=\(at.line)",
                        "col=\(at.column)",
                        "title=" + GitHubAnnotationRenderer.escapeProperty(TerminalText.escape("\(DiffFormatSARIF.ruleID(w.domain)): \(identity.identity)")),
                    ]
                    let message = TerminalText.escape(DiffFormatSARIF.message(w, identity: identity, file: file))
                    out += "::warning " + props.joined(separator: ",") + "::" + GitHubAnnotationRenderer.escapeData(message) + "\n"
                }
            }
        }
        return out
    }

    /// `path` relative to `root` when under it (GitHub resolves `file=` against the
    /// repository root, the working directory of a step).
    static func relative(_ path: String, root: String?) -> String {
        var p = path
        if let root, !root.isEmpty, p.hasPrefix("/") {
            let base = root.hasSuffix("/") ? root : root + "/"
            if p.hasPrefix(base) { p = String(p.dropFirst(base.count)) }
        }
        while p.hasPrefix("./") { p = String(p.dropFirst(2)) }
        return p
    }
}
