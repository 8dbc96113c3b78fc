import Testing
import Foundation
@testable import WardenCompiler
import WardenKernel

/// Loads compiled filters into a real child process (a small C helper compiled at test time)
/// and checks that the kernel does exactly what the interpreter predicted.
@Suite struct SeccompKernelTests {
    static let helperSource = #"""
    #define _GNU_SOURCE
    #include <errno.h>
    #include <fcntl.h>
    #include <linux/filter.h>
    #include <linux/seccomp.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/prctl.h>
    #include <sys/syscall.h>
    #include <unistd.h>
    /* usage: helper FILTER sys|int80 NR A0..A5 ; prints "ret errno" after loading FILTER */
    int main(int argc, char **argv) {
        if (argc != 10) return 2;
        static unsigned char buf[65536];
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) return 3;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n <= 0 || n % 8) return 4;
        long nr = strtol(argv[3], 0, 0);
        unsigned long a[6];
        for (int i = 0; i < 6; i++) a[i] = strtoul(argv[4 + i], 0, 0);
        struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return 5;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) return 6;
        long ret; int err = 0;
        if (strcmp(argv[2], "int80") == 0) {
    #if defined(__x86_64__)
            __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]) : "memory");
            if (ret < 0 && ret > -4096) { err = (int)-ret; ret = -1; }
    #else
            return 7;
    #endif
        } else {
            errno = 0;
            ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            err = ret == -1 ? errno : 0;
        }
        char out[64];
        int len = snprintf(out, sizeof out, "%ld %d\n", ret, err);
        write(1, out, (size_t)len);
        syscall(SYS_exit_group, 0);
        return 0;
    }
    """#

    enum Outcome: Equatable, CustomStringConvertible {
        case returned(ret: Int, errno: Int32)
        case killed(signal: Int32)
        case helperFailed(Int32)
        var description: String {
            switch self {
            case .returned(let r, let e): return "returned \(r) errno \(e)"
            case .killed(let s): return "killed by signal \(s)"
            case .helperFailed(let c): return "helper exited \(c)"
            }
        }
    }

    struct Probe {
        var name: String
        var nr: Int32
        var args: [UInt64]
        var int80 = false
    }

    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("warden-seccomp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func buildHelper() throws -> URL? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else { return nil }
        let src = dir.appendingPathComponent("helper.c"), exe = dir.appendingPathComponent("helper")
        try Self.helperSource.write(to: src, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        p.arguments = ["-O1", "-o", exe.path, src.path]
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? exe : nil
    }

    func run(_ helper: URL, filter: URL, _ probe: Probe) throws -> Outcome {
        let p = Process()
        p.executableURL = helper
        let args = (0..<6).map { i in "0x" + String(i < probe.args.count ? probe.args[i] : 0, radix: 16) }
        p.arguments = [filter.path, probe.int80 ? "int80" : "sys", String(probe.nr)] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationReason == .uncaughtSignal { return .killed(signal: p.terminationStatus) }
        guard p.terminationStatus == 0 else { return .helperFailed(p.terminationStatus) }
        let parts = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let r = Int(parts[0]), let e = Int32(parts[1]) else { return .helperFailed(-1) }
        return .returned(ret: r, errno: e)
    }

    @Test func kernelDoesWhatTheInterpreterPredicts() throws {
        #if !arch(x86_64)
        print("skip: the kernel probes (int 0x80, x32) are written for x86_64"); return
        #else
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let helper = try buildHelper() else { print("skip: no C compiler to build the probe helper"); return }
        let tiocsti = NamedConstants.value(of: "TIOCSTI")!
        let tcgets = NamedConstants.value(of: "TCGETS")!
        let afUnix = NamedConstants.value(of: "AF_UNIX")!, afInet = NamedConstants.value(of: "AF_INET")!
        let sockStream = NamedConstants.value(of: "SOCK_STREAM")!
        let policy = SeccompPolicy(arch: .x86_64, defaultDeny: .errno(1), rules: TS.defaultAllows() + [
            TS.deny("ioctl", [TS.c(1, .eq, tiocsti)], errno: 13, source: "deny TIOCSTI"),
            TS.allow("uname"), TS.deny("uname", errno: 77, source: "deny uname"),
            TS.deny("getppid", errno: 78),
            TS.deny("socket", [TS.c(0, .ne, afUnix)], errno: 97, source: "unix sockets only"),
        ])
        let filter = try SeccompCompiler.compile(policy)
        #expect(SeccompPrefilter.plan(policy)?.cases.map(\.value) == [UInt32(tiocsti)], "the kernel runs the ioctl prefix")
        let file = dir.appendingPathComponent("filter.bpf")
        try Data(filter.program.bytes).write(to: file)
        let interp = try BPFInterpreter(filter.program)
        func nr(_ s: String) -> Int32 { SyscallTable.number(of: s, arch: .x86_64)! }
        let probes: [Probe] = [
            Probe(name: "getpid allowed", nr: nr("getpid"), args: []),
            Probe(name: "ioctl TIOCSTI denied", nr: nr("ioctl"), args: [1000, tiocsti]),
            Probe(name: "ioctl TIOCSTI with upper-half garbage denied", nr: nr("ioctl"), args: [1000, tiocsti | 0xdead_beef_0000_0000]),
            Probe(name: "ioctl TCGETS allowed (EBADF)", nr: nr("ioctl"), args: [1000, tcgets]),
            Probe(name: "clone3 gets ENOSYS", nr: nr("clone3"), args: [0, 0]),
            Probe(name: "deny wins over allow", nr: nr("uname"), args: [0]),
            Probe(name: "explicit deny errno", nr: nr("getppid"), args: []),
            Probe(name: "not allowed: default errno", nr: nr("ptrace"), args: [0]),
            Probe(name: "socket AF_UNIX allowed", nr: nr("socket"), args: [afUnix, sockStream, 0]),
            Probe(name: "socket AF_UNIX with upper garbage is still AF_UNIX", nr: nr("socket"), args: [afUnix | 1 << 40, sockStream, 0]),
            Probe(name: "socket AF_INET denied", nr: nr("socket"), args: [afInet, sockStream, 0]),
            Probe(name: "x32 getpid killed", nr: nr("getpid") | 0x4000_0000, args: []),
            Probe(name: "int 0x80 getpid killed", nr: 20, args: [], int80: true),
            // Around the ioctl prefix (appended: the checks below use the indexes above).
            Probe(name: "ioctl 0x5411 (below TIOCSTI) allowed (EBADF)", nr: nr("ioctl"), args: [1000, tiocsti - 1]),
            Probe(name: "ioctl 0x5413 (above TIOCSTI) with upper-half garbage allowed (EBADF)", nr: nr("ioctl"), args: [1000, (tiocsti + 1) | 0xdead_beef_0000_0000]),
            Probe(name: "x32 ioctl TIOCSTI killed", nr: nr("ioctl") | 0x4000_0000, args: [1000, tiocsti]),
            Probe(name: "int 0x80 with ioctl's x86_64 number and TIOCSTI killed", nr: nr("ioctl"), args: [1000, tiocsti], int80: true),
        ]
        for probe in probes {
            let data = SeccompData(nr: probe.nr, arch: probe.int80 ? 0x4000_0003 : Architecture.x86_64.auditArch, args: probe.args)
            let predicted = interp.run(data).action
            let evaluated = try SeccompEvaluator(policy: policy).evaluate(data)
            #expect(predicted == evaluated, "\(probe.name): interpreter \(predicted) vs evaluator \(evaluated)")
            let outcome = try run(helper, filter: file, probe)
            switch predicted {
            case .errno(let e):
                #expect(outcome == .returned(ret: -1, errno: Int32(e)), "\(probe.name): predicted \(predicted), got \(outcome)")
            case .killProcess:
                #expect(outcome == .killed(signal: SIGSYS), "\(probe.name): predicted \(predicted), got \(outcome)")
            case .allow:
                if case .returned(_, let e) = outcome {
                    #expect(![1, 13, 77, 78, 97, 38].contains(e), "\(probe.name): allowed call failed with a filter errno \(e)")
                } else {
                    Issue.record("\(probe.name): predicted ALLOW, got \(outcome)")
                }
            default:
                Issue.record("\(probe.name): unexpected prediction \(predicted)")
            }
        }
        // The specific expectations, independent of the interpreter.
        #expect(interp.run(SeccompData(nr: nr("ioctl"), arch: Architecture.x86_64.auditArch, args: [1000, tiocsti | 1 << 32])).action == .errno(13))
        #expect(try run(helper, filter: file, probes[3]) == .returned(ret: -1, errno: EBADF))
        #expect(try run(helper, filter: file, probes[4]) == .returned(ret: -1, errno: ENOSYS))
        #expect(try run(helper, filter: file, probes[11]) == .killed(signal: SIGSYS))
        #expect(try run(helper, filter: file, probes[12]) == .killed(signal: SIGSYS))
        #endif
    }

    @Test func defaultKillKillsTheProcess() throws {
        #if !arch(x86_64)
        print("skip: x86_64 only"); return
        #else
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let helper = try buildHelper() else { print("skip: no C compiler"); return }
        let policy = SeccompPolicy(arch: .x86_64, defaultDeny: .kill, rules: TS.defaultAllows())
        let filter = try SeccompCompiler.compile(policy)
        let file = dir.appendingPathComponent("kill.bpf")
        try Data(filter.program.bytes).write(to: file)
        let getppid = SyscallTable.number(of: "getppid", arch: .x86_64)!
        let ptrace = SyscallTable.number(of: "ptrace", arch: .x86_64)!
        let interp = try BPFInterpreter(filter.program)
        #expect(interp.run(SeccompData(nr: ptrace, arch: Architecture.x86_64.auditArch)).action == .killProcess)
        #expect(try run(helper, filter: file, Probe(name: "ptrace", nr: ptrace, args: [])) == .killed(signal: SIGSYS))
        #expect(try run(helper, filter: file, Probe(name: "getppid", nr: getppid, args: [])) == .returned(ret: Int(getpid()), errno: 0))
        #endif
    }
}
