import Dispatch
import Foundation
import Testing

/// Every path that reads a policy (lint, fmt, test, explain, compile, `run --policy`, and
/// `include`) refuses what is not a regular file at once, bounds what it reads, and prints
/// nothing from a policy raw.
@Suite struct PolicyInputCLITests {
    /// Runs warden with a hang guard: killed after `seconds` (a FIFO that blocks `open`
    /// would otherwise hang the suite) and with its address space limited to `memoryMiB`
    /// (so unbounded reading fails instead of eating the machine). nil when not built.
    static func run(_ arguments: [String], seconds: Int = 60, memoryMiB: Int = 2048) throws -> (result: WardenBinary.Result, timedOut: Bool)? {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else {
            print("skip: \(WardenBinary.path) not built")
            return nil
        }
        // ulimit -v in the shell that execs warden: the limit applies to warden only.
        let script = "ulimit -v \(memoryMiB * 1024) && exec \"$0\" \"$@\""
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script, WardenBinary.path] + arguments
        p.currentDirectoryURL = URL(fileURLWithPath: WardenBinary.root)
        p.standardInput = FileHandle.nullDevice
        let dir = try WardenBinary.tempDir("out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        p.standardOutput = out
        p.standardError = err
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        let timedOut = done.wait(timeout: .now() + .seconds(seconds)) == .timedOut
        if timedOut {
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        try out.close()
        try err.close()
        let result = WardenBinary.Result(status: p.terminationStatus,
                                         stdout: (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "",
                                         stderr: (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "")
        return (result, timedOut)
    }

    /// A temporary directory with a FIFO `pipe.warden` (never opened for writing), a
    /// subdirectory `sub`, and `main.warden` holding `text`.
    static func fixture(_ text: String = "warden 1\n") throws -> String {
        let dir = try WardenBinary.tempDir("input")
        #expect(mkfifo(dir + "/pipe.warden", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try text.write(toFile: dir + "/main.warden", atomically: true, encoding: .utf8)
        return dir
    }

    @Test(arguments: [
        ["lint", "/dev/zero"],
        ["fmt", "/dev/zero"],
        ["test", "/dev/zero"],
        ["compile", "/dev/zero"],
        ["explain", "/dev/zero", "--syscall", "read"],
    ])
    func devZeroAsPolicyFailsFast(_ arguments: [String]) throws {
        guard let (r, timedOut) = try Self.run(arguments, seconds: 30, memoryMiB: 1024) else { return }
        #expect(!timedOut)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("/dev/zero: is a character device, not a regular file"), "\(r.stderr)")
    }

    @Test func devZeroAsRunPolicyFailsBeforeLaunch() throws {
        guard let (r, timedOut) = try Self.run(["run", "--policy", "/dev/zero", "--", "/bin/true"], seconds: 30, memoryMiB: 1024) else { return }
        #expect(!timedOut)
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.contains("/dev/zero: is a character device, not a regular file"))
    }

    @Test func devZeroAsIncludeFailsFast() throws {
        let dir = try Self.fixture("warden 1\ninclude \"/dev/zero\"\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for args in [["lint", dir + "/main.warden"], ["explain", dir + "/main.warden", "--syscall", "read"], ["test", dir + "/main.warden"]] {
            guard let (r, timedOut) = try Self.run(args, seconds: 30, memoryMiB: 1024) else { return }
            #expect(!timedOut)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect((r.stdout + r.stderr).contains("error[include-unreadable]: cannot include `/dev/zero`: is a character device, not a regular file"))
        }
    }

    @Test func fifoAsPolicyOrIncludeNeverBlocks() throws {
        let dir = try Self.fixture("warden 1\ninclude \"pipe.warden\"\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/pipe.warden"
        for args in [["lint", fifo], ["explain", fifo, "--syscall", "read"], ["fmt", fifo], ["lint", dir + "/main.warden"]] {
            guard let (r, timedOut) = try Self.run(args, seconds: 30) else { return }
            #expect(!timedOut, "\(args) blocked")
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect((r.stdout + r.stderr).contains("pipe.warden`: is a FIFO (named pipe), not a regular file")
                    || r.stderr.contains("pipe.warden: is a FIFO (named pipe), not a regular file"), "\(args): \(r.stdout) \(r.stderr)")
        }
        // A directory argument includes the FIFO among its *.warden files: refused, not waited on.
        guard let (r, timedOut) = try Self.run(["lint", dir], seconds: 30) else { return }
        #expect(!timedOut)
        #expect(r.status == 2)
    }

    @Test func directoryAsIncludeIsRefused() throws {
        let dir = try Self.fixture("warden 1\ninclude \"sub\"\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let (r, _) = try Self.run(["lint", dir + "/main.warden"]) else { return }
        #expect(r.status == 2)
        #expect(r.stdout.contains("main.warden:2:9: error[include-unreadable]: cannot include `\(dir)/sub`: is a directory, not a regular file"))
        #expect(r.stdout.contains("help: a policy and every file it includes must be a regular file"))
    }

    @Test func oversizedPolicyIsRefusedWithoutReadingIt() throws {
        let dir = try Self.fixture("warden 1\ninclude \"big.warden\"\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Sparse: 16 MiB + 1 byte of size without writing (or reading) any of it.
        let big = dir + "/big.warden"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, off_t(16 << 20) + 1) == 0)
        guard let (r, timedOut) = try Self.run(["lint", big], seconds: 30, memoryMiB: 1024),
              let (inc, _) = try Self.run(["lint", dir + "/main.warden"], seconds: 30, memoryMiB: 1024) else { return }
        #expect(!timedOut)
        #expect(r.status == 2)
        #expect(r.stderr.contains("big.warden: larger than 16 MiB, the limit for one policy file; split the policy into smaller files joined with `include`"))
        #expect(inc.status == 2)
        #expect(inc.stdout.contains("cannot include `\(big)`: larger than 16 MiB"))
    }

    @Test func controlCharactersAreReportedAndShownEscaped() throws {
        let dir = try Self.fixture("warden 1\n# \u{1b}]0;owned\u{7}\u{1b}[2J\nidentity a {\n  description \"x\u{0}\"\n}\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for format in ["text", "github", "json", "sarif"] {
            guard let (r, _) = try Self.run(["lint", "--format", format, dir + "/main.warden"]) else { return }
            #expect(r.status == 1, "\(format)")
            let all = r.stdout + r.stderr
            #expect(all.contains("control-character"), "\(format)")
            #expect(!all.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "\(format): raw control character in output")
        }
        guard let (text, _) = try Self.run(["lint", dir + "/main.warden"]) else { return }
        #expect(text.stdout.contains("main.warden:2:3: error[control-character]: a control character (`\\x1b`) in the policy text"))
        #expect(text.stdout.contains("  # \\x1b]0;owned\\x07\\x1b[2J\n"))
        #expect(text.stdout.contains("main.warden:4:17: error[control-character]: a control character (`\\x00`) in the policy text"))
    }

    @Test func explainAndTestEscapePolicyAndArgumentText() throws {
        let policy = """
            warden 1
            identity a {
              description "x"
              allow fs read "/data" because "reviewed\\nALLOW: everything \\u"
            }
            test "t\\nPASS" {
              identity a
              expect deny fs read "/data/x"
            }
            """
        let dir = try Self.fixture(policy.replacingOccurrences(of: "\\u", with: "\u{1b}[32m"))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The ESC inside the string is itself an error: explain refuses and shows it escaped.
        guard let (bad, _) = try Self.run(["explain", dir + "/main.warden", "--fs", "read", "/data/x"]) else { return }
        #expect(bad.status == 2)
        #expect(!bad.stderr.contains("\u{1b}"))
        try policy.replacingOccurrences(of: " \\u", with: "").write(toFile: dir + "/main.warden", atomically: true, encoding: .utf8)
        guard let (r, _) = try Self.run(["explain", dir + "/main.warden", "--fs", "read", "/data/x\u{1b}[31m"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ALLOW: fs read \"/data/x\\x1b[31m\" for identity a\n"))
        #expect(r.stdout.contains("    because: reviewed\\nALLOW: everything\n"))
        #expect(!r.stdout.contains("\u{1b}"))
        guard let (t, _) = try Self.run(["test", dir + "/main.warden"]) else { return }
        #expect(t.status == 1)
        #expect(t.stdout.contains(": FAIL: t\\nPASS: expected deny fs read \"/data/x\""))
        #expect(t.stdout.contains("because: reviewed\\nALLOW: everything\n"))
    }
}
