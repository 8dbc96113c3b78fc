import WardenPolicy

/// How "simple" a witness is: compared component by component (numbers before text at the
/// same position); the smallest member of a group is the one reported.
struct WitnessOrder: Comparable, Hashable {
    enum Component: Comparable, Hashable {
        case number(UInt64)
        case text(String)
    }
    var components: [Component]

    init(_ components: [Component]) { self.components = components }

    static func < (a: WitnessOrder, b: WitnessOrder) -> Bool {
        a.components.lexicographicallyPrecedes(b.components)
    }

    /// Shorter text first, then alphabetically ignoring case, then fewer capitals (`/admin`
    /// before `/Admin` before `/ADMIN`).
    static func text(_ s: String) -> [Component] {
        [.number(UInt64(s.utf8.count)), .text(s.lowercased()),
         .number(UInt64(s.utf8.filter { $0 >= 0x41 && $0 <= 0x5A }.count)), .text(s)]
    }
}

/// Collects the representatives whose decisions differ between the two versions and keeps
/// one per distinct difference: representatives are grouped by (widening or narrowing,
/// sub-kind such as `connect tcp`, the new side's deciding rules, the old side's deciding
/// rules), and the simplest member of each group (smallest `WitnessOrder`) becomes the
/// witness. Witnesses are built with `DiffWitness(probe:old:new:note:)` (decided again
/// there, and re-checked by `PolicyDiffer`).
struct ProbeWitnessGroups {
    /// At most this many witnesses per domain and direction (widenings, narrowings).
    static let limit = 200

    private struct Key: Hashable {
        var widens: Bool
        var subkind: String
        var newRules: [String]
        var oldRules: [String]
    }

    private struct Member {
        var probe: DiffProbe
        var order: WitnessOrder
    }

    private var best: [Key: Member] = [:]

    /// Decides `probe` on both sides and records it when the effects differ.
    mutating func consider(_ probe: DiffProbe, subkind: String, order: WitnessOrder, old: EffectivePolicy, new: EffectivePolicy) {
        record(probe, subkind: subkind, order: order, old: probe.decision(in: old), new: probe.decision(in: new))
    }

    /// Records `probe` when `old` and `new` (its decisions, made by the caller with the
    /// same decision functions `DiffProbe.decision(in:)` uses) differ in effect.
    mutating func record(_ probe: DiffProbe, subkind: String, order: WitnessOrder, old: Decision, new: Decision) {
        guard old.effect != new.effect else { return }
        let key = Key(widens: new.effect == .allow, subkind: subkind,
                      newRules: Self.ruleKey(new), oldRules: Self.ruleKey(old))
        if let current = best[key], current.order <= order { return }
        best[key] = Member(probe: probe, order: order)
    }

    static func ruleKey(_ d: Decision) -> [String] {
        d.rules.map { "\($0.location) \($0.rule)" }.sorted()
    }

    var isEmpty: Bool { best.isEmpty }

    /// One witness per group, sorted by sub-kind and simplicity; at most `limit` per
    /// domain and direction, the last one noting how many groups were left out.
    func changes(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        var out = DomainChanges()
        for widens in [true, false] {
            let members = best.filter { $0.key.widens == widens }.sorted { a, b in
                if a.key.subkind != b.key.subkind { return a.key.subkind < b.key.subkind }
                if a.value.order != b.value.order { return a.value.order < b.value.order }
                if a.key.newRules != b.key.newRules { return a.key.newRules.lexicographicallyPrecedes(b.key.newRules) }
                return a.key.oldRules.lexicographicallyPrecedes(b.key.oldRules)
            }
            var byDomain: [DiffDomain: [Member]] = [:]
            var domains: [DiffDomain] = []
            for m in members.map(\.value) {
                if byDomain[m.probe.domain] == nil { domains.append(m.probe.domain) }
                byDomain[m.probe.domain, default: []].append(m)
            }
            for domain in domains {
                let all = byDomain[domain] ?? []
                let kept = all.prefix(Self.limit)
                let cut = all.count - kept.count
                for (i, m) in kept.enumerated() {
                    let note = cut > 0 && i == kept.count - 1
                        ? "\(cut) more \(widens ? "widening" : "narrowing")\(cut == 1 ? "" : "s") in \(domain.rawValue) left out (at most \(Self.limit) are listed)"
                        : nil
                    let witness = DiffWitness(probe: m.probe, old: old, new: new, note: note)
                    if widens { out.widenings.append(witness) } else { out.narrowings.append(witness) }
                }
            }
        }
        return out
    }
}
