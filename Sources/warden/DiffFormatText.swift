import WardenCompiler
import WardenKernel

/// `warden diff --format text`: per file, per identity, its verdict and each difference
/// with the `warden explain` command that shows it and the rules that decide it on both
/// sides. Every piece of policy text is escaped for a terminal (`TerminalText`).
enum DiffFormatText {
    static func render(_ report: DiffReport) -> String {
        var out = ""
        for file in report.files where !file.diff.identities.isEmpty {
            out += shown(file.name) + status(file) + "\n"
            for identity in file.diff.identities {
                out += "  identity \(shown(identity.identity)): \(verdictLine(identity))\n"
                for w in identity.widenings { out += witness(w, sign: "+", file: file, identity: identity) }
                for w in identity.narrowings { out += witness(w, sign: "-", file: file, identity: identity) }
            }
        }
        out += summary(report) + "\n"
        return out
    }

    static func status(_ file: DiffFileResult) -> String {
        switch (file.oldPath, file.newPath) {
        case (nil, _?): return " (new file)"
        case (_?, nil): return " (deleted)"
        default: return ""
        }
    }

    static func verdictLine(_ i: IdentityDiff) -> String {
        var parts: [String] = []
        if !i.widenings.isEmpty { parts.append(DiffWords.count(i.widenings.count, "widening")) }
        if !i.narrowings.isEmpty { parts.append(DiffWords.count(i.narrowings.count, "narrowing")) }
        var line = i.verdict.rawValue
        if i.status != .compared { line += ", \(i.status.rawValue)" }
        if !parts.isEmpty { line += " (" + parts.joined(separator: ", ") + ")" }
        return line
    }

    static func witness(_ w: DiffWitness, sign: String, file: DiffFileResult, identity: IdentityDiff) -> String {
        var out = "    \(sign) [\(w.domain.rawValue)] \(shown(w.action))\n"
        if let argv = file.explainCommand(identity, w) {
            out += "      witness: \(shown(DiffWords.shellCommand(argv)))\n"
        }
        out += "      \(shown(DiffWords.decision(w.new, past: false)))\n"
        out += "      before: \(shown(DiffWords.decision(w.old)))\n"
        if let note = w.note { out += "      note: \(shown(note))\n" }
        return out
    }

    static func summary(_ report: DiffReport) -> String {
        let counts = report.verdictCounts
        let total = counts.values.reduce(0, +)
        let fileCount = report.files.count
        var line = "\(DiffWords.count(total, "identity").replacingIdentitys()) in \(DiffWords.count(fileCount, "file"))"
        let parts = [DiffVerdict.wider, .both, .narrower, .equivalent].compactMap { v in counts[v].map { "\($0) \(v.rawValue)" } }
        if !parts.isEmpty { line += ": " + parts.joined(separator: ", ") }
        line += report.widens ? ". Something widens (exit 1)." : ". Nothing widens."
        return line
    }
}

extension String {
    /// `identitys` → `identities`.
    func replacingIdentitys() -> String {
        hasSuffix("identitys") ? String(dropLast("identitys".count)) + "identities" : self
    }
}
