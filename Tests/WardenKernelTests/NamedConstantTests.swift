import Testing
import Foundation
@testable import WardenKernel

@Suite struct NamedConstantTests {
    @Test func wellKnownValues() {
        #expect(NamedConstants.value(of: "AF_INET") == 2)
        #expect(NamedConstants.value(of: "AF_INET6") == 10)
        #expect(NamedConstants.value(of: "SOCK_STREAM") == 1)
        #expect(NamedConstants.value(of: "CLONE_NEWUSER") == 0x1000_0000)
        #expect(NamedConstants.value(of: "TIOCSTI") == 0x5412)
        #expect(NamedConstants.value(of: "PR_SET_NO_NEW_PRIVS") == 38)
        #expect(NamedConstants.value(of: "AT_FDCWD") == UInt64(bitPattern: -100))
        #expect(NamedConstants.value(of: "NOPE") == nil)
    }

    @Test func errnoNamesRoundTrip() {
        #expect(ErrnoNames.value(of: "EPERM") == 1)
        #expect(ErrnoNames.value(of: "ENOSYS") == 38)
        #expect(ErrnoNames.name(of: 13) == "EACCES")
        #expect(ErrnoNames.name(of: 11) == "EAGAIN")
        #expect(ErrnoNames.value(of: "EWOULDBLOCK") == 11)
        for name in ErrnoNames.allNames {
            let v = ErrnoNames.value(of: name)!
            #expect(ErrnoNames.name(of: v) != nil)
        }
        #expect(ErrnoNames.allNames.count > 120)
    }

    /// Every hand-typed value is checked against the C headers by compiling a C program.
    @Test func handTypedValuesMatchCHeaders() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else {
            print("skip: no C compiler"); return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warden-consts-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var src = "#define _GNU_SOURCE\n#include <fcntl.h>\n#include <sys/mman.h>\n#include <sys/ptrace.h>\n"
        src += "#include <sys/prctl.h>\n#include <sys/random.h>\n#include <signal.h>\n#include <sys/resource.h>\n"
        src += "#include <netinet/in.h>\n#include <stdio.h>\n#include <linux/mman.h>\nint main(void){\n"
        for name in NamedConstants.handTypedNames {
            src += "#ifdef \(name)\nprintf(\"\(name) %lld\\n\", (long long)(\(name)));\n#endif\n"
        }
        src += "printf(\"RLIMIT_NPROC %d\\n\", (int)RLIMIT_NPROC);\n"
        src += "printf(\"PTRACE_TRACEME %d\\nPTRACE_ATTACH %d\\nPTRACE_SEIZE %d\\n\", PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE);\nreturn 0;}\n"
        let c = dir.appendingPathComponent("c.c"), exe = dir.appendingPathComponent("c")
        try src.write(to: c, atomically: true, encoding: .utf8)
        try run("/usr/bin/cc", [c.path, "-o", exe.path])
        let out = try run(exe.path, [])
        var checked = 0
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let v = Int64(parts[1]) else { continue }
            #expect(NamedConstants.value(of: String(parts[0])) == UInt64(bitPattern: v), "\(parts[0])")
            checked += 1
        }
        #expect(checked >= 30)
    }

    @discardableResult
    private func run(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}
