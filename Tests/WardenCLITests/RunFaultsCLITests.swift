import Foundation
import Testing

/// `warden run` under faults: the audit log's filesystem fills up, the operator sends
/// signals to an agent that ignores them, the supervisor is SIGKILLed, the agent changes
/// the modes of the operator's terminal.
@Suite(.serialized) struct RunFaultsCLITests {
    /// A size-limited tmpfs at `path` (a fresh directory); nil when mount is not permitted.
    static func mountTmpfs(_ path: String, size: String = "64k") throws -> Bool {
        let r = try CLISupport.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        if r.status != 0 { print("skip: cannot mount a tmpfs here: \(r.stderr)") }
        return r.status == 0
    }

    static func unmount(_ path: String) { _ = try? CLISupport.run("/bin/umount", ["-l", path]) }

    /// Leaves `pages` 4 KiB pages free on the filesystem at `dir`.
    static func fill(_ dir: String, leavingPages pages: Int) throws {
        var st = statvfs()
        #expect(statvfs(dir, &st) == 0)
        let free = Int(st.f_bavail) * Int(st.f_bsize) / 4096
        let bytes = max(free - pages, 0) * 4096
        FileManager.default.createFile(atPath: dir + "/filler", contents: Data(count: bytes))
    }

    /// A program that calls eight syscalls the default policy denies, `rounds` times
    /// (forever when nil), then prints `done`.
    static func buildFlood(in workspace: String, rounds: Int? = nil) throws -> String? {
        let source = workspace + "/flood.c"
        try """
        #include <stdio.h>
        #include <sys/syscall.h>
        #include <unistd.h>
        int main(void) {
            FILE *f = fopen("started", "w"); if (f) fclose(f);
            for (long i = 0; \(rounds.map { "i < \($0)" } ?? ""); i++) {
                syscall(SYS_ptrace, 0x4206, 1, 0, 0);
                syscall(SYS_bpf, -1, 0, 0);
                syscall(SYS_mount, 0, 0, 0, 0, 0);
                syscall(SYS_unshare, 0x10000000);
                syscall(SYS_io_uring_setup, 0, 0);
                syscall(SYS_perf_event_open, 0, 0, -1, -1, 0);
                syscall(SYS_keyctl, -1, 0, 0, 0, 0);
                syscall(SYS_init_module, 0, 0, 0);
            }
            printf("done\\n");
            return 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let out = workspace + "/flood"
        let cc = try CLISupport.run("/usr/bin/cc", ["-O2", "-o", out, source])
        guard cc.status == 0 else { print("skip: cannot compile the flood probe: \(cc.stderr)"); return nil }
        return "./flood"
    }

    static func records(_ log: String) -> [[String: Any]] { CLISupport.auditRecords(log) }

    /// Disk full mid-run: the agent is stopped, the run exits 122 and says so, the records
    /// the log could not take are in the spill file, and the next run appends them.
    @Test func fullAuditDiskStopsTheAgentAndNothingIsLost() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let logDir = f.dir + "/audit"
        guard try Self.mountTmpfs(logDir) else { return }
        defer { Self.unmount(logDir) }
        guard let flood = try Self.buildFlood(in: f.workspace) else { return }
        // Four pages for the spill reservation, one for the log: run.start fits, the denials do not.
        try Self.fill(logDir, leavingPages: 5)

        guard let r = try f.run([flood], extra: ["--grace", "1s"]) else { return }
        #expect(r.status == 122, "\(r.stderr)")
        #expect(r.stderr.contains("stopping the agent"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: f.workspace + "/started"))
        let before = Self.records(f.log)
        let runID = try #require(before.first?["run"] as? String)
        // run.start and (small, it may fit) identity.token, then nothing: the denials did not fit.
        #expect(before.map { $0["kind"] as? String }.filter { $0 != "identity.token" } == ["run.start"])
        let spill = f.log + ".spill-" + runID
        let spilled = try String(contentsOfFile: spill, encoding: .utf8)
        #expect(spilled.contains("\"kind\":\"deny.syscall\"") && spilled.contains("\"kind\":\"run.exit\""), "\(spilled)")
        #expect(spilled.contains("\"stopped_by\":\"audit failure\""))

        try FileManager.default.removeItem(atPath: logDir + "/filler")
        guard let next = try f.run(["true"]) else { return }
        #expect(next.status == 0, "\(next.stderr)")
        let after = Self.records(f.log)
        let firstRun = after.filter { $0["run"] as? String == runID }.map { $0["kind"] as? String }
        #expect(firstRun.first == "run.start" && firstRun.contains("recovery.spill") && firstRun.last == "run.exit", "\(firstRun)")
        #expect(firstRun.filter { $0 == "deny.syscall" }.count >= 1)
        #expect(!FileManager.default.fileExists(atPath: spill))
        guard let v = try WardenBinary.run(["audit", "verify", f.log]) else { return }
        #expect(v.status == 3, "intact, unsigned: \(v.stdout)\(v.stderr)")
    }

    /// An I/O error on the log's device (EIO from fdatasync, injected into `warden` with an
    /// LD_PRELOAD shim that fails only the audit log's descriptor after its first syncs): the
    /// run fails closed exactly as on a full disk, and the next run recovers every record.
    @Test func ioErrorOnTheLogStopsTheAgentAndNothingIsLost() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        guard let flood = try Self.buildFlood(in: f.workspace) else { return }
        let shim = f.dir + "/eio.so"
        try """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <errno.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>
        static int syncs;
        int fdatasync(int fd) {
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0) { target[n] = 0; if (strstr(target, "/audit.jsonl") && !strstr(target, "spill") && ++syncs > 2) { errno = EIO; return -1; } }
            int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
            return real(fd);
        }
        """.write(toFile: shim + ".c", atomically: true, encoding: .utf8)
        let cc = try CLISupport.run("/usr/bin/cc", ["-shared", "-fPIC", "-o", shim, shim + ".c", "-ldl"])
        guard cc.status == 0 else { print("skip: cannot build the EIO shim: \(cc.stderr)"); return }
        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = shim
        guard let r = try WardenBinary.run(["run", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", f.workspace,
                                            "--audit-log", f.log, "-q", "--", flood], environment: env) else { return }
        #expect(r.status == 122, "\(r.stderr)")
        #expect(r.stderr.contains("stopping the agent") && r.stderr.contains("Input/output error"), "\(r.stderr)")
        let runID = try #require(Self.records(f.log).first?["run"] as? String)
        let spill = f.log + ".spill-" + runID
        #expect(FileManager.default.fileExists(atPath: spill), "nothing kept for later")
        // Without the fault, the next run appends what was kept; the chain verifies.
        guard let next = try f.run(["true"]) else { return }
        #expect(next.status == 0, "\(next.stderr)")
        let firstRun = Self.records(f.log).filter { $0["run"] as? String == runID }.map { $0["kind"] as? String }
        #expect(firstRun.contains("recovery.spill") && firstRun.last == "run.exit", "\(firstRun)")
        guard let v = try WardenBinary.run(["audit", "verify", f.log]) else { return }
        #expect(v.status == 3, "intact, unsigned: \(v.stdout)\(v.stderr)")
    }

    /// `--on-audit-failure pause`: the agent is frozen while the log's disk is full and
    /// resumes once there is room; it finishes, and every record reaches the log.
    @Test func pauseModeFreezesTheAgentUntilTheLogHasRoom() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let logDir = f.dir + "/audit"
        // Room, once the filler is gone, for the 16 flushes of eight records each.
        guard try Self.mountTmpfs(logDir, size: "256k") else { return }
        defer { Self.unmount(logDir) }
        guard let flood = try Self.buildFlood(in: f.workspace, rounds: 2_000) else { return }
        try Self.fill(logDir, leavingPages: 5)
        let bg = try RunSignalsCLITests.Background(
            ["run", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", f.workspace,
             "--audit-log", f.log, "--on-audit-failure", "pause", "--", flood])
        guard bg.wait(for: "the pause", { bg.output.contains("paused") }) else { _ = bg.finish(); return }
        #expect(!bg.output.contains("done"), "frozen before it could finish")
        try FileManager.default.removeItem(atPath: logDir + "/filler")
        let output = bg.output
        let status = bg.finish()
        #expect(status == 0, "\(output)")
        let kinds = Self.records(f.log).map { $0["kind"] as? String ?? "?" }
        #expect(kinds.first == "run.start" && kinds.contains("recovery.spill") && kinds.last == "run.exit", "\(kinds)")
        let exit = Self.records(f.log).last?["fields"] as? [String: Any]
        let counted = (exit?["denials"] as? [String: Any])?["deny.syscall"] as? Int
        let recorded = Self.records(f.log).filter { $0["kind"] as? String == "deny.syscall" }
            .compactMap { ($0["fields"] as? [String: Any])?["count"] as? Int }.reduce(0, +)
        #expect(counted == recorded && recorded > 0, "every denial counted in run.exit is in the log")
    }

    /// Disk full before the run: run.start cannot be written, so the agent never starts.
    @Test func fullAuditDiskAtStartLaunchesNothing() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let logDir = f.dir + "/audit"
        guard try Self.mountTmpfs(logDir) else { return }
        defer { Self.unmount(logDir) }
        try Self.fill(logDir, leavingPages: 0)
        guard let r = try f.run(["/bin/sh", "-c", "touch started"]) else { return }
        #expect(r.status == 125, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.workspace + "/started"))
    }
}
