import Testing
@testable import WardenCompiler
import WardenKernel
import WardenTestSupport

@Suite struct SeccompCompilerTests {
    let tiocsti = NamedConstants.value(of: "TIOCSTI")!
    let x86 = Architecture.x86_64.auditArch

    func nr(_ s: String, _ arch: Architecture = .x86_64) -> Int32 { SyscallTable.number(of: s, arch: arch)! }

    @Test func ioctlDenyHoldsWithUpperHalfGarbage() throws {
        let p = SeccompPolicy(arch: .x86_64, rules: [TS.allow("ioctl"), TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 13)])
        let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
        #expect(i.run(SeccompData(nr: nr("ioctl"), arch: x86, args: [0, tiocsti])).action == .errno(13))
        #expect(i.run(SeccompData(nr: nr("ioctl"), arch: x86, args: [0, tiocsti | 1 << 32])).action == .errno(13))
        #expect(i.run(SeccompData(nr: nr("ioctl"), arch: x86, args: [0, tiocsti | 0xffff_ffff_0000_0000])).action == .errno(13))
        #expect(i.run(SeccompData(nr: nr("ioctl"), arch: x86, args: [0, 0x5401])).action == .allow)
    }

    @Test func allowOn32BitArgumentIgnoresUpperHalf() throws {
        let p = SeccompPolicy(arch: .x86_64, rules: [TS.allow("socket", [TS.c(0, .eq, 1)])])
        let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
        #expect(i.run(SeccompData(nr: nr("socket"), arch: x86, args: [1 | 1 << 33])).action == .allow)
        #expect(i.run(SeccompData(nr: nr("socket"), arch: x86, args: [2 | 1 << 33])).action == .errno(1))
    }

    @Test func denyWinsWhateverTheOrder() throws {
        let rules = [TS.allow("uname"), TS.deny("uname", errno: 5), TS.allow("read"), TS.deny("read", [TS.c(0, .gt, 2)], errno: 9)]
        for order in [rules, rules.reversed()] {
            let p = SeccompPolicy(arch: .x86_64, rules: order)
            let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
            #expect(i.run(SeccompData(nr: nr("uname"), arch: x86)).action == .errno(5))
            #expect(i.run(SeccompData(nr: nr("read"), arch: x86, args: [3])).action == .errno(9))
            #expect(i.run(SeccompData(nr: nr("read"), arch: x86, args: [2])).action == .allow)
        }
    }

    @Test func strictestDenyWins() throws {
        let p = SeccompPolicy(arch: .x86_64, defaultDeny: .kill, rules: [
            TS.deny("kill", [TS.c(1, .eq, 9)], errno: 13), TS.deny("kill", errno: 1), TS.allow("kill"),
            TS.deny("tkill", [TS.c(1, .eq, 9)]), TS.deny("tkill", errno: 1),
        ])
        let e = try SeccompEvaluator(policy: p)
        #expect(e.evaluate(syscall: "kill", args: [0, 9]) == .errno(1))
        #expect(e.evaluate(syscall: "tkill", args: [0, 9]) == .killProcess)
        #expect(e.evaluate(syscall: "tkill", args: [0, 1]) == .errno(1))
        let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
        #expect(i.run(SeccompData(nr: nr("tkill"), arch: x86, args: [0, 9])).action == .killProcess)
        #expect(i.run(SeccompData(nr: nr("kill"), arch: x86, args: [0, 9])).action == .errno(1))
    }

    @Test func clone3IsAlwaysENOSYSAndForeignArchesAreKilled() throws {
        for arch in Architecture.allCases {
            let p = SeccompPolicy(arch: arch, rules: [TS.allow("clone3"), TS.allow("getpid")])
            let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
            #expect(i.run(SeccompData(nr: nr("clone3", arch), arch: arch.auditArch)).action == .errno(38))
            #expect(i.run(SeccompData(nr: nr("getpid", arch), arch: arch.auditArch)).action == .allow)
            #expect(i.run(SeccompData(nr: 20, arch: 0x4000_0003)).action == .killProcess)  // i386
        }
        let p = SeccompPolicy(arch: .x86_64, rules: [TS.allow("getpid")])
        let i = try BPFInterpreter(try SeccompCompiler.compile(p).program)
        #expect(i.run(SeccompData(nr: nr("getpid") | 0x4000_0000, arch: x86)).action == .killProcess)  // x32
    }

    @Test func syscallsAbsentOnTheTargetAreReportedNotCompiled() throws {
        let p = SeccompPolicy(arch: .aarch64, rules: [TS.allow("open"), TS.allow("openat")])
        let f = try SeccompCompiler.compile(p)
        #expect(f.absentOnArch == ["open"])
        #expect(f.rules.map(\.syscall).contains("openat"))
        let i = try BPFInterpreter(f.program)
        #expect(i.run(SeccompData(nr: nr("openat", .aarch64), arch: Architecture.aarch64.auditArch)).action == .allow)
        // x86_64's `open` number (2) is io_submit on aarch64, which this policy does not allow.
        #expect(i.run(SeccompData(nr: nr("open"), arch: Architecture.aarch64.auditArch)).action == .errno(1))
    }

    @Test func compilingIsDeterministicAndOrderIndependent() throws {
        var rules = TS.defaultAllows() + [TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 1),
                                          TS.deny("socket", [TS.c(0, .eq, 17)], errno: 97)]
        let a = try SeccompCompiler.compile(SeccompPolicy(arch: .x86_64, rules: rules)).program.bytes
        let b = try SeccompCompiler.compile(SeccompPolicy(arch: .x86_64, rules: rules)).program.bytes
        var rng = SeededRandom(seed: 42)
        rules.shuffle(using: &rng)
        let c = try SeccompCompiler.compile(SeccompPolicy(arch: .x86_64, rules: rules)).program.bytes
        #expect(a == b)
        #expect(a == c)
        #expect(BPFProgram(bytes: a)?.bytes == a)
    }

    @Test func defaultPolicySizes() throws {
        for arch in Architecture.allCases {
            let f = try SeccompCompiler.compile(SeccompPolicy(arch: arch, rules: TS.defaultAllows()))
            let run = try BPFInterpreter(f.program).run(SeccompData(nr: nr("read", arch), arch: arch.auditArch))
            print("@default allow policy on \(arch): \(f.program.count) instructions, read() takes \(run.steps) steps")
            #expect(f.program.count < 4096)
            #expect(run.action == .allow)
        }
    }

    @Test func rejectsBadPolicies() {
        func err(_ rules: [SyscallRule], _ deny: DenyAction = .errno(1)) -> SeccompCompileError? {
            do { _ = try SeccompCompiler.compile(SeccompPolicy(arch: .x86_64, defaultDeny: deny, rules: rules)); return nil }
            catch { return error }
        }
        #expect(err([TS.allow("no_such_call")]) == .unknownSyscall("no_such_call", source: "allow no_such_call"))
        #expect(err([TS.deny("read", errno: 0)]) == .invalidErrno(0, source: "deny read"))
        #expect(err([], .errno(5000)) == .invalidErrno(5000, source: "default"))
        if case .valueDoesNotFit32Bits = err([TS.allow("socket", [TS.c(0, .eq, 1 << 40)])]) {} else { Issue.record("32-bit range not checked") }
        if case .maskedValueOutsideMask = err([TS.allow("socket", [TS.c(0, .maskedEq, 3, mask: 1)])]) {} else { Issue.record("mask not checked") }
        if case .argumentIndexOutOfRange = err([TS.allow("socket", [TS.c(6, .eq, 1)])]) {} else { Issue.record("index not checked") }
        // Sign-extended negative 32-bit values are accepted (AT_FDCWD).
        #expect(err([TS.allow("openat", [TS.c(0, .eq, NamedConstants.value(of: "AT_FDCWD")!)])]) == nil)
    }

    @Test func overlyComplexConditionsAreATypedError() {
        var rules = [TS.allow("fcntl")]
        for v: UInt64 in [3, 77, 1000, 5000, 70000] { rules.append(TS.deny("fcntl", [TS.c(1, .ne, v), TS.c(2, .ne, v, is32: false)], errno: 1)) }
        #expect(throws: SeccompCompileError.self) { try SeccompCompiler.compile(SeccompPolicy(arch: .x86_64, defaultDeny: .kill, rules: rules)) }
    }

    @Test func disassemblyIsReadableAndAnnotated() throws {
        let p = SeccompPolicy(arch: .x86_64, rules: [TS.allow("read", source: "p.warden:4"), TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 13, source: "p.warden:7"), TS.allow("ioctl")])
        let f = try SeccompCompiler.compile(p)
        let text = f.disassembly()
        #expect(text.contains("ld [4]  ; arch"))
        #expect(text.contains("jeq #0xc000003e, "))
        #expect(text.contains("ret ERRNO(1)"))
        #expect(text.contains("ret KILL_PROCESS"))
        #expect(text.contains("ERRNO(13)  ; ioctl <- p.warden:7"))
        #expect(text.contains("p.warden:4"))
        #expect(text.split(separator: "\n").count == f.program.count)
    }
}

@Suite struct BPFInterpreterTests {
    func insn(_ code: UInt16, _ jt: UInt8 = 0, _ jf: UInt8 = 0, _ k: UInt32 = 0) -> SockFilter { SockFilter(code: code, jt: jt, jf: jf, k: k) }

    @Test func rejectsMalformedPrograms() {
        func err(_ p: [SockFilter]) -> BPFProgramError? {
            do { _ = try BPFInterpreter(BPFProgram(instructions: p)); return nil } catch { return error }
        }
        #expect(err([]) == .empty)
        #expect(err([insn(0x20, 0, 0, 0)]) == .noFinalReturn)
        #expect(err([insn(0x15, 5, 0, 1), insn(0x06, 0, 0, 0)]) == .jumpOutOfRange(pc: 0))
        #expect(err([insn(0x05, 0, 0, 9), insn(0x06)]) == .jumpOutOfRange(pc: 0))
        #expect(err([insn(0x20, 0, 0, 64), insn(0x06)]) == .loadOutOfRange(pc: 0, offset: 64))
        #expect(err([insn(0x20, 0, 0, 2), insn(0x06)]) == .loadOutOfRange(pc: 0, offset: 2))
        #expect(err([insn(0x60, 0, 0, 3), insn(0x06)]) == .uninitializedScratch(pc: 0, index: 3))
        #expect(err([insn(0x02, 0, 0, 16), insn(0x06)]) == .scratchOutOfRange(pc: 0, index: 16))
        #expect(err([insn(0x34, 0, 0, 0), insn(0x06)]) == .divisionByZero(pc: 0))
        #expect(err([insn(0x28, 0, 0, 0), insn(0x06)]) == .unsupportedInstruction(pc: 0, code: 0x28))
        #expect(err(Array(repeating: insn(0x06), count: 4097)) == .tooLong(4097))
    }

    @Test func runsHandWrittenPrograms() throws {
        // A = nr; M[0] = A; A = args[0] low; A += 1; X = A; A = M[0]; if A == 39 ret ERRNO(X & 0xffff) else ALLOW
        let p: [SockFilter] = [
            insn(0x20, 0, 0, 0), insn(0x02, 0, 0, 0), insn(0x20, 0, 0, 16), insn(0x04, 0, 0, 1), insn(0x07),
            insn(0x60, 0, 0, 0), insn(0x15, 0, 3, 39), insn(0x87), insn(0x44, 0, 0, 0x0005_0000), insn(0x16),
            insn(0x06, 0, 0, 0x7fff_0000),
        ]
        let i = try BPFInterpreter(BPFProgram(instructions: p))
        let r = i.run(SeccompData(nr: 39, arch: 0, args: [6]))
        #expect(r.action == .errno(7))
        #expect(r.steps == 10)
        #expect(i.run(SeccompData(nr: 40, arch: 0, args: [6])).action == .allow)
        #expect(BPFDisassembler.disassemble(BPFProgram(instructions: p)).contains("ret a"))
    }

    @Test func decodesEveryAction() {
        for a: SeccompAction in [.killProcess, .killThread, .trap(3), .errno(13), .userNotif, .trace(2), .log, .allow] {
            #expect(SeccompAction(raw: a.raw) == a)
        }
        #expect(SeccompAction(raw: 0x1234_0000) == .unknown(0x1234_0000))
    }
}

@Suite struct CapabilitySetTests {
    @Test func defaultIsEmptyAndValid() throws {
        #expect(CapabilitySet() == .empty)
        try CapabilitySet.empty.validate()
        #expect(CapabilitySet.mask(CapabilitySet.empty.effective) == 0)
    }

    @Test func grantingKeepsInvariants() throws {
        let nbs = try #require(Capabilities.number(of: "NET_BIND_SERVICE"))
        let s = CapabilitySet.granting([nbs])
        try s.validate()
        #expect(CapabilitySet.mask(s.ambient) == 1 << 10)
        #expect(CapabilitySet.names(s.bounding) == ["CAP_NET_BIND_SERVICE"])
    }

    @Test func rejectsBrokenSets() {
        #expect(throws: CapabilitySetError.notSubset(21, of: "permitted", set: "effective")) {
            try CapabilitySet(bounding: [21], effective: [21]).validate()
        }
        #expect(throws: CapabilitySetError.notSubset(0, of: "permitted and inheritable", set: "ambient")) {
            try CapabilitySet(bounding: [0], permitted: [0], ambient: [0]).validate()
        }
        #expect(throws: CapabilitySetError.unknownCapability(99, set: "bounding")) {
            try CapabilitySet(bounding: [99]).validate()
        }
    }
}
