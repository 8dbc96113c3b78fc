import Foundation
import Testing
@testable import WardenCompiler
import WardenKernel
import WardenPolicy
import WardenTestSupport

/// The `ioctl` prefix (`SeccompPrefilter`): the built-in TIOCSTI/TIOCLINUX guard checked by
/// a few hand-written instructions before libseccomp's program. The whole program must
/// answer exactly as the reference evaluator on every input, for the stock default policy
/// and for policies that say something about `ioctl` themselves.
@Suite struct SeccompPrefilterTests {
    static let tiocsti = NamedConstants.value(of: "TIOCSTI")!     // 0x5412
    static let tioclinux = NamedConstants.value(of: "TIOCLINUX")! // 0x541C
    static let fionread = NamedConstants.value(of: "FIONREAD")!   // 0x541B
    static let tcgets = NamedConstants.value(of: "TCGETS")!       // 0x5401
    /// The two constants, their neighbours and a few others.
    static let requests: [UInt64] = [tiocsti, tioclinux, 0x5411, 0x5413, 0x541B, 0x541D, tcgets, 0, 1, 0xffff_ffff]
    static let upperHalves: [UInt64] = [0, 1 << 32, 0xdead_beef_0000_0000, 0xffff_ffff_0000_0000]
    static let i386: UInt32 = 0x4000_0003

    /// policies/default.warden's identity, loaded from the repository.
    static func stockDefault() throws -> EffectivePolicy {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let analysis = try PolicyLoader(provider: FileSystemSourceProvider()).analyze(root.appendingPathComponent("policies/default.warden").path)
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        return try EffectivePolicy(policy: analysis.policy, identity: "default")
    }

    static func nr(_ name: String, _ arch: Architecture) -> Int32 { SyscallTable.number(of: name, arch: arch)! }

    /// Runs the program and the evaluator on `data`; records a mismatch. Returns the action.
    @discardableResult
    static func agree(_ interp: BPFInterpreter, _ eval: SeccompEvaluator, _ data: SeccompData, _ what: @autoclosure () -> String = "") -> SeccompAction {
        let got = interp.run(data).action, want = eval.evaluate(data)
        #expect(got == want, "nr \(data.nr) arch 0x\(String(data.arch, radix: 16)) args \(data.args): filter \(got), policy \(want) \(what())")
        return got
    }

    /// Inputs around the guard: every request of `requests` with every upper half, as ioctl
    /// of `arch`, as an x32 call, and under each foreign architecture.
    static func guardInputs(arch: Architecture) -> [SeccompData] {
        var out: [SeccompData] = []
        let ioctl = nr("ioctl", arch)
        let foreign = Architecture.allCases.filter { $0 != arch }.map(\.auditArch) + [i386]
        for request in requests {
            for upper in upperHalves {
                let args: [UInt64] = [3, request | upper, 0x7ffd_0000_1000, 0, 0, 0]
                out.append(SeccompData(nr: ioctl, arch: arch.auditArch, args: args))
                if arch == .x86_64 { out.append(SeccompData(nr: ioctl | 0x4000_0000, arch: arch.auditArch, args: args)) }
                for a in foreign { out.append(SeccompData(nr: ioctl, arch: a, args: args)) }
            }
        }
        return out
    }

    @Test(arguments: [true, false])
    func theStockGuardIsThePrefix(notify: Bool) throws {
        let policy = try Self.stockDefault().seccompPolicy(arch: .x86_64, notify: notify)
        let plan = try #require(SeccompPrefilter.plan(policy))
        #expect(plan.arg == 1)
        #expect(plan.cases.map(\.value) == [0x5412, 0x541C])
        // The action the built-in rule got before: the default deny (notify: the supervisor
        // records and answers EPERM) or EPERM directly.
        let denied: SeccompAction = notify ? .userNotif : .errno(1)
        #expect(plan.cases.allSatisfy { $0.action == denied })
        #expect(plan.rest == .allow, "@default allows ioctl")
        #expect(!plan.remaining.contains { $0.syscall == "ioctl" && $0.effect == .deny }, "the guard left libseccomp's rules")

        let filter = try SeccompCompiler.compile(policy)
        #expect(Array(filter.program.instructions.prefix(plan.instructions.count)) == plan.instructions)
        // libseccomp's part no longer expands the guard: its ioctl rule is the plain allow.
        let libseccompIoctl = filter.rules.filter { $0.syscall == "ioctl" && !$0.comparisons.contains { $0.hasSuffix("(prefix)") } }
        #expect(libseccompIoctl.allSatisfy { $0.comparisons.isEmpty && $0.action == .allow }, "\(libseccompIoctl)")

        let interp = try BPFInterpreter(filter.program), eval = try SeccompEvaluator(policy: policy)
        let ioctl = Self.nr("ioctl", .x86_64)
        for request in [Self.tiocsti, Self.tioclinux] {
            for upper in Self.upperHalves {
                let d = SeccompData(nr: ioctl, arch: Architecture.x86_64.auditArch, args: [0, request | upper])
                #expect(Self.agree(interp, eval, d) == denied)
            }
        }
        for request in [Self.fionread, Self.tcgets, 0x5411, 0x5413, 0x541D] {
            let d = SeccompData(nr: ioctl, arch: Architecture.x86_64.auditArch, args: [0, request | 0xdead_beef_0000_0000])
            #expect(Self.agree(interp, eval, d) == .allow)
        }
        // The prefix never decides another architecture's or an x32 call: killed.
        #expect(Self.agree(interp, eval, SeccompData(nr: ioctl, arch: Self.i386, args: [0, Self.tiocsti])) == .killProcess)
        #expect(Self.agree(interp, eval, SeccompData(nr: ioctl | 0x4000_0000, arch: Architecture.x86_64.auditArch, args: [0, Self.tiocsti])) == .killProcess)
    }

    @Test(arguments: Architecture.allCases)
    func theCombinedProgramAgreesWithTheEvaluatorAroundTheGuard(arch: Architecture) throws {
        for notify in [true, false] {
            let policy = try Self.stockDefault().seccompPolicy(arch: arch, notify: notify)
            let filter = try SeccompCompiler.compile(policy)
            #expect(SeccompPrefilter.plan(policy) != nil)
            let interp = try BPFInterpreter(filter.program), eval = try SeccompEvaluator(policy: policy)
            let inputs = Self.guardInputs(arch: arch)
            for d in inputs { Self.agree(interp, eval, d, "notify \(notify)") }
            #expect(inputs.count == Self.requests.count * Self.upperHalves.count * (arch == .x86_64 ? 4 : 3))
        }
    }

    /// Property: random inputs (mostly ioctl, the rest any number; random architecture; random
    /// argument words, the request often a guarded constant or a neighbour with random upper
    /// bits) get the evaluator's answer. Seeded, so a failure reproduces.
    @Test(arguments: [UInt64(1), 2, 3])
    func randomInputsAgree(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        for arch in Architecture.allCases {
            for notify in [true, false] {
                let policy = try Self.stockDefault().seccompPolicy(arch: arch, notify: notify)
                let interp = try BPFInterpreter(try SeccompCompiler.compile(policy).program)
                let eval = try SeccompEvaluator(policy: policy)
                let arches = [arch.auditArch, arch.auditArch, arch.auditArch] + Architecture.allCases.filter { $0 != arch }.map(\.auditArch) + [Self.i386]
                var denied = 0
                for _ in 0..<4000 {
                    var nr = rng.next() % 4 == 0 ? Int32(rng.next() % 470) : Self.nr("ioctl", arch)
                    if arch == .x86_64, rng.next() % 16 == 0 { nr |= 0x4000_0000 }
                    var args = (0..<6).map { _ in rng.next() }
                    if rng.next() % 2 == 0 {
                        let low = Self.requests[Int(rng.next() % UInt64(Self.requests.count))]
                        args[1] = (rng.next() & 0xffff_ffff_0000_0000) | low
                    }
                    let d = SeccompData(nr: nr, arch: arches[Int(rng.next() % UInt64(arches.count))], args: args)
                    if Self.agree(interp, eval, d, "seed \(seed)") != .allow { denied += 1 }
                }
                #expect(denied > 100, "the inputs reach the denials too")
            }
        }
    }

    /// The allowed ioctl path: at most 8 instructions (ld nr, jeq, ld arch, jeq, ld request,
    /// two compares, ret ALLOW), where libseccomp's per-bit expansion of the same rules ran
    /// about 100 (counted here from the same policy compiled without the prefix).
    @Test(arguments: Architecture.allCases)
    func theAllowedIoctlPathIsShort(arch: Architecture) throws {
        for notify in [true, false] {
            let policy = try Self.stockDefault().seccompPolicy(arch: arch, notify: notify)
            let now = try BPFInterpreter(try SeccompCompiler.compile(policy).program)
            let before = try BPFInterpreter(try SeccompCompiler.compile(policy, prefilter: false).program)
            for request in [Self.fionread, Self.tcgets] {
                let d = SeccompData(nr: Self.nr("ioctl", arch), arch: arch.auditArch, args: [3, request])
                let steps = now.run(d), old = before.run(d)
                print("\(arch) notify \(notify) ioctl(0x\(String(request, radix: 16))): \(steps.steps) instructions, \(old.steps) without the prefix")
                #expect(steps.action == .allow && old.action == .allow)
                #expect(steps.steps <= 8)
                #expect(steps.steps < old.steps)
            }
            // Other syscalls pay two instructions (ld nr, jeq) before libseccomp's program.
            let getppid = SeccompData(nr: Self.nr("getppid", arch), arch: arch.auditArch)
            #expect(now.run(getppid).steps == before.run(getppid).steps + 2)
        }
    }

    /// Policies that say something about ioctl themselves keep their meaning: each is added to
    /// an identity with `@default` (and one without it), compiled in both modes, and compared
    /// with the evaluator around the guard and on random inputs.
    static let ioctlRules: [String] = [
        "deny syscall ioctl(request == TIOCSETD)",
        "deny syscall ioctl(request == TIOCSETD) errno EACCES",
        "deny syscall ioctl(request in [TIOCSETD, FIONREAD]) errno EACCES",
        "deny syscall ioctl(request == TIOCSTI) errno EACCES",
        "deny syscall ioctl errno EACCES",
        "deny syscall ioctl",
        "deny syscall ioctl(request > 0x5000) errno EACCES",
        "deny syscall ioctl(fd == 3) errno EACCES",
        "deny syscall ioctl(fd == 3, request == FIONREAD)",
        "allow syscall ioctl(request == FIONREAD)",
    ]

    @Test(arguments: ioctlRules)
    func policiesAboutIoctlKeepTheirMeaning(rule: String) throws {
        var rng = SeededRandom(seed: 99)
        for base in ["allow syscall @default\n  ", "allow syscall read, write, exit_group\n  "] {
            let e = try effective("warden 1\nidentity agent {\n  \(base)\(rule)\n}\n")
            for arch in Architecture.allCases {
                for notify in [true, false] {
                    let policy = e.seccompPolicy(arch: arch, notify: notify)
                    let interp = try BPFInterpreter(try SeccompCompiler.compile(policy).program)
                    let eval = try SeccompEvaluator(policy: policy)
                    for d in Self.guardInputs(arch: arch) { Self.agree(interp, eval, d, rule) }
                    for _ in 0..<500 {
                        var args = (0..<6).map { _ in rng.next() }
                        args[0] = rng.next() % 2 == 0 ? 3 : args[0]
                        args[1] = (rng.next() & 0xffff_ffff_0000_0000) | [Self.tiocsti, Self.tioclinux, 0x5423, Self.fionread, 0x5000, 0x5001, rng.next() & 0xffff_ffff][Int(rng.next() % 7)]
                        Self.agree(interp, eval, SeccompData(nr: Self.nr("ioctl", arch), arch: arch.auditArch, args: args), rule)
                    }
                }
            }
        }
    }

    @Test func theStrictestDenyStillWins() throws {
        let x86 = Architecture.x86_64.auditArch, ioctl = Self.nr("ioctl", .x86_64)
        let guardRules = [TS.deny("ioctl", [TS.c(1, .eq, Self.tiocsti)], errno: 1, source: "guard")]
        // A stricter deny that can match together with TIOCSTI (a range, so not a candidate
        // itself): the constant stays with libseccomp.
        let killing = SeccompPolicy(arch: .x86_64, defaultDeny: .kill, rules: TS.defaultAllows() + guardRules + [
            TS.deny("ioctl", [TS.c(1, .gt, 0x5410)], source: "above 0x5410: the default action, kill")])
        #expect(SeccompPrefilter.plan(killing) == nil, "kill above 0x5410 is stricter than EPERM on TIOCSTI")
        let i = try BPFInterpreter(try SeccompCompiler.compile(killing).program), e = try SeccompEvaluator(policy: killing)
        #expect(Self.agree(i, e, SeccompData(nr: ioctl, arch: x86, args: [3, Self.tiocsti])) == .killProcess)
        #expect(Self.agree(i, e, SeccompData(nr: ioctl, arch: x86, args: [4, Self.tcgets | 1 << 32])) == .allow)
        // The same deny on the 32-bit fd: one constant on each argument, so the lower argument's
        // group moves (its kill is the strictest), and TIOCSTI stays with libseccomp.
        let killing32 = SeccompPolicy(arch: .x86_64, defaultDeny: .kill, rules: TS.defaultAllows() + guardRules + [
            TS.deny("ioctl", [TS.c(0, .eq, 3)], source: "fd 3: the default action, kill")])
        let moved = try #require(SeccompPrefilter.plan(killing32))
        #expect(moved.arg == 0 && moved.cases.map(\.value) == [3] && moved.cases.map(\.action) == [.killProcess])
        let k = try BPFInterpreter(try SeccompCompiler.compile(killing32).program), ke = try SeccompEvaluator(policy: killing32)
        #expect(Self.agree(k, ke, SeccompData(nr: ioctl, arch: x86, args: [3 | 1 << 32, Self.tiocsti])) == .killProcess)
        #expect(Self.agree(k, ke, SeccompData(nr: ioctl, arch: x86, args: [4, Self.tiocsti | 1 << 32])) == .errno(1))
        #expect(Self.agree(k, ke, SeccompData(nr: ioctl, arch: x86, args: [4, Self.fionread])) == .allow)
        // Less strict denies beside it: TIOCSTI moves, and wins over them.
        let lax = SeccompPolicy(arch: .x86_64, defaultDeny: .errno(1), rules: TS.defaultAllows() + guardRules + [
            TS.deny("ioctl", [TS.c(1, .gt, 0x6000)], errno: 13), TS.deny("ioctl", [TS.c(1, .eq, 0x5423)], errno: 22)])
        let plan = try #require(SeccompPrefilter.plan(lax))
        #expect(plan.cases.map(\.value) == [0x5412], "TIOCSETD's EINVAL is less strict than EACCES above 0x6000: it stays")
        #expect(plan.rest == nil, "conditional rules remain: libseccomp decides the rest")
        let li = try BPFInterpreter(try SeccompCompiler.compile(lax).program), le = try SeccompEvaluator(policy: lax)
        #expect(Self.agree(li, le, SeccompData(nr: ioctl, arch: x86, args: [3, Self.tiocsti | 1 << 40])) == .errno(1))
        #expect(Self.agree(li, le, SeccompData(nr: ioctl, arch: x86, args: [3, 0x6001])) == .errno(13))
        #expect(Self.agree(li, le, SeccompData(nr: ioctl, arch: x86, args: [4, 0x5423])) == .errno(22))
        #expect(Self.agree(li, le, SeccompData(nr: ioctl, arch: x86, args: [4, Self.fionread])) == .allow)
    }

    @Test func distinctActionsGetTheirOwnReturnsAndTooManyConstantsStayWithLibseccomp() throws {
        let x86 = Architecture.x86_64.auditArch, ioctl = Self.nr("ioctl", .x86_64)
        let p = SeccompPolicy(arch: .x86_64, defaultDeny: .errno(1), rules: TS.defaultAllows() + [
            TS.deny("ioctl", [TS.c(1, .eq, 0x10)], errno: 13), TS.deny("ioctl", [TS.c(1, .eq, 0x20)], errno: 22),
            TS.deny("ioctl", [TS.c(1, .eq, 0x10)], errno: 5), TS.deny("ioctl", [TS.c(1, .eq, 0xffff_ffff_ffff_fff0)], errno: 13),
        ])
        let plan = try #require(SeccompPrefilter.plan(p))
        #expect(plan.cases.map(\.value) == [0x10, 0x20, 0xffff_fff0])
        #expect(plan.cases.map(\.action) == [.errno(5), .errno(22), .errno(13)])
        #expect(plan.instructions.count == 5 + 3 + 3 + 1)
        let i = try BPFInterpreter(try SeccompCompiler.compile(p).program), e = try SeccompEvaluator(policy: p)
        for v: UInt64 in [0x10, 0x20, 0xffff_fff0, 0x11, 0x1f, 0xffff_ffff] {
            for upper in Self.upperHalves { Self.agree(i, e, SeccompData(nr: ioctl, arch: x86, args: [0, v | upper])) }
        }
        var many = TS.defaultAllows()
        for v in 0..<UInt64(SeccompPrefilter.maxConstants + 1) { many.append(TS.deny("ioctl", [TS.c(1, .eq, 0x100 + v)], errno: 13)) }
        let big = SeccompPolicy(arch: .x86_64, rules: many)
        #expect(SeccompPrefilter.plan(big) == nil)
        let bi = try BPFInterpreter(try SeccompCompiler.compile(big).program), be = try SeccompEvaluator(policy: big)
        Self.agree(bi, be, SeccompData(nr: ioctl, arch: x86, args: [0, 0x100]))
        Self.agree(bi, be, SeccompData(nr: ioctl, arch: x86, args: [0, 0x1_0000_0108]))
    }

    /// The verifier's architecture inputs are what catch a prefix that would decide another
    /// architecture's call: with the arch compare disabled (both branches go on), an i386
    /// call with ioctl's x86_64 number and TIOCSTI gets EPERM instead of being killed.
    @Test func theVerifierRefusesAPrefixThatSkipsTheArchitectureCheck() throws {
        let policy = try Self.stockDefault().seccompPolicy(arch: .x86_64, notify: false)
        let filter = try SeccompCompiler.compile(policy)
        var broken = filter.program
        #expect(broken.instructions[3].k == Architecture.x86_64.auditArch)
        broken.instructions[3].jf = 0
        #expect(throws: SeccompCompileError.self) { try SeccompVerifier.verify(broken, policy: policy, compiled: filter.rules) }
        #expect(throws: Never.self) { try SeccompVerifier.verify(broken, policy: policy, compiled: filter.rules, architectures: false) }
        #expect(throws: Never.self) { try SeccompVerifier.verify(filter.program, policy: policy, compiled: filter.rules) }
    }

    @Test func theDisassemblyShowsTheBuiltInRuleAtThePrefix() throws {
        let policy = try Self.stockDefault().seccompPolicy(arch: .x86_64, notify: false)
        let filter = try SeccompCompiler.compile(policy)
        let lines = filter.disassembly().split(separator: "\n").map(String.init)
        #expect(lines.count == filter.program.count)
        #expect(lines[0].contains("ld [0]  ; nr"))
        #expect(lines[1].contains("jeq #0x10, ") && lines[1].contains("; ioctl"))
        #expect(lines[4].contains("args[1] low"))
        let deny = try #require(lines.first { $0.contains("ret ERRNO(1)") && $0.contains("ioctl <-") })
        #expect(deny.contains("deny syscall ioctl(request == TIOCSTI)") && deny.contains("deny syscall ioctl(request == TIOCLINUX)"), "\(deny)")
        print(lines.prefix(10).joined(separator: "\n"))
    }
}
