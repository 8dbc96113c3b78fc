import WardenPolicy

/// The exact difference of one syscall's argument regions between two rule sets.
///
/// A side allows an argument vector when some allow rule holds and no deny rule holds
/// (`EffectivePolicy.decideSyscall`; errnos do not matter). Each rule is lowered as the
/// compiler lowers it (`EffectivePolicy.lower`: `in [...]` becomes alternatives) and turned
/// into the compiler's DNF (`ConditionAlgebra.positive`, conjoined and reduced by
/// `ConditionAlgebra.and`/`reduce` under the compiler's rule limit), so each side is a union
/// of allow cubes and a union of deny cubes (`ArgumentCube`). The vectors allowed by `gain`
/// and denied by `lose`,
///
///     allow(gain) ∧ ¬deny(gain) ∧ ¬(allow(lose) ∧ ¬deny(lose))
///       = ⋃ over allow cubes a of gain:  a \ (deny(gain) ∪ allow(lose) ∪ deny(lose))     [lose: no rule]
///                                      ∪ ⋃ over deny cubes d of lose: (a ∩ d) \ deny(gain)   [lose: denied by d]
///
/// is covered exactly by these pieces, so the simplest vector of each non-empty piece
/// (`ArgumentRegionSearch`) includes a vector of every non-empty part of the difference,
/// one per (allow cube, deciding side of `lose`). Cubes are kept per rule, so every allow
/// rule of `gain` that lets something new through is named by a witness.
struct SyscallRegionDiff {
    /// One side's rules for one syscall as unions of cubes.
    struct Side {
        var allows: [ArgumentCube] = []
        var denies: [ArgumentCube] = []

        init(_ grants: [SyscallGrant], syscall: String, limit: Int) throws(SyscallRegionDiff.Failure) {
            // Each rule's terms are reduced on their own, not across rules: a rule another one
            // subsumes keeps its cubes, so it gets a witness that names it.
            for grant in grants {
                var terms: DNF = []
                for conjunction in EffectivePolicy.lower(grant.conditions) {
                    do {
                        terms += try ConditionAlgebra.and(conjunction.map(ConditionAlgebra.positive), limit: limit, syscall: syscall)
                    } catch {
                        throw .tooComplex("the conditions of `\(grant.provenance.rule)` expand past \(limit) comparisons (\(error))")
                    }
                }
                let cubes = try Self.cubes(ConditionAlgebra.reduce(terms), limit: limit)
                if grant.effect == .allow { allows += cubes } else { denies += cubes }
            }
            let bound = limit * SyscallRegionDiff.cubesPerRuleLimit
            guard allows.count <= bound, denies.count <= bound else {
                throw .tooComplex("\(max(allows.count, denies.count)) argument regions on one side (the bound is \(bound))")
            }
        }

        static func cubes(_ terms: DNF, limit: Int) throws(SyscallRegionDiff.Failure) -> [ArgumentCube] {
            guard terms.count <= limit * SyscallRegionDiff.cubesPerRuleLimit else {
                throw .tooComplex("\(terms.count) argument regions on one side (the bound is \(limit * SyscallRegionDiff.cubesPerRuleLimit))")
            }
            var out: [ArgumentCube] = []
            for term in terms {
                do {
                    if let cube = try ArgumentCube(term: term) { out.append(cube) }
                } catch {
                    throw .tooComplex("an argument comparison the region search cannot represent (\(error.comparison))")
                }
            }
            return out
        }
    }

    enum Failure: Error, Equatable {
        case tooComplex(String)
    }

    /// How many times the compiler's per-syscall rule limit one side's cubes may number.
    static let cubesPerRuleLimit = 16
    /// The search steps (pieces and sub-cubes) one syscall's comparison may take.
    static let stepBudget = 400_000

    /// The simplest vector of every non-empty piece of `allowed(gain) ∧ ¬allowed(lose)`,
    /// without duplicates, simplest first.
    static func gainedVectors(gain: Side, lose: Side) throws(Failure) -> [[UInt64]] {
        var search = ArgumentRegionSearch(budget: stepBudget)
        var found: Set<[UInt64]> = []
        let holes = gain.denies + lose.allows + lose.denies
        do {
            for a in gain.allows {
                search.budget -= 1
                if let v = try search.simplestPoint(in: a, outside: holes) { found.insert(v) }
                for d in lose.denies {
                    search.budget -= 1
                    if search.budget < 0 { throw ArgumentRegionSearch.Exhausted() }
                    guard let piece = a.intersection(d) else { continue }
                    if let v = try search.simplestPoint(in: piece, outside: gain.denies) { found.insert(v) }
                }
            }
        } catch {
            throw .tooComplex("the argument regions need more than \(stepBudget) search steps")
        }
        return found.sorted(by: simplerArguments)
    }
}
