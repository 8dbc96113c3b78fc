import Testing
@testable import WardenCompiler
import WardenKernel

@Suite struct SeccompCompilerTests {
    let tiocsti = NamedConstants.value(of: "TIOCSTI")!

    func policy(_ rules: [SyscallRule], arch: Architecture = .x86_64, deny: DenyAction = .errno(1)) -> SeccompPolicy {
        SeccompPolicy(arch: arch, defaultDeny: deny, rules: rules)
    }

    @Test func printsDisassembly() throws {
        let p = policy([TS.allow("read"), TS.allow("ioctl"), TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 13, source: "t.warden:3")])
        let f = try SeccompCompiler.compile(p)
        print(f.disassembly())
        let i = try BPFInterpreter(f.program)
        let nr = SyscallTable.number(of: "ioctl", arch: .x86_64)!
        let arch = Architecture.x86_64.auditArch
        #expect(i.run(SeccompData(nr: nr, arch: arch, args: [0, tiocsti])).action == .errno(13))
        #expect(i.run(SeccompData(nr: nr, arch: arch, args: [0, tiocsti | 1 << 32])).action == .errno(13))
        #expect(i.run(SeccompData(nr: nr, arch: arch, args: [0, 0x5401])).action == .allow)
    }
}
