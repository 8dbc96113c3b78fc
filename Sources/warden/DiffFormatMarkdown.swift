import WardenCompiler
import WardenKernel

/// `warden diff --format markdown`: a summary table (identity | verdict | widenings |
/// narrowings) of the identities that changed, then the details, for a pull-request
/// comment. Policy text appears only inside code spans (so it cannot become markup or
/// HTML) after terminal escaping; the output stays under GitHub's comment size.
enum DiffFormatMarkdown {
    /// Stop adding details beyond this many characters (GitHub comments hold 65,536).
    static let budget = 60_000
    /// Witnesses listed per identity and direction.
    static let perIdentity = 20

    static func render(_ report: DiffReport) -> String {
        let counts = report.verdictCounts
        var out = "## Warden policy review\n\n"
        out += report.widens
            ? "**Some identity can do something it could not do before** (`warden diff` exits 1).\n\n"
            : "No identity can do anything it could not do before.\n\n"
        let changed = report.files.flatMap { f in f.diff.identities.filter { $0.verdict != .equivalent }.map { (f, $0) } }
        if changed.isEmpty {
            out += "\(DiffWords.count(counts[.equivalent] ?? 0, "identity").replacingIdentitys()) compared: all equivalent.\n"
            return out
        }
        out += "| Policy | Identity | Verdict | Widenings | Narrowings |\n|---|---|---|---:|---:|\n"
        for (f, i) in changed {
            out += "| \(code(f.name)) | \(code(i.identity)) | \(verdict(i)) | \(i.widenings.count) | \(i.narrowings.count) |\n"
        }
        if let same = counts[.equivalent], same > 0 {
            out += "\n\(DiffWords.count(same, "other identity").replacingIdentitys()) \(same == 1 ? "is" : "are") equivalent.\n"
        }
        out += "\n### Details\n"
        var cut = 0
        for (f, i) in changed {
            var section = "\n#### \(code(i.identity)) in \(code(f.name)): \(verdict(i))\n\n"
            for (list, sign) in [(i.widenings, "➕ now allowed"), (i.narrowings, "➖ now denied")] {
                for w in list.prefix(perIdentity) { section += item(w, sign: sign, identity: i, file: f) }
                if list.count > perIdentity { section += "- … and \(list.count - perIdentity) more (run `warden diff` locally)\n" }
            }
            if out.count + section.count > budget { cut += 1; continue }
            out += section
        }
        if cut > 0 { out += "\n_Details of \(DiffWords.count(cut, "identity").replacingIdentitys()) left out to fit a comment; run `warden diff` locally._\n" }
        return out
    }

    static func verdict(_ i: IdentityDiff) -> String {
        let word = i.status == .compared ? i.verdict.rawValue : "\(i.verdict.rawValue) (\(i.status.rawValue))"
        switch i.verdict {
        case .wider, .both: return "⚠️ " + word
        case .narrower: return "🔒 " + word
        case .equivalent: return word
        }
    }

    static func item(_ w: DiffWitness, sign: String, identity: IdentityDiff, file: DiffFileResult) -> String {
        var s = "- \(sign) (\(w.domain.rawValue)): \(code(w.action))  \n"
        s += "  now: \(code(DiffWords.decision(w.new, past: false)))  \n"
        s += "  before: \(code(DiffWords.decision(w.old)))"
        if let argv = file.explainCommand(identity, w) { s += "  \n  witness: \(code(DiffWords.shellCommand(argv)))" }
        if let note = w.note { s += "  \n  note: \(code(note))" }
        return s + "\n"
    }

    /// `text` as an inline code span: escaped for a terminal, with a backtick fence longer
    /// than any run inside it, and `|` escaped (GitHub tables split cells on it, even in code).
    static func code(_ text: String) -> String {
        var t = TerminalText.escape(text)
        t = t.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
        var longest = 0, run = 0
        for c in t { if c == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = t.hasPrefix("`") || t.hasSuffix("`") ? " " : ""
        return fence + pad + t + pad + fence
    }
}
