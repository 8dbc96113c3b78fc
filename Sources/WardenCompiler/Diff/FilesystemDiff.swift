import WardenPolicy

extension PolicyDiffer {
    /// The file accesses (read, write, exec of one path) the agent's world answers
    /// differently: allowed in `new` and denied in `old` (widenings), or the reverse.
    ///
    /// Each access is decided as `DiffProbe.fs` decides it, with `EffectivePolicy.worldAnswer`:
    /// the world the runtime builds (deepest grant's mount wins, denies mounted on top,
    /// skeleton directories on the way to a grant, the fresh `${home}`, `/tmp` seen as
    /// `${tmp}`). An access allowed only inside the run's fresh home counts as denied: it
    /// reaches nothing of the host, so granting the real home or a part of it widens.
    ///
    /// **Why the representatives are complete.** Let R be every fs rule path of both
    /// sides (allows and denies, built-ins and caches included) plus `${home}` (the fresh
    /// home's implicit grant), all in the agent's view (`/tmp/…` is `${tmp}/…`). Let M be R,
    /// every ancestor of R, and the roots `/`, `${workspace}`, `${home}`, `${tmp}`.
    /// `worldAnswer(a, p)` reads `p` only through (1) which paths of R cover `p` (a rule
    /// path covers `p` when it is `/` or a component prefix of `p`): that picks the grants
    /// holding `p`, the deepest of them (the mount, and so whether it is the fresh home),
    /// and the denies that apply; and (2) whether `p` equals the mount's path (the
    /// fresh-home case), an element of R. Take any
    /// path `p` not in M and let `q` be its longest prefix in M (it exists: M holds each
    /// root). Every path of R covering `p` is a prefix of `p` in M, hence no longer than
    /// `q`, hence a prefix of `q` and so of `q/f` for a fresh name `f`; conversely a path of
    /// R covering `q/f` is not `q/f` (not in M), so it is a prefix of `q` and covers `p`.
    /// Neither `p` nor `q/f` is in R. So `p` and `q/f` get the same answer on both sides,
    /// and probing every element of M and `q/f` for every `q` in M probes every class.
    /// (Paths of R that name another variable's or host location are compared lexically,
    /// as `worldAnswer` does.)
    ///
    /// Differing representatives are grouped by (access, direction, old deciding rules, new
    /// deciding rules); each group yields one witness, its simplest path (fewest
    /// components, then shortest). Cost: |M| is at most the sum of the rule paths' depths,
    /// and each probe is linear in the rules.
    static func filesystemChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        // The world depends only on the rules' (effect, access, path): equal sets, equal worlds.
        guard FsDiffRepresentatives.worldInputs(old) != FsDiffRepresentatives.worldInputs(new) else { return DomainChanges() }
        var groups: [FsDiffGroupKey: PolicyPath] = [:]
        for path in FsDiffRepresentatives.paths(of: [old, new]) {
            for access in FsAccess.allCases {
                let before = FsDiffRepresentatives.reachesHost(old, access, path)
                let after = FsDiffRepresentatives.reachesHost(new, access, path)
                guard before != after else { continue }
                let key = FsDiffGroupKey(access: access, widens: after,
                                         oldRules: old.decideFs(access, path).rules, newRules: new.decideFs(access, path).rules)
                if let kept = groups[key], !FsDiffRepresentatives.isSimpler(path, than: kept) { continue }
                groups[key] = path
            }
        }
        let ordered = groups.sorted { a, b in
            let (pa, pb) = (a.value.description, b.value.description)
            if pa != pb { return pa < pb }
            return FsDiffRepresentatives.rank(a.key.access) < FsDiffRepresentatives.rank(b.key.access)
        }
        var changes = DomainChanges()
        for (key, path) in ordered {
            let witness = DiffWitness(probe: .fs(key.access, path), old: old, new: new)
            if key.widens { changes.widenings.append(witness) } else { changes.narrowings.append(witness) }
        }
        changes.widenings = WitnessCap.apply(changes.widenings, what: "filesystem widenings")
        changes.narrowings = WitnessCap.apply(changes.narrowings, what: "filesystem narrowings")
        return changes
    }
}

/// One distinct filesystem difference: representatives with the same key are one witness.
struct FsDiffGroupKey: Hashable {
    var access: FsAccess
    var widens: Bool
    var oldRules: [Provenance]
    var newRules: [Provenance]
}

/// The representative paths of the filesystem diff (see `PolicyDiffer.filesystemChanges`).
enum FsDiffRepresentatives {
    /// What `worldAnswer` reads of a policy: its rules' (effect, access, path).
    static func worldInputs(_ policy: EffectivePolicy) -> Set<FsRuleShape> {
        Set(policy.fs.map { FsRuleShape(effect: $0.effect, access: $0.access, path: $0.path) })
    }

    struct FsRuleShape: Hashable {
        var effect: Effect
        var access: Set<FsAccess>
        var path: PolicyPath
    }

    /// What `DiffProbe.fs` answers: the world allows it, and not only in the fresh home.
    static func reachesHost(_ policy: EffectivePolicy, _ access: FsAccess, _ path: PolicyPath) -> Bool {
        let world = policy.worldAnswer(access, path)
        return world.allowed && !world.inFreshHome
    }

    static let roots: [PolicyPath] = [PolicyPath(base: nil, components: [])] + PathVariable.allCases.map { PolicyPath(base: $0, components: []) }

    /// Every mentioned path (agent view), its ancestors and the roots, each with a fresh
    /// child; sorted.
    static func paths(of policies: [EffectivePolicy]) -> [PolicyPath] {
        var mentioned = Set(roots)
        var names: Set<String> = []
        for policy in policies {
            for grant in policy.fs {
                var path = EffectivePolicy.agentView(grant.path)
                names.formUnion(path.components)
                while mentioned.insert(path).inserted, !path.components.isEmpty { path.components.removeLast() }
            }
        }
        let fresh = freshName(avoiding: names)
        var all = mentioned
        for path in mentioned {
            var child = path
            child.components.append(fresh)
            all.insert(child)
        }
        return all.sorted { $0.description < $1.description }
    }

    /// A component no rule mentions: `warden-diff-x`, or with a number when taken.
    static func freshName(avoiding names: Set<String>) -> String {
        var name = "warden-diff-x"
        var n = 2
        while names.contains(name) || name == "tmp" {
            name = "warden-diff-x\(n)"
            n += 1
        }
        return name
    }

    /// Fewer components, then a shorter text, then the text's order.
    static func isSimpler(_ a: PolicyPath, than b: PolicyPath) -> Bool {
        if a.components.count != b.components.count { return a.components.count < b.components.count }
        let (da, db) = (a.description, b.description)
        if da.count != db.count { return da.count < db.count }
        return da < db
    }

    static func rank(_ access: FsAccess) -> Int { FsAccess.allCases.firstIndex(of: access) ?? 0 }
}

/// Bounds a domain's witnesses: at most `limit`, the last noting how many were cut.
enum WitnessCap {
    static let limit = 200

    static func apply(_ witnesses: [DiffWitness], what: String) -> [DiffWitness] {
        guard witnesses.count > limit else { return witnesses }
        var kept = Array(witnesses.prefix(limit))
        let more = "\(witnesses.count - limit) more \(what) not shown (at most \(limit) per domain and identity)"
        kept[limit - 1].note = kept[limit - 1].note.map { "\($0); \(more)" } ?? more
        return kept
    }
}
