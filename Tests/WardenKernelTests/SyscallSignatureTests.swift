import Testing
@testable import WardenKernel

@Suite struct SyscallSignatureTests {
    @Test func everySignatureNamesARealSyscall() {
        for name in SyscallSignatures.allSyscalls {
            #expect(SyscallTable.isKnown(name), "\(name)")
            #expect((SyscallSignatures.arguments(of: name)?.count ?? 7) <= 6)
        }
    }

    @Test func widthsOfKeyArguments() throws {
        let ioctl = try #require(SyscallSignatures.arguments(of: "ioctl"))
        #expect(ioctl[1].name == "request" && ioctl[1].is32Bit && ioctl[1].kind == .integer)
        let clone = try #require(SyscallSignatures.arguments(of: "clone"))
        #expect(clone[0].name == "flags" && clone[0].is32Bit)
        #expect(SyscallSignatures.arguments(of: "clone", arch: .aarch64)?[3].name == "tls")
        #expect(SyscallSignatures.arguments(of: "clone", arch: .x86_64)?[3].name == "child_tid")
        #expect(SyscallSignatures.arguments(of: "ptrace")?[0].is32Bit == false)
        #expect(SyscallSignatures.arguments(of: "openat")?[1].kind == .pointer)
        #expect(SyscallSignatures.index(of: "domain", in: "socket") == 0)
    }
}
