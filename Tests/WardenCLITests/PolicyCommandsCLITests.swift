import Foundation
import Testing

/// `warden test`, `explain`, `compile` and `run` through the built binary.
@Suite struct PolicyCommandsCLITests {
    static let failing = """
        warden 1
        identity agent {
          description "test fixture"
          allow fs read "/usr"
          limit wall-time 1m
        }
        test "wrong on purpose" {
          identity agent
          expect allow fs write "/usr/bin/x"
          expect deny fs read "/usr/lib/y"
          expect deny syscall ptrace
        }
        """

    @Test func testCommandCountsAndExplainsFailures() throws {
        guard let ok = try WardenBinary.run(["test", "policies/default.warden"]) else { return }
        #expect(ok.status == 0)
        #expect(ok.stdout.hasSuffix(" passed, 0 failed\n"))

        let dir = try WardenBinary.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.failing.write(toFile: dir + "/p.warden", atomically: true, encoding: .utf8)
        guard let r = try WardenBinary.run(["test", dir + "/p.warden"]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.contains("1 passed, 2 failed"))
        #expect(r.stdout.contains("p.warden:9:3: FAIL: wrong on purpose: expected allow fs write \"/usr/bin/x\", but it is denied"))
        #expect(r.stdout.contains("decided by: default deny"))
        #expect(r.stdout.contains("p.warden:10:3: FAIL"))
        #expect(r.stdout.contains("decided by: \(dir)/p.warden:4:17: allow fs read \"/usr\""))
    }

    @Test func explainExitCodesAndDecidingRule() throws {
        guard let allow = try WardenBinary.run(["explain", "policies/default.warden", "--syscall", "read"]) else { return }
        #expect(allow.status == 0)
        #expect(allow.stdout.hasPrefix("ALLOW: syscall read"))
        #expect(allow.stdout.contains("(via toolchains → toolchain)"), "\(allow.stdout)")
        guard let deny = try WardenBinary.run(["explain", "policies/default.warden", "--syscall", "clone:CLONE_NEWUSER"]) else { return }
        #expect(deny.status == 1)
        #expect(deny.stdout.contains("built-in: deny syscall clone(flags & CLONE_NEWUSER == CLONE_NEWUSER)"))
        guard let fs = try WardenBinary.run(["explain", "policies/default.warden", "--fs", "read", "${home}/.ssh/id_rsa"]) else { return }
        #expect(fs.status == 1)
        // The home is not granted: the file does not exist in the agent's world.
        #expect(fs.stdout.contains("enforced by: mount (absent from the agent's world: ENOENT)"), "\(fs.stdout)")
        #expect(fs.stdout.contains("the agent gets ENOENT"))
        guard let usage = try WardenBinary.run(["explain", "policies/default.warden", "--syscall", "read", "--capability", "chown"]) else { return }
        #expect(usage.status == 2)
        guard let unknown = try WardenBinary.run(["explain", "policies/default.warden", "--syscall", "notasyscall"]) else { return }
        #expect(unknown.status == 2)
    }

    @Test func compileIsReproducibleInEveryFormat() throws {
        let dir = try WardenBinary.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for emit in ["plan", "bpf", "asm"] {
            var outputs: [Data] = []
            for i in 0..<2 {
                let file = "\(dir)/\(emit).\(i)"
                guard let r = try WardenBinary.run(["compile", "policies/default.warden", "--emit", emit, "--output", file]) else { return }
                #expect(r.status == 0, "\(r.stderr)")
                outputs.append(FileManager.default.contents(atPath: file) ?? Data())
            }
            #expect(!outputs[0].isEmpty && outputs[0] == outputs[1], "--emit \(emit) differs between runs")
        }
        guard let r = try WardenBinary.run(["compile", "policies/default.warden", "--emit", "bpf", "--arch", "aarch64", "--output", dir + "/f.bpf"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        let size = try FileManager.default.attributesOfItem(atPath: dir + "/f.bpf")[.size] as? Int ?? 0
        #expect(size > 0 && size % 8 == 0, "a sock_filter array")
        guard let bad = try WardenBinary.run(["compile", "policies/default.warden", "--identity", "nobody"]) else { return }
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("no identity named `nobody`"))
    }

    /// A workspace, a scratch audit directory outside it, and a key pair.
    struct RunFixture {
        let dir: String
        var workspace: String { dir + "/ws" }
        var log: String { dir + "/audit/audit.jsonl" }
        var key: String { dir + "/audit/k.key" }
        var pub: String { dir + "/audit/k.pub" }

        init() throws {
            dir = try WardenBinary.tempDir("run")
            try FileManager.default.createDirectory(atPath: dir + "/ws", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/audit", withIntermediateDirectories: true)
        }

        func run(_ command: [String], extra: [String] = []) throws -> WardenBinary.Result? {
            try WardenBinary.run(["run", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", workspace,
                                  "--audit-log", log, "-q"] + extra + ["--"] + command)
        }
    }

    @Test func runExitCodes() throws {
        let f = try RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let cases: [([String], Int32)] = [
            (["/bin/sh", "-c", "exit 42"], 42),
            (["/bin/sh", "-c", "kill -TERM $$"], 128 + 15),
            (["no-such-command-anywhere"], 127),
            (["/etc/passwd"], 126),
        ]
        for (command, expected) in cases {
            guard let r = try f.run(command) else { return }
            #expect(r.status == expected, "\(command): \(r.stderr)")
        }
        guard let timeout = try f.run(["/bin/sh", "-c", "sleep 30"], extra: ["--timeout", "1s", "--grace", "1s"]) else { return }
        #expect(timeout.status == 124)
        guard let badPolicy = try WardenBinary.run(["run", "--policy", "/nonexistent.warden", "--", "true"]) else { return }
        #expect(badPolicy.status == 125)
        guard let logInside = try WardenBinary.run(["run", "--policy", "policies/default.warden", "--workspace", f.workspace,
                                                    "--audit-log", f.workspace + "/audit.jsonl", "--", "true"]) else { return }
        #expect(logInside.status == 125)
        #expect(logInside.stderr.contains("(audit trail) is writable"))
    }

    @Test func runRecordsDenialsAndTheTrailVerifies() throws {
        let f = try RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        guard let k = try WardenBinary.run(["audit", "keygen", "--output", f.dir + "/audit/k"]) else { return }
        #expect(k.status == 0)
        // unshare(CLONE_NEWUSER) is denied by seccomp and answered by the supervisor.
        guard let r = try f.run(["/bin/sh", "-c", "unshare -U true; echo after=$?"], extra: ["--signing-key", f.key]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("after=1"))
        let log = try String(contentsOfFile: f.log, encoding: .utf8)
        #expect(log.contains("\"kind\":\"run.start\""))
        #expect(log.contains("\"kind\":\"deny.syscall\"") && log.contains("\"name\":\"unshare\""))
        #expect(log.contains("\"kind\":\"run.exit\""))
        #expect(log.contains("\"kind\":\"checkpoint\""))
        guard let v = try WardenBinary.run(["audit", "verify", f.log, "--public-key", f.pub]) else { return }
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }
}
