#if canImport(Glibc)
import Glibc
#endif
import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy

/// Issue 16, "Exactness, tested": `warden diff` against a brute-force oracle over small
/// random policy pairs (OracleGenerator writes them, OracleUniverse enumerates every class
/// of actions they can tell apart, OracleCheck compares). A failure prints the seed and a
/// shrunk pair; reproduce one with
/// `ORACLE_FAMILY=net ORACLE_SEED=17 swift test --skip-build --filter OracleTests.reproduce`.
/// `ORACLE_PAIRS=N` changes the number of pairs per family (default 2,000).
@Suite struct OracleTests {
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static var pairsPerFamily: Int { environment("ORACLE_PAIRS").flatMap(Int.init) ?? 2000 }

    /// How many failing pairs are shown in full per family (the rest are counted).
    static let shown = 3

    @Test(arguments: OracleFamily.allCases)
    func diffIsExact(_ family: OracleFamily) {
        let summary = Self.runFamily(family, pairs: Self.pairsPerFamily, grouping: false)
        // The generator must give enough valid pairs, and pairs that do differ both ways
        // (else the oracle would pass vacuously).
        #expect(summary.checked + summary.failed >= Self.pairsPerFamily, "only \(summary.checked + summary.failed) valid \(family) pairs")
        let total = summary.checked + summary.failed
        #expect(summary.widening * 10 >= total, "only \(summary.widening) of \(total) \(family) pairs widen")
        #expect(summary.narrowing * 10 >= total, "only \(summary.narrowing) of \(total) \(family) pairs narrow")
    }

    /// One witness per distinct widening: every oracle difference's group (domain, the new
    /// side's deciding rules, the old side's) has a witness (for syscalls, whose witnesses
    /// go per rule region: each of the group's rules is named by a witness). Fewer pairs (it
    /// re-runs the brute force with the extra bookkeeping).
    @Test(arguments: OracleFamily.allCases)
    func everyGroupHasAWitness(_ family: OracleFamily) {
        _ = Self.runFamily(family, pairs: max(Self.pairsPerFamily / 10, 50), grouping: true, onlyGrouping: true)
    }

    /// Re-runs one pair (ORACLE_FAMILY, ORACLE_SEED) and prints it; does nothing otherwise.
    @Test func reproduce() {
        guard let f = Self.environment("ORACLE_FAMILY").flatMap(OracleFamily.init(rawValue:)),
              let seed = Self.environment("ORACLE_SEED").flatMap(UInt64.init) else { return }
        let pair = OracleGenerator.pair(f, seed: seed)
        print("--- old\n\(pair.oldText)--- new\n\(pair.newText)")
        switch OracleCheck.run(pair, grouping: true) {
        case .skipped: print("skipped (invalid policy)")
        case .checked(let probes, let w, let n): print("agrees: \(probes) actions, widens \(w), narrows \(n)")
        case .failed(let failures, _, _):
            for f in failures { Issue.record("\(f)") }
            let small = OracleCheck.shrink(pair, grouping: true)
            print("--- shrunk old\n\(small.oldText)--- shrunk new\n\(small.newText)")
        }
    }

    struct Summary { var checked = 0, failed = 0, skipped = 0, widening = 0, narrowing = 0, probes = 0 }

    static func runFamily(_ family: OracleFamily, pairs: Int, grouping: Bool, onlyGrouping: Bool = false) -> Summary {
        var s = Summary()
        var seed: UInt64 = 0
        let clock = ContinuousClock()
        let start = clock.now
        while s.checked + s.failed < pairs, seed < UInt64(pairs) * 5 {
            let pair = OracleGenerator.pair(family, seed: seed)
            seed += 1
            switch OracleCheck.run(pair, grouping: grouping) {
            case .skipped: s.skipped += 1
            case .checked(let probes, let w, let n):
                s.checked += 1
                s.probes += probes
                if w { s.widening += 1 }
                if n { s.narrowing += 1 }
            case .failed(let failures, let w, let n):
                if w { s.widening += 1 }
                if n { s.narrowing += 1 }
                let isRelevant: (OracleFailure) -> Bool = { onlyGrouping ? $0.kind == .missingGroup : $0.kind != .missingGroup }
                let relevant = failures.filter(isRelevant)
                guard !relevant.isEmpty else { s.checked += 1; continue }
                s.failed += 1
                guard s.failed <= shown else { continue }
                let small = OracleCheck.shrink(pair, grouping: grouping, relevant: isRelevant)
                Issue.record("""
                    \(family) pair seed \(pair.seed) disagrees with the oracle:
                    \(relevant.map { "  " + $0.description }.joined(separator: "\n"))
                    reproduce: ORACLE_FAMILY=\(family) ORACLE_SEED=\(pair.seed) swift test --skip-build --filter OracleTests.reproduce
                    shrunk old:
                    \(small.oldText)shrunk new:
                    \(small.newText)
                    """)
            }
        }
        let elapsed = clock.now - start
        print("oracle \(family)\(grouping ? " (grouping)" : ""): \(s.checked + s.failed) pairs (\(s.failed) disagree, \(s.skipped) invalid skipped), \(s.widening) widen, \(s.narrowing) narrow, \(s.probes) actions decided, \(elapsed)")
        if s.failed > 0 { Issue.record("\(s.failed) of \(s.checked + s.failed) \(family) pairs disagree with the oracle") }
        return s
    }
}

/// The oracle itself, on pairs whose answer is known (so it is not vacuous).
@Suite struct OracleSelfTests {
    func oracleDomains(_ old: [String], _ new: [String]) throws -> (widen: Set<DiffDomain>, narrow: Set<DiffDomain>) {
        let o = try EffectivePolicy(policy: checked(OraclePair.text(old)), identity: "a")
        let n = try EffectivePolicy(policy: checked(OraclePair.text(new)), identity: "a")
        var w: Set<DiffDomain> = [], nar: Set<DiffDomain> = []
        for p in OracleUniverse(old: o, new: n).probes {
            let a = p.decision(in: o).effect, b = p.decision(in: n).effect
            if a == .deny, b == .allow { w.insert(p.domain) }
            if a == .allow, b == .deny { nar.insert(p.domain) }
        }
        return (w, nar)
    }

    @Test func findsAWriteBelowAReadGrant() throws {
        let r = try oracleDomains(["allow fs read \"/a\""], ["allow fs read \"/a\"", "allow fs write \"/a/b/c\""])
        #expect(r.widen == [.filesystem])
        #expect(r.narrow.isEmpty)
    }

    @Test func findsOnePortAtARangeEdge() throws {
        let r = try oracleDomains(["allow net connect tcp \"10.0.0.0/29:1-4\""], ["allow net connect tcp \"10.0.0.0/29:1-5\""])
        #expect(r.widen == [.network])
        #expect(r.narrow.isEmpty)
    }

    @Test func findsASyscallArgumentRegion() throws {
        // arg0 & 6 == 2 holds for 2, 3, 10, 11: `< 3` leaves 3 out, so widening it to `< 4` lets 3 in.
        let r = try oracleDomains(["allow syscall kill(arg0 & 6 == 2, arg0 < 3)"], ["allow syscall kill(arg0 & 6 == 2, arg0 < 4)"])
        #expect(r.widen == [.syscall])
        #expect(try oracleDomains(["allow syscall kill(arg0 & 6 == 2, arg0 < 4)"], ["allow syscall kill(arg0 & 6 == 2, arg0 <= 3)"]).widen.isEmpty)
    }

    @Test func findsALenientDenyAndAFreshRef() throws {
        let http = try oracleDomains(["allow https * \"a.org/**\""], ["allow https * \"a.org/**\"", "deny https GET \"a.org/r\""])
        #expect(http.narrow == [.http])
        #expect(http.widen.isEmpty)
        let git = try oracleDomains(["allow git push \"a.org/o/r\" ref \"refs/heads/main\""], ["allow git push \"a.org/o/r\" ref \"refs/heads/*\""])
        #expect(git.widen == [.gitPush])
    }

    @Test func anErrnoChangeIsNoDifference() throws {
        let r = try oracleDomains(["deny syscall ptrace"], ["deny syscall ptrace errno ENOSYS"])
        #expect(r.widen.isEmpty && r.narrow.isEmpty)
    }

    @Test func theGeneratorIsDeterministicAndValidMostOfTheTime() throws {
        for family in OracleFamily.allCases {
            #expect(OracleGenerator.pair(family, seed: 7).newRules == OracleGenerator.pair(family, seed: 7).newRules)
            var valid = 0
            for seed in 0..<100 {
                let p = OracleGenerator.pair(family, seed: UInt64(seed))
                if (try? checked(p.oldText)) != nil, (try? checked(p.newText)) != nil { valid += 1 }
            }
            #expect(valid >= 60, "only \(valid) of 100 \(family) pairs are valid policies")
        }
    }
}
