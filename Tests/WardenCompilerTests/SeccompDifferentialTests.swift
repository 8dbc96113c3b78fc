import Testing
@testable import WardenCompiler
import WardenKernel
import WardenTestSupport

/// The compiled BPF (run by the interpreter) must agree with the reference evaluator on every
/// syscall of both architectures and on argument values around every condition's boundaries.
@Suite struct SeccompDifferentialTests {
    static let syscallsWithSignatures = ["socket", "ioctl", "clone", "mmap", "mprotect", "prctl", "fcntl", "kill",
                                         "openat", "setsockopt", "madvise", "unshare", "ptrace", "personality"]
    static let pool: [UInt64] = [0, 1, 2, 3, 5, 8, 0x10, 0x5412, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]
    static let pool64: [UInt64] = [1 << 32, (1 << 32) | 5, 0x7fff_ffff_ffff_ffff, .max, 0xdead_beef_0000_0001]

    /// A random policy with overlapping allow/deny rules and conditions.
    static func randomPolicy(arch: Architecture, rng: inout SeededRandom) -> SeccompPolicy {
        var rules: [SyscallRule] = []
        let defaults: [DenyAction] = [.errno(1), .kill, .notify, .errno(13)]
        let defaultDeny = defaults[Int(rng.next() % 4)]
        for s in ["read", "write", "exit_group", "getpid", "open"] { rules.append(TS.allow(s)) }
        for s in syscallsWithSignatures.shuffled(using: &rng).prefix(8) {
            let sig = SyscallSignatures.arguments(of: s, arch: arch) ?? []
            let intArgs = sig.indices.filter { sig[$0].kind == .integer }.prefix(3)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                var conds: [ArgCondition] = []
                for _ in 0..<Int(rng.next() % 3) {
                    guard let arg = intArgs.randomElement(using: &rng) else { break }
                    conds.append(randomCondition(arg: arg, is32: sig[arg].is32Bit, rng: &rng))
                }
                let deny = rng.next() % 2 == 0
                let errnos: [Int32?] = [nil, 1, 13, 22, 95]
                rules.append(deny ? TS.deny(s, conds, errno: errnos[Int(rng.next() % 5)], source: "r\(rules.count)")
                                  : TS.allow(s, conds, source: "r\(rules.count)"))
            }
        }
        return SeccompPolicy(arch: arch, defaultDeny: defaultDeny, rules: rules)
    }

    static func randomCondition(arg: Int, is32: Bool, rng: inout SeededRandom) -> ArgCondition {
        // Weighted so most generated policies stay within the rule limit: ordering and `!=`
        // comparisons on 32-bit arguments expand into up to 32 masked-equal rules each.
        let ops: [ComparisonOp] = [.eq, .eq, .eq, .eq, .eq, .maskedEq, .maskedEq, .maskedEq, .maskedEq, .ne, .lt, .le, .gt, .ge]
        let op = ops[Int(rng.next() % UInt64(ops.count))]
        var values = pool
        if !is32 { values += pool64 }
        var value = values[Int(rng.next() % UInt64(values.count))]
        var mask: UInt64 = 0
        if op == .maskedEq {
            let masks: [UInt64] = is32 ? [0x1, 0x3, 0xf0, 0xff, 0x8000_0000, 0xffff_ffff, 0x10_0001]
                                       : [0x1, 0xff, 0x1_0000_0000, 0xffff_ffff_0000_00ff, .max]
            mask = masks[Int(rng.next() % UInt64(masks.count))]
            value &= mask
        }
        return ArgCondition(arg: arg, op: op, value: value, mask: mask, is32Bit: is32)
    }

    /// Argument values near every boundary of the conditions on `arg`, with upper-half garbage.
    static func candidates(for conds: [ArgCondition], arg: Int) -> [UInt64] {
        var out: Set<UInt64> = [0, 1, .max, 0xffff_ffff, 1 << 32]
        for c in conds where c.arg == arg {
            let v = c.is32Bit ? c.value & 0xffff_ffff : c.value
            for x in [v, v &- 1, v &+ 1] {
                out.insert(x)
                out.insert(x | 0xdead_beef_0000_0000)
                out.insert(x | 1 << 32)
                out.insert(x & 0xffff_ffff)
            }
            if c.op == .maskedEq {
                var m = c.mask
                while m != 0 {
                    let bit = m & (~m &+ 1)
                    out.insert(v ^ bit)
                    out.insert((v ^ bit) | 0xffff_ffff_0000_0000)
                    m &= m - 1
                }
                out.insert(v | ~c.mask)
            }
        }
        return out.sorted()
    }

    func check(_ policy: SeccompPolicy, rng: inout SeededRandom) throws -> Int {
        let filter = try SeccompCompiler.compile(policy)
        let interp = try BPFInterpreter(filter.program)
        let eval = try SeccompEvaluator(policy: policy)
        let arch = policy.arch.auditArch
        var checked = 0
        var reported = false
        func same(_ d: SeccompData, _ what: String) {
            let got = interp.run(d).action, want = eval.evaluate(d)
            if got != want {
                if !reported, let name = SyscallTable.name(of: d.nr, arch: policy.arch) {
                    reported = true
                    let rules = policy.rules.filter { $0.syscall == name }.map { "\($0.effect) \($0.conditions) errno \(String(describing: $0.errno))" }
                    let compiled = filter.rules.filter { $0.syscall == name }.map { "\($0.action) \($0.comparisons)" }
                    Issue.record("default \(policy.defaultDeny); rules for \(name): \(rules); compiled: \(compiled)")
                }
                Issue.record("\(policy.arch) \(what) nr=\(d.nr) args=\((0..<6).map { String(d.arg($0), radix: 16) }): BPF \(got), model \(want)")
            }
            checked += 1
        }
        // Every syscall in the table, with zero and with garbage arguments.
        for (name, nr) in SyscallTable.all(arch: policy.arch) {
            same(SeccompData(nr: nr, arch: arch), name)
            same(SeccompData(nr: nr, arch: arch, args: Array(repeating: 0xdead_beef_ffff_ffff, count: 6)), name)
        }
        // Numbers outside the table, x32 numbers, other architectures.
        for nr: Int32 in [-1, 1023, 4000, 0x4000_0000, 0x4000_0027, Int32(bitPattern: 0x8000_0000), 0x7fff_ffff] {
            same(SeccompData(nr: nr, arch: arch), "nr \(nr)")
        }
        for other: UInt32 in [0x4000_0003, 0xC000_003E, 0xC000_00B7, 0] where other != arch {
            same(SeccompData(nr: 0, arch: other), "arch \(other)")
        }
        // Boundary sampling for every syscall with rules.
        for (name, rules) in Dictionary(grouping: policy.rules, by: \.syscall) {
            guard let nr = SyscallTable.number(of: name, arch: policy.arch) else { continue }
            let conds = rules.flatMap(\.conditions)
            let perArg = (0..<6).map { Self.candidates(for: conds, arg: $0) }
            let usedArgs = Set(conds.map(\.arg)).sorted()
            for _ in 0..<300 {
                var args = [UInt64](repeating: 0, count: 6)
                for a in 0..<6 { args[a] = perArg[a][Int(rng.next() % UInt64(perArg[a].count))] }
                same(SeccompData(nr: nr, arch: arch, args: args), name)
            }
            // Exhaustive over the candidates of one used argument, others zero.
            for a in usedArgs {
                for v in perArg[a] {
                    var args = [UInt64](repeating: 0, count: 6)
                    args[a] = v
                    same(SeccompData(nr: nr, arch: arch, args: args), name)
                }
            }
        }
        return checked
    }

    @Test(arguments: Architecture.allCases)
    func generatedPoliciesAgree(arch: Architecture) throws {
        var rng = SeededRandom(seed: arch == .x86_64 ? 0x5EED_0001 : 0x5EED_0002)
        var total = 0, compiled = 0
        for _ in 0..<24 {
            let p = Self.randomPolicy(arch: arch, rng: &rng)
            do {
                total += try check(p, rng: &rng)
                compiled += 1
            } catch let e as SeccompCompileError {
                if case .tooComplex = e { continue }
                Issue.record("compile failed: \(e)")
            }
        }
        print("\(arch): \(compiled) of 24 generated policies compiled, \(total) inputs compared")
        #expect(compiled >= 10)
        #expect(total > 10_000)
    }

    @Test(arguments: Architecture.allCases)
    func defaultGroupPolicyAgrees(arch: Architecture) throws {
        var rng = SeededRandom(seed: 7)
        let tiocsti = NamedConstants.value(of: "TIOCSTI")!
        let clone = NamedConstants.value(of: "CLONE_NEWUSER")!
        let p = SeccompPolicy(arch: arch, defaultDeny: .errno(1), rules: TS.defaultAllows() + [
            TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 1),
            TS.deny("clone", [TS.c(0, .maskedEq, clone, mask: clone)], errno: 1),
            TS.allow("socket", [TS.c(0, .le, 10)]),
            TS.deny("socket", [TS.c(0, .eq, 1), TS.c(1, .maskedEq, 2, mask: 0xf)], errno: 97),
        ])
        #expect(try check(p, rng: &rng) > 1000)
    }
}
