/// The registry of lint rules `warden lint` runs.
public enum LintRules {
    /// Every rule, sorted by id.
    public static let all: [LintRule] = [
        dangerousGrant, writableExecutablePath, unprotectedGit, secretEnv, broadNetwork, noLimits,
        unusedPermissions, shadowedRule, duplicateRule, missingDescription, sensitivePathReadable,
        writableSystemPath, writableStartupFile, secretUnbound, secretEnvPass, secretWildcardHost,
        secretCleartext, triggerWithoutSecret, triggerOpenToAnyone, triggerAnyRepository,
        triggerFleetUnbounded,
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

/// The fs rules of one identity in a compact form, indexed by path, so rules that ask "can
/// this identity read/write X?" many times neither copy whole `EffectiveRule`s nor scan
/// every fs rule per question: a question looks up each ancestor of X (X included) in a
/// dictionary, which keeps lint linear in the number of rules however large a policy is.
struct FsView {
    struct Entry {
        var index: Int
        var allow: Bool
        var read: Bool, write: Bool, exec: Bool
        var path: PolicyPath

        func has(_ a: FsAccess) -> Bool {
            switch a { case .read: return read; case .write: return write; case .exec: return exec }
        }

        /// The access as a bit mask (read 1, write 2, exec 4).
        var mask: Int { (read ? 1 : 0) | (write ? 2 : 0) | (exec ? 4 : 0) }
    }

    /// The rules naming exactly one path.
    struct AtPath {
        /// Positions in `entries`, in rule order.
        var all: [Int] = []
        /// For each access mask, the first allow / deny (position in `entries`) granting or
        /// denying at least that access; -1 for none. (Inline vectors: no allocation.)
        var firstAllow = SIMD8<Int32>(repeating: -1)
        var firstDeny = SIMD8<Int32>(repeating: -1)

        static func first(_ v: SIMD8<Int32>, _ m: Int) -> Int? { v[m] < 0 ? nil : Int(v[m]) }

        mutating func add(_ position: Int, _ e: Entry) {
            all.append(position)
            for m in 0..<8 where m & e.mask == m {
                if e.allow {
                    if firstAllow[m] < 0 { firstAllow[m] = Int32(position) }
                } else if firstDeny[m] < 0 {
                    firstDeny[m] = Int32(position)
                }
            }
        }
    }

    let identity: CheckedIdentity
    /// In rule order.
    let entries: [Entry]
    private let byPath: [PolicyPath: AtPath]

    init(_ identity: CheckedIdentity) {
        self.identity = identity
        var entries: [Entry] = []
        var byPath: [PolicyPath: AtPath] = [:]
        for (i, r) in identity.rules.enumerated() {
            guard case .fs(let acc, let path) = r.action else { continue }
            let e = Entry(index: i, allow: r.effect == .allow, read: acc.contains(.read), write: acc.contains(.write),
                          exec: acc.contains(.exec), path: path)
            let position = entries.count
            entries.append(e)
            byPath[path, default: AtPath()].add(position, e)
        }
        self.entries = entries
        self.byPath = byPath
    }

    /// What the identity says about `target` and each of its ancestors.
    private func ancestors(of target: PolicyPath, _ body: (AtPath) -> Void) {
        var prefix = PolicyPath(base: target.base, components: [])
        prefix.components.reserveCapacity(target.components.count)
        if let at = byPath[prefix] { body(at) }
        for c in target.components {
            prefix.components.append(c)
            if let at = byPath[prefix] { body(at) }
        }
    }

    /// The positions in `entries` of the rules whose path is `target` or an ancestor of it
    /// (those `pathWithin(target, rule.path)` holds for), in no particular order.
    func covering(_ target: PolicyPath) -> [Int] {
        var found: [Int] = []
        ancestors(of: target) { found += $0.all }
        return found
    }

    private static func mask(_ access: [FsAccess]) -> Int {
        access.reduce(0) { m, a in m | (a == .read ? 1 : a == .write ? 2 : 4) }
    }

    /// The first `allow fs` rule granting `access` on `target` when no `deny fs` of that
    /// access covers `target`; nil when `target` is not reachable with `access`.
    func exposing(_ access: FsAccess, _ target: PolicyPath) -> EffectiveRule? {
        let m = Self.mask([access])
        var grant: Int?, denied = false
        ancestors(of: target) { at in
            if at.firstDeny[m] >= 0 { denied = true }
            if let k = AtPath.first(at.firstAllow, m) { grant = min(grant ?? k, k) }
        }
        guard !denied else { return nil }
        return grant.map { identity.rules[entries[$0].index] }
    }

    /// Whether some `deny fs` of `access` covers all of `target`.
    func denies(_ access: FsAccess, _ target: PolicyPath) -> Bool {
        firstDeny(covering: [access], target) != nil
    }

    /// The first (in rule order) `deny fs` that covers `target` for every access in `access`.
    func firstDeny(covering access: [FsAccess], _ target: PolicyPath) -> Entry? {
        let m = Self.mask(access)
        var first: Int?
        ancestors(of: target) { at in
            if let k = AtPath.first(at.firstDeny, m) { first = min(first ?? k, k) }
        }
        return first.map { entries[$0] }
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
