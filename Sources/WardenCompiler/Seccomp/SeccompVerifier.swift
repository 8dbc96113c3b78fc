import WardenKernel

/// Checks a generated program (Warden's prefix and libseccomp's program) against the
/// reference evaluator before anyone loads it, on inputs around every comparison's
/// boundaries (with upper-half garbage), and for every named syscall also its number under
/// a foreign architecture and as an x32 call. This is sampling, not a proof; it exists
/// because libseccomp 2.5.4 was seen to miscompile overlapping rules.
enum SeccompVerifier {
    /// Architectures whose calls a filter for another architecture must kill: the other
    /// supported one and i386 (`int 0x80` on x86_64).
    static let foreignArches: [UInt32] = Architecture.allCases.map(\.auditArch) + [0x4000_0003]

    /// - Parameter architectures: also check foreign-architecture and x32 numbers (false for a
    ///   program compiled as a container runtime does: its bad-architecture action is the
    ///   runtime's, not the policy's).
    static func verify(_ program: BPFProgram, policy: SeccompPolicy, compiled: [CompiledSeccompRule],
                       architectures: Bool = true) throws(SeccompCompileError) {
        let interp: BPFInterpreter
        do { interp = try BPFInterpreter(program) } catch {
            throw .libseccomp(call: "seccomp_export_bpf (invalid program: \(error))", syscall: nil, code: -22)
        }
        let eval = try SeccompEvaluator(policy: policy)
        let arch = policy.arch.auditArch
        func check(_ name: String, _ nr: Int32, _ args: [UInt64], arch foreign: UInt32? = nil) throws(SeccompCompileError) {
            let arch = foreign ?? arch
            let d = SeccompData(nr: nr, arch: arch, args: args)
            let got = interp.run(d).action, want = eval.evaluate(d)
            if got != want {
                let on = arch == policy.arch.auditArch ? "" : " on arch 0x\(String(arch, radix: 16))"
                throw .verificationFailed(syscall: name + (nr == SyscallTable.number(of: name, arch: policy.arch) ? "" : " (nr \(nr))") + on,
                                          args: args, filter: "\(got)", policy: "\(want)")
            }
        }
        var byName: [String: [SyscallRule]] = [:]
        for r in policy.rules { byName[r.syscall, default: []].append(r) }
        let firstName = byName.keys.min()
        for (name, rules) in byName.sorted(by: { $0.key < $1.key }) {
            guard let nr = SyscallTable.number(of: name, arch: policy.arch) else { continue }
            let conditions = rules.flatMap(\.conditions)
            try check(name, nr, [])
            try check(name, nr, Array(repeating: .max, count: 6))
            // The same number and the rules' own constants under a foreign architecture or
            // as an x32 call (a check that reads arguments must not decide those; the other
            // syscalls' numbers all take libseccomp's own architecture check first).
            if architectures && (!conditions.isEmpty || name == firstName) {
                let x32 = Int32(bitPattern: UInt32(bitPattern: nr) | SeccompValidation.x32SyscallBit)
                var foreignArgs: [[UInt64]] = [[]]
                for c in conditions {
                    var args = [UInt64](repeating: 0, count: 6)
                    args[c.arg] = c.value
                    foreignArgs.append(args)
                }
                for args in foreignArgs.prefix(17) {
                    for other in foreignArches where other != arch { try check(name, nr, args, arch: other) }
                    if policy.arch == .x86_64 { try check(name, x32, args) }
                }
            }
            if conditions.isEmpty { continue }
            let candidates = (0..<6).map { a in boundaryValues(conditions.filter { $0.arg == a }) }
            let used = Set(conditions.map(\.arg)).sorted()
            for a in used {
                for v in candidates[a] {
                    var args = [UInt64](repeating: 0, count: 6)
                    args[a] = v
                    try check(name, nr, args)
                }
            }
            var state = UInt64(UInt32(bitPattern: nr)) &* 0x9E37_79B9_7F4A_7C15 | 1
            for _ in 0..<256 {
                var args = [UInt64](repeating: 0, count: 6)
                for a in used {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    args[a] = candidates[a][Int((state >> 33) % UInt64(candidates[a].count))]
                }
                try check(name, nr, args)
            }
        }
    }

    /// Values at and around each condition's constant, each bit of its mask flipped, and the
    /// same with garbage in the upper half.
    static func boundaryValues(_ conditions: [ArgCondition]) -> [UInt64] {
        var out: Set<UInt64> = [0, 1, .max, 0xffff_ffff, 1 << 32]
        for c in conditions {
            let v = c.is32Bit ? c.value & 0xffff_ffff : c.value
            var base: [UInt64] = [v, v &- 1, v &+ 1]
            if c.op == .maskedEq {
                var m = c.mask
                while m != 0 {
                    let bit = m & (~m &+ 1)
                    base.append(v ^ bit)
                    m &= m - 1
                }
                base.append(v | ~c.mask)
            }
            for x in base {
                out.insert(x)
                out.insert(x & 0xffff_ffff)
                out.insert(x | 0xdead_beef_0000_0000)
                out.insert((x & 0xffff_ffff) | 0xffff_ffff_0000_0000)
            }
        }
        return out.sorted()
    }
}
