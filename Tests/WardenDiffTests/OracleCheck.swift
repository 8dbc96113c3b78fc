import WardenCompiler
import WardenKernel
import WardenPolicy

/// One disagreement between `warden diff` and the brute-force oracle on one pair.
struct OracleFailure: Sendable, Hashable, CustomStringConvertible {
    enum Kind: String, Sendable {
        /// The diff threw where the oracle could decide (or did not throw where it must).
        case diffError = "diff-error"
        /// The identity's verdict differs from the oracle's.
        case verdict
        /// The diff reports a domain widening (narrowing) that no action of the universe shows.
        case extraDomain = "extra-domain"
        /// The universe has a widening (narrowing) in a domain the diff reports nothing for.
        case missingDomain = "missing-domain"
        /// A witness that is not one concrete action (a port range, a network).
        case nonConcreteWitness = "non-concrete-witness"
        /// An oracle difference whose (domain, new rules, old rules) group has no witness.
        case missingGroup = "missing-group"
    }

    var kind: Kind
    /// `widening`/`narrowing` and the domain (what shrinking keeps fixed).
    var subject: String
    var detail: String

    var description: String { "[\(kind.rawValue)] \(subject): \(detail)" }
}

/// What checking one pair gave.
enum OracleOutcome: Sendable {
    /// A side is not a valid policy, or its effective policy cannot be built (the diff
    /// then throws `.effective`, which is checked).
    case skipped
    case checked(probes: Int, widens: Bool, narrows: Bool)
    /// `widens`/`narrows`: what the oracle found (so failing pairs count for coverage too).
    case failed([OracleFailure], widens: Bool, narrows: Bool)
}

/// Compares `PolicyDiffer.compare` with the oracle's brute force on one pair.
enum OracleCheck {
    /// - Parameter grouping: also check that every oracle difference's group (domain, new
    ///   side's deciding rules, old side's deciding rules) has a witness.
    static func run(_ pair: OraclePair, grouping: Bool = false) -> OracleOutcome {
        guard let oldPolicy = try? checked(pair.oldText), let newPolicy = try? checked(pair.newText) else { return .skipped }
        let diff: PolicyDiff
        do {
            diff = try PolicyDiffer.compare(old: oldPolicy, new: newPolicy, identity: "a")
        } catch {
            if case .effective = error { return .skipped }
            // A side the compiler refuses (its conditions expand past the filter's rule
            // limit) cannot be launched, so failing closed on it is right.
            if !compiles(pair.oldText) || !compiles(pair.newText) { return .skipped }
            return .failed([OracleFailure(kind: .diffError, subject: "compare", detail: "\(error)")], widens: false, narrows: false)
        }
        guard let old = try? EffectivePolicy(policy: oldPolicy, identity: "a"),
              let new = try? EffectivePolicy(policy: newPolicy, identity: "a") else {
            return .failed([OracleFailure(kind: .diffError, subject: "compare", detail: "the diff compared a pair whose effective policy cannot be built")], widens: false, narrows: false)
        }
        guard let identity = diff.identities.first, diff.identities.count == 1 else {
            return .failed([OracleFailure(kind: .diffError, subject: "compare", detail: "expected one identity, got \(diff.identities.map(\.identity))")], widens: false, narrows: false)
        }

        // The brute force: every action of the universe, decided on both sides.
        let universe = OracleUniverse(old: old, new: new)
        var widenings: [DiffDomain: [(DiffProbe, Decision, Decision)]] = [:]
        var narrowings: [DiffDomain: [(DiffProbe, Decision, Decision)]] = [:]
        for probe in universe.probes {
            let o = probe.decision(in: old), n = probe.decision(in: new)
            guard o.effect != n.effect else { continue }
            if n.effect == .allow { widenings[probe.domain, default: []].append((probe, o, n)) } else { narrowings[probe.domain, default: []].append((probe, o, n)) }
        }

        var failures: [OracleFailure] = []
        let expected: DiffVerdict = widenings.isEmpty ? (narrowings.isEmpty ? .equivalent : .narrower) : (narrowings.isEmpty ? .wider : .both)
        if identity.verdict != expected {
            failures.append(OracleFailure(kind: .verdict, subject: "verdict", detail: "the diff says \(identity.verdict.rawValue), the oracle \(expected.rawValue)"))
        }
        for (label, found, reported) in [("widening", widenings, identity.widenings), ("narrowing", narrowings, identity.narrowings)] {
            let foundDomains = Set(found.keys), reportedDomains = Set(reported.map(\.domain))
            for d in foundDomains.subtracting(reportedDomains).sorted(by: { $0.rawValue < $1.rawValue }) {
                let (p, o, n) = found[d]!.min { simplicity($0.0) < simplicity($1.0) }!
                failures.append(OracleFailure(kind: .missingDomain, subject: "\(label) \(d.rawValue)",
                                              detail: "the diff reports none, but `\(p.action)` is \(o.effect.rawValue) before (\(rules(o))) and \(n.effect.rawValue) after (\(rules(n))); \(found[d]!.count) such actions in the universe"))
            }
            for d in reportedDomains.subtracting(foundDomains).sorted(by: { $0.rawValue < $1.rawValue }) {
                let w = reported.first { $0.domain == d }!
                failures.append(OracleFailure(kind: .extraDomain, subject: "\(label) \(d.rawValue)",
                                              detail: "the diff reports `\(w.action)` (old \(w.old.effect.rawValue), new \(w.new.effect.rawValue)) but no action of the universe differs in this domain"))
            }
            for w in reported where !isConcrete(w.probe) {
                failures.append(OracleFailure(kind: .nonConcreteWitness, subject: "\(label) \(w.domain.rawValue)",
                                              detail: "the witness `\(w.action)` is not one concrete action"))
            }
            if grouping {
                let cut = reported.contains { $0.note?.contains("more") ?? false }
                if !cut {
                    let reportedKeys = Set(reported.map { GroupKey($0.domain, $0.old, $0.new) })
                    // Syscall witnesses are one per rule region, not per set of overlapping
                    // rules: there, a group is covered when a witness names each of its rules.
                    var named: [DiffDomain: Set<String>] = [:]
                    for w in reported { named[w.domain, default: []].formUnion((w.old.rules + w.new.rules).map(\.location)) }
                    var seen: Set<GroupKey> = []
                    for (_, list) in found {
                        for (p, o, n) in list.sorted(by: { simplicity($0.0) < simplicity($1.0) }) {
                            let key = GroupKey(p.domain, o, n)
                            guard !reportedKeys.contains(key), seen.insert(key).inserted else { continue }
                            if p.domain == .syscall, key.old.union(key.new).isSubset(of: named[.syscall] ?? []) { continue }
                            failures.append(OracleFailure(kind: .missingGroup, subject: "\(label) \(p.domain.rawValue)",
                                                          detail: "no witness for `\(p.action)` (decided before by \(rules(o)), after by \(rules(n)))"))
                        }
                    }
                }
            }
        }
        if !failures.isEmpty { return .failed(failures, widens: !widenings.isEmpty, narrows: !narrowings.isEmpty) }
        return .checked(probes: universe.probes.count, widens: !widenings.isEmpty, narrows: !narrowings.isEmpty)
    }

    /// Whether the policy's identity `a` compiles to a seccomp filter on every architecture.
    static func compiles(_ text: String) -> Bool {
        guard let p = try? EffectivePolicy(policy: checked(text), identity: "a") else { return false }
        return Architecture.allCases.allSatisfy { arch in
            (try? SeccompCompiler.compile(p.seccompPolicy(arch: arch, notify: false))) != nil
        }
    }

    /// The group a difference belongs to, with the coarsest key the contract allows
    /// (without the sub-kind, so any correct finer grouping covers it).
    struct GroupKey: Hashable {
        var domain: DiffDomain
        var old: Set<String>
        var new: Set<String>
        init(_ domain: DiffDomain, _ old: Decision, _ new: Decision) {
            self.domain = domain
            self.old = Set(old.rules.map(\.location))
            self.new = Set(new.rules.map(\.location))
        }
    }

    static func rules(_ d: Decision) -> String {
        d.rules.isEmpty ? "no rule" : d.rules.map { "`\($0.rule)` at \($0.location)" }.joined(separator: ", ")
    }

    /// Shorter actions first (to show the simplest example).
    static func simplicity(_ p: DiffProbe) -> Int { p.action.count }

    /// Whether a witness names one action: one port and one address or name.
    static func isConcrete(_ p: DiffProbe) -> Bool {
        switch p {
        case .net(_, _, let e): return e.isConcrete
        case .syscall(_, let args): return args.count <= 6
        default: return true
        }
    }

    /// A smaller pair that fails with the same first failure (rules dropped one at a time,
    /// from one side or, when both have it, from both).
    static func shrink(_ pair: OraclePair, grouping: Bool = false, relevant: (OracleFailure) -> Bool = { _ in true }) -> OraclePair {
        guard case .failed(let first, _, _) = run(pair, grouping: grouping), let target = first.first(where: relevant) else { return pair }
        func stillFails(_ p: OraclePair) -> Bool {
            guard case .failed(let fs, _, _) = run(p, grouping: grouping) else { return false }
            return fs.contains { $0.kind == target.kind && $0.subject == target.subject }
        }
        var best = pair
        var changed = true
        while changed {
            changed = false
            var candidates: [OraclePair] = []
            for rule in Set(best.oldRules).intersection(best.newRules).sorted() {
                var c = best
                c.oldRules.removeAll { $0 == rule }
                c.newRules.removeAll { $0 == rule }
                candidates.append(c)
            }
            for i in best.oldRules.indices { var c = best; c.oldRules.remove(at: i); candidates.append(c) }
            for i in best.newRules.indices { var c = best; c.newRules.remove(at: i); candidates.append(c) }
            if let smaller = candidates.first(where: stillFails) {
                best = smaller
                changed = true
            }
        }
        return best
    }
}
