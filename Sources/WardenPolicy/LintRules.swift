/// The registry of lint rules `warden lint` runs.
public enum LintRules {
    /// Every rule, sorted by id.
    public static let all: [LintRule] = [
        dangerousGrant, writableExecutablePath, unprotectedGit, secretEnv, broadNetwork, noLimits,
        unusedPermissions, shadowedRule, duplicateRule, missingDescription, sensitivePathReadable,
        writableSystemPath, writableStartupFile,
    ].sorted { $0.id < $1.id }

    /// Reported by the linter itself for a `# warden:ignore` naming no known rule.
    public static let unknownSuppressionID = "unknown-suppression"

    /// The rule with `id`, if any.
    public static func named(_ id: String) -> LintRule? { all.first { $0.id == id } }

    /// Metadata of everything `warden lint` can report that is not a checker error:
    /// the rules plus `unknown-suppression`. (id, severity, rationale, tags)
    public static var catalog: [(id: String, severity: Severity, rationale: String, tags: [String])] {
        (all.map { ($0.id, $0.severity, $0.rationale, $0.tags) }
            + [(unknownSuppressionID, .warning, "A `# warden:ignore` comment names a rule that does not exist, so it suppresses nothing.", ["hygiene"])])
            .sorted { $0.id < $1.id }
    }
}

// MARK: Shared helpers

/// Identities in source order (the checked policy keeps them in a dictionary).
func identitiesInOrder(_ policy: CheckedPolicy) -> [CheckedIdentity] {
    policy.identities.values.sorted { a, b in
        let x = a.declaration.name.span, y = b.declaration.name.span
        return x.file != y.file ? x.file < y.file : x.start.offset < y.start.offset
    }
}

/// Every `allow`/`deny` rule statement written in any loaded file (sets and identities).
func allRuleStatements(_ policy: CheckedPolicy) -> [Rule] {
    var rules: [Rule] = []
    for file in policy.files {
        for item in file.items {
            let statements: [Statement]
            switch item {
            case .permissions(let d): statements = d.statements
            case .identity(let d): statements = d.statements
            default: continue
            }
            for case .rule(let r) in statements { rules.append(r) }
        }
    }
    return rules
}

/// How an identity reaches a rule, for messages: "" for its own rule, else " (via `use a` → `b`)".
func viaText(_ r: EffectiveRule) -> String {
    r.via.isEmpty ? "" : " (via `use " + r.via.map(\.setName).joined(separator: "` → `") + "`)"
}

/// A note at the identity when the rule came from a permission set.
func identityNote(_ identity: CheckedIdentity, _ r: EffectiveRule) -> [RelatedNote] {
    guard let first = r.via.first else { return [] }
    return [RelatedNote("identity `\(identity.name)` gets it through `use \(first.setName)`", at: first.span)]
}

/// The fs rules of one identity in a compact form, so rules that ask "can this identity
/// read/write X?" many times do not copy whole `EffectiveRule`s on every question.
struct FsView {
    struct Entry {
        var index: Int
        var allow: Bool
        var read: Bool, write: Bool, exec: Bool
        var path: PolicyPath

        func has(_ a: FsAccess) -> Bool {
            switch a { case .read: return read; case .write: return write; case .exec: return exec }
        }
    }

    let identity: CheckedIdentity
    let entries: [Entry]

    init(_ identity: CheckedIdentity) {
        self.identity = identity
        var entries: [Entry] = []
        for (i, r) in identity.rules.enumerated() {
            guard case .fs(let acc, let path) = r.action else { continue }
            entries.append(Entry(index: i, allow: r.effect == .allow, read: acc.contains(.read), write: acc.contains(.write),
                                 exec: acc.contains(.exec), path: path))
        }
        self.entries = entries
    }

    /// The first `allow fs` rule granting `access` on `target` when no `deny fs` of that
    /// access covers `target`; nil when `target` is not reachable with `access`.
    func exposing(_ access: FsAccess, _ target: PolicyPath) -> EffectiveRule? {
        var grant: Int?
        for e in entries where e.has(access) && pathWithin(target, e.path) {
            if !e.allow { return nil }
            if grant == nil { grant = e.index }
        }
        return grant.map { identity.rules[$0] }
    }

    /// Whether some `deny fs` of `access` covers all of `target`.
    func denies(_ access: FsAccess, _ target: PolicyPath) -> Bool {
        entries.contains { !$0.allow && $0.has(access) && pathWithin(target, $0.path) }
    }
}

/// Parses a path known to be valid (built-in tables).
func knownPath(_ text: String) -> PolicyPath {
    (try? PolicyPath.parse(text).get()) ?? PolicyPath(base: nil, components: [])
}

/// Whether `a` is `b` or lies under it (`PolicyPath.isWithin` without allocating).
@inline(__always)
func pathWithin(_ a: PolicyPath, _ b: PolicyPath) -> Bool {
    guard a.base == b.base, a.components.count >= b.components.count else { return false }
    for i in 0..<b.components.count where a.components[i] != b.components[i] { return false }
    return true
}
