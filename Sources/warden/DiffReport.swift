import WardenCompiler
import WardenKernel
import WardenPolicy

/// The comparison of one root policy file.
struct DiffFileResult: Sendable {
    /// The file's name (see `DiffPair.name`).
    var name: String
    /// The paths the loader read the old and new version from (nil: did not exist).
    var oldPath: String?
    var newPath: String?
    var diff: PolicyDiff

    /// The file `warden explain` asks about an identity: the new version, or the old one
    /// when the identity was removed.
    func explainFile(_ identity: IdentityDiff) -> String {
        identity.status == .removed ? (oldPath ?? name) : (newPath ?? oldPath ?? name)
    }

    /// `warden explain FILE --identity I ARGS` for a witness; nil when explain cannot ask it.
    func explainCommand(_ identity: IdentityDiff, _ w: DiffWitness) -> [String]? {
        guard !w.explainArguments.isEmpty else { return nil }
        return ["warden", "explain", explainFile(identity), "--identity", identity.identity] + w.explainArguments
    }
}

/// Everything `warden diff` compared.
struct DiffReport: Sendable {
    var files: [DiffFileResult]
    var widens: Bool { files.contains { $0.diff.widens } }

    /// Identities counted by verdict.
    var verdictCounts: [DiffVerdict: Int] {
        var counts: [DiffVerdict: Int] = [:]
        for f in files { for i in f.diff.identities { counts[i.verdict, default: 0] += 1 } }
        return counts
    }
}

/// Words shared by the formats.
enum DiffWords {
    /// `deny fs read "/x" (policies/a.warden:12, via toolchain)`; a built-in: `built-in: ...`.
    static func rule(_ p: Provenance) -> String {
        var place: [String] = []
        if let file = p.file { place.append("\(file):\(p.line)") } else { place.append("built-in") }
        if !p.via.isEmpty { place.append("via " + p.via.joined(separator: " → ")) }
        return "\(p.rule) (\(place.joined(separator: ", ")))"
    }

    /// How one side decided: `allowed by RULE`, `denied by RULE`, `no rule allowed it`
    /// (`allows` with `past: false`), or the decision's note when no rule is involved.
    static func decision(_ d: Decision, past: Bool = true, shownRules: Int = 3) -> String {
        var verb = d.effect == .allow ? "allowed" : "denied"
        // A request allowed without the secret (DiffProbe.httpInjection): its rules allow it.
        if d.effect == .deny, !d.rules.isEmpty, let note = d.note, note.hasPrefix("allowed, without secret ") {
            verb = "allowed without secret " + note.dropFirst("allowed, without secret ".count) + ","
        }
        if d.rules.isEmpty {
            if d.effect == .deny {
                if d.mechanism == "policy" { return past ? "the identity did not exist" : "the identity no longer exists" }
                return past ? "no rule allowed it" : "no rule allows it"
            }
            return d.note.map { "\(verb) (\($0))" } ?? verb
        }
        var text = "\(verb) by " + d.rules.prefix(shownRules).map(rule).joined(separator: "; ")
        if d.rules.count > shownRules { text += "; and \(d.rules.count - shownRules) more" }
        return text
    }

    /// A shell word: quoted with single quotes unless it is plainly safe.
    static func shellWord(_ s: String) -> String {
        let safe = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            (c.value < 128 && (c.properties.isAlphabetic || c.properties.numericType != nil)) || "-_./:=@,+%".unicodeScalars.contains(c)
        }
        return safe ? s : "'" + s.replacingSingleQuotes() + "'"
    }

    static func shellCommand(_ argv: [String]) -> String { argv.map(shellWord).joined(separator: " ") }

    static func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
}

extension String {
    fileprivate func replacingSingleQuotes() -> String {
        var out = ""
        for c in self { if c == "'" { out += "'\\''" } else { out.append(c) } }
        return out
    }
}
