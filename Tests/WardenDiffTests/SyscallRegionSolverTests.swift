import Testing
@testable import WardenCompiler
import WardenKernel
import WardenPolicy
import WardenTestSupport

/// Random rules on two arguments with values in 0...15, and brute force over 0...31 per
/// argument: with every constant and mask below 16, a value v ≥ 16 decides like
/// 16 + (v & 15), so 0...31 holds a simplest vector of every class.
private struct RandomRules {
    var rng: SeededRandom
    let is32Bit: [Bool]

    init(seed: UInt64) {
        rng = SeededRandom(seed: seed)
        is32Bit = [Bool.random(using: &rng), Bool.random(using: &rng)]
    }

    mutating func small() -> UInt64 { UInt64.random(in: 0...15, using: &rng) }

    mutating func condition() -> SyscallCondition {
        let arg = Int.random(in: 0...1, using: &rng)
        let test: SyscallCondition.Test
        switch Int.random(in: 0...2, using: &rng) {
        case 0: test = .compare(CompareOperator.allCases.randomElement(using: &rng)!, small())
        case 1:
            let mask = UInt64.random(in: 1...15, using: &rng)
            test = .masked(mask: mask, value: small() & mask)
        default: test = .oneOf((0..<Int.random(in: 1...3, using: &rng)).map { _ in small() })
        }
        return .make(argument: arg, argumentName: "arg\(arg)", is32Bit: is32Bit[arg], test: test, span: BuiltinSafeguards.span)
    }

    mutating func grants(side: String) -> [SyscallGrant] {
        var out: [SyscallGrant] = []
        for (effect, count) in [(Effect.allow, Int.random(in: 0...3, using: &rng)), (.deny, Int.random(in: 0...2, using: &rng))] {
            for i in 0..<count {
                let conditions = (0..<Int.random(in: 0...2, using: &rng)).map { _ in condition() }
                out.append(SyscallGrant(effect: effect, syscall: "ioctl", conditions: conditions, errno: 1,
                                        provenance: .builtin("\(side) \(effect) \(i)", because: "test")))
            }
        }
        return out
    }
}

/// The effect `decideSyscall` gives, from `holds` (not the algebra).
private func allowed(_ grants: [SyscallGrant], _ args: [UInt64]) -> Bool {
    grants.contains { $0.effect == .allow && EffectivePolicy.holds($0.conditions, args) }
        && !grants.contains { $0.effect == .deny && EffectivePolicy.holds($0.conditions, args) }
}

@Suite struct SyscallRegionSolverTests {
    @Test func theRegionDifferenceAgreesWithBruteForce() throws {
        var nonEmpty = 0, compared = 0, tooComplex = 0
        var seed: UInt64 = 0
        while compared < 2_500 {
            seed += 1
            var random = RandomRules(seed: seed)
            let old = random.grants(side: "old"), new = random.grants(side: "new")
            let gained: [[UInt64]]
            do {
                gained = try SyscallRegionDiff.gainedVectors(gain: .init(new, syscall: "ioctl", limit: 256),
                                                             lose: .init(old, syscall: "ioctl", limit: 256))
            } catch {
                // Two 64-bit `!=`/orderings in one rule expand past the compiler's own limit:
                // the compiler refuses such a rule too, and the diff fails closed.
                tooComplex += 1
                continue
            }
            compared += 1
            var simplest: [UInt64]?
            for a in UInt64(0)...31 {
                for b in UInt64(0)...31 {
                    let v: [UInt64] = [a, b, 0, 0, 0, 0]
                    if allowed(new, v) && !allowed(old, v), simplest.map({ simplerArguments(v, $0) }) ?? true { simplest = v }
                }
            }
            #expect(gained.isEmpty == (simplest == nil), "seed \(seed): search \(gained), brute force \(String(describing: simplest))")
            for v in gained {
                #expect(allowed(new, v) && !allowed(old, v), "seed \(seed): \(v) is no widening")
                #expect(v.dropFirst(2).allSatisfy { $0 == 0 }, "seed \(seed): \(v) sets an untested argument")
            }
            if let s = simplest {
                nonEmpty += 1
                #expect(gained.first == s, "seed \(seed): simplest found \(String(describing: gained.first)), brute force \(s)")
            }
        }
        #expect(nonEmpty > 500)
        #expect(tooComplex * 10 < compared, "\(tooComplex) of \(compared + tooComplex) random pairs were too complex")
    }

    @Test func upperHalvesOfA32BitArgumentNeverSeparateTheSides() throws {
        // `x == 5` on a 32-bit argument holds for 0x1_0000_0005 too; a 64-bit one does not.
        func grant(_ effect: Effect, _ test: SyscallCondition.Test, is32Bit: Bool) -> SyscallGrant {
            SyscallGrant(effect: effect, syscall: "ioctl",
                         conditions: [.make(argument: 0, argumentName: "x", is32Bit: is32Bit, test: test, span: BuiltinSafeguards.span)],
                         errno: 1, provenance: .builtin("r", because: "test"))
        }
        for is32Bit in [true, false] {
            let old = [grant(.allow, .compare(.equal, 5), is32Bit: is32Bit)]
            let new = [grant(.allow, .masked(mask: 0xffff_ffff, value: 5), is32Bit: is32Bit)]
            let gained = try SyscallRegionDiff.gainedVectors(gain: .init(new, syscall: "ioctl", limit: 256),
                                                             lose: .init(old, syscall: "ioctl", limit: 256))
            #expect(gained == (is32Bit ? [] : [[0x1_0000_0005, 0, 0, 0, 0, 0]]))
        }
    }

    @Test func cubeSubtractionIsExact() {
        // Every 4-bit value of a cube minus a hole lies in exactly one piece or in the hole.
        var rng = SeededRandom(seed: 7)
        for _ in 0..<300 {
            var c = ArgumentCube.everything, h = ArgumentCube.everything
            let cm = UInt64.random(in: 0...15, using: &rng), hm = UInt64.random(in: 0...15, using: &rng)
            _ = c.fix(0, mask: cm, value: UInt64.random(in: 0...15, using: &rng) & cm)
            _ = h.fix(0, mask: hm, value: UInt64.random(in: 0...15, using: &rng) & hm)
            guard h.meets(c), !c.isWithin(h) else { continue }
            let pieces = c.subtracting(h)
            for x in UInt64(0)...15 {
                let v: [UInt64] = [x, 0, 0, 0, 0, 0]
                let inPieces = pieces.filter { $0.contains(v) }.count
                #expect(inPieces == (c.contains(v) && !h.contains(v) ? 1 : 0))
            }
        }
    }
}
