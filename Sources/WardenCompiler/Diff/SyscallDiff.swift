import WardenKernel
import WardenPolicy

extension PolicyDiffer {
    /// The syscall argument vectors one version allows and the other denies.
    ///
    /// Completeness: a syscall no rule of either side names (built-ins included) is
    /// default-denied on both, so only the names in either side's grants are compared; a
    /// name whose rules are the same on both sides (effect and conditions; errnos and
    /// locations aside) decides every vector alike. For every other name the difference of
    /// the argument regions is computed exactly with the compiler's condition algebra
    /// (`SyscallRegionDiff`), and each non-empty piece yields its simplest vector (fewest
    /// non-zero arguments, zero wherever free, so a 32-bit argument's upper half stays 0).
    /// Each vector is decided on both sides by `decideSyscall` (`SyscallCondition.holds`, an
    /// implementation independent of the algebra), and vectors are grouped by (syscall,
    /// allowing rules, the other side's deciding rules): one witness, the simplest, per group.
    /// Witness arguments stop after the highest argument any rule for the syscall tests.
    static func syscallChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        // The same rules in the same order (most identities of a one-line change): no work.
        if old.syscalls.map(SyscallDiff.RuleShape.init) == new.syscalls.map(SyscallDiff.RuleShape.init) { return DomainChanges() }
        let oldRules = Dictionary(grouping: old.syscalls, by: \.syscall)
        let newRules = Dictionary(grouping: new.syscalls, by: \.syscall)
        var changes = DomainChanges()
        for name in Set(oldRules.keys).union(newRules.keys).sorted() {
            let o = oldRules[name] ?? [], n = newRules[name] ?? []
            if SyscallDiff.decideAlike(o, n) { continue }
            let architectures = Architecture.allCases.filter { SyscallTable.number(of: name, arch: $0) != nil }
            guard !architectures.isEmpty else { continue }
            let width = (o + n).flatMap(\.conditions).map { $0.argument + 1 }.max() ?? 0
            let gained: [[UInt64]], lost: [[UInt64]]
            do {
                let limit = SeccompCompiler.defaultRuleLimit
                let oldSide = try SyscallRegionDiff.Side(o, syscall: name, limit: limit)
                let newSide = try SyscallRegionDiff.Side(n, syscall: name, limit: limit)
                gained = try SyscallRegionDiff.gainedVectors(gain: newSide, lose: oldSide)
                lost = try SyscallRegionDiff.gainedVectors(gain: oldSide, lose: newSide)
            } catch {
                guard case .tooComplex(let detail) = error else { fatalError("unreachable") }
                throw .tooComplex(identity: new.identity, domain: .syscall, detail: "syscall \(name): \(detail)")
            }
            let note = SyscallDiff.note(name, architectures: architectures)
            func witness(_ vector: [UInt64]) -> DiffWitness {
                DiffWitness(probe: .syscall(name, arguments: Array(vector.prefix(width))), old: old, new: new, note: note)
            }
            changes.widenings += SyscallDiff.onePerGroup(gained.map(witness)) { ($0.new.rules, $0.old.rules) }
            changes.narrowings += SyscallDiff.onePerGroup(lost.map(witness)) { ($0.old.rules, $0.new.rules) }
        }
        changes.widenings = SyscallDiff.bounded(changes.widenings)
        changes.narrowings = SyscallDiff.bounded(changes.narrowings)
        return changes
    }
}

/// Helpers of the syscall domain of `warden diff`.
enum SyscallDiff {
    /// The most witnesses reported per direction (widenings, narrowings) and identity.
    static let witnessLimit = 200

    /// What decides a vector: the effect and the conditions (not errno, not location).
    struct RuleShape: Hashable {
        var syscall: String
        var effect: Effect
        var conditions: [Condition]
        struct Condition: Hashable {
            var argument: Int
            var is32Bit: Bool
            var test: SyscallCondition.Test
        }
        init(_ grant: SyscallGrant) {
            syscall = grant.syscall
            effect = grant.effect
            conditions = grant.conditions.map { Condition(argument: $0.argument, is32Bit: $0.is32Bit, test: $0.test) }
        }
    }

    /// Whether the two rule sets are the same rules (then every vector decides alike).
    static func decideAlike(_ a: [SyscallGrant], _ b: [SyscallGrant]) -> Bool {
        Set(a.map(RuleShape.init)) == Set(b.map(RuleShape.init))
    }

    /// The first witness of each group (the input is sorted simplest first), in input order.
    static func onePerGroup(_ witnesses: [DiffWitness], key: (DiffWitness) -> ([Provenance], [Provenance])) -> [DiffWitness] {
        var seen: Set<[[Provenance]]> = []
        return witnesses.filter { w in
            let k = key(w)
            return seen.insert([k.0, k.1]).inserted
        }
    }

    /// At most `witnessLimit` witnesses; the last one notes how many groups were cut.
    static func bounded(_ witnesses: [DiffWitness]) -> [DiffWitness] {
        guard witnesses.count > witnessLimit else { return witnesses }
        var kept = Array(witnesses.prefix(witnessLimit))
        let cut = witnesses.count - witnessLimit
        let more = "\(cut) more syscall difference\(cut == 1 ? "" : "s") not shown (at most \(witnessLimit) per identity)"
        kept[kept.count - 1].note = [kept[kept.count - 1].note, more].compactMap { $0 }.joined(separator: "; ")
        return kept
    }

    /// The architectures the syscall exists on, and what an allowed io_uring call means.
    static func note(_ name: String, architectures: [Architecture]) -> String {
        let names = architectures.map(\.rawValue)
        var note: String
        if architectures.count == Architecture.allCases.count {
            note = "exists on \(names.joined(separator: " and "))"
        } else {
            let missing = Architecture.allCases.filter { !architectures.contains($0) }.map(\.rawValue)
            note = "exists on \(names.joined(separator: " and ")) only (not on \(missing.joined(separator: ", ")))"
        }
        if name.hasPrefix("io_uring") {
            note += "; io_uring performs file and socket operations that seccomp cannot see"
        }
        return note
    }
}
