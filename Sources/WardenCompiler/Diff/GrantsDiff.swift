import WardenKernel
import WardenPolicy

// The small domains: each action is one name (a capability, a variable, a secret pair, a
// cache path) or one amount of a limit. Probing every name either side mentions is exact:
// a name neither side mentions is decided the same way on both (denied).

extension PolicyDiffer {
    /// Capabilities the agent may now hold, or no longer: every name libcap knows, and any
    /// other name a rule grants.
    static func capabilityChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        var names = Capabilities.all
        let known = Set(names)
        names += Set((old.capabilities + new.capabilities).map(\.name)).subtracting(known).sorted()
        return grantChanges(names.map { DiffWitness(probe: .capability($0), old: old, new: new) }, what: "capability changes")
    }

    /// Limits raised or removed (widenings: `old + 1` is now allowed), and lowered or added
    /// (narrowings: `new + 1` is now refused). The smallest amount that differs is the
    /// witness; no amount differs when neither bound moved.
    static func limitChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        var candidates: [DiffWitness] = []
        for kind in LimitKind.allCases {
            let before = old.limits[kind]?.value
            let after = new.limits[kind]?.value
            guard before?.amount != after?.amount else { continue }
            let note = "limit \(kind.rawValue): \(before?.canonical ?? "none") before, \(after?.canonical ?? "none") now"
            for bound in [before, after] {
                guard let bound, case (let amount, false) = bound.amount.addingReportingOverflow(1) else { continue }
                candidates.append(DiffWitness(probe: .limit(kind, amount: amount), old: old, new: new, note: note))
            }
        }
        return grantChanges(candidates, what: "limit changes")
    }

    /// Variables passed from Warden's environment (`env pass`) and variables set by the
    /// policy (`env set`; a changed value is not a permission and is not reported).
    static func environmentChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        let passed = Set(old.envPass + new.envPass).sorted()
        let set = Set((old.envSet + new.envSet).map(\.name)).sorted()
        return grantChanges(passed.map { DiffWitness(probe: .envPass($0), old: old, new: new) }
                     + set.map { DiffWitness(probe: .envSet($0), old: old, new: new) },
                     what: "environment changes")
    }

    /// The secret domain: placeholders here; the network part adds the requests that carry
    /// a secret (`.httpInjection`) to its HTTP changes.
    static func secretChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        placeholderChanges(old: old, new: new)
    }

    /// `env placeholder VARIABLE = SECRET` pairs added (widenings) or removed.
    static func placeholderChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        struct Pair: Hashable, Comparable {
            var variable: String
            var secret: String
            static func < (a: Pair, b: Pair) -> Bool { (a.variable, a.secret) < (b.variable, b.secret) }
        }
        let pairs = Set((old.placeholders + new.placeholders).map { Pair(variable: $0.variable, secret: $0.secret) }).sorted()
        return grantChanges(pairs.map { DiffWitness(probe: .placeholder(variable: $0.variable, secret: $0.secret), old: old, new: new) },
                     what: "placeholder changes")
    }

    /// Paths newly backed by the identity's persistent store (kept across runs), or no
    /// longer.
    static func cacheChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        let paths = Set(old.caches + new.caches).sorted { $0.description < $1.description }
        return grantChanges(paths.map { DiffWitness(probe: .cache($0), old: old, new: new) }, what: "cache changes")
    }

    /// Keeps the witnesses that widen or narrow, each list bounded.
    private static func grantChanges(_ candidates: [DiffWitness], what: String) -> DomainChanges {
        DomainChanges(widenings: WitnessCap.apply(candidates.filter(\.widens), what: "widening " + what),
                      narrowings: WitnessCap.apply(candidates.filter(\.narrows), what: "narrowing " + what))
    }
}
