import Foundation
import Testing
@testable import WardenRuntime

@Suite("Filesystem layers")
struct FilesystemTests {
    /// Read and execute for the system, read/write for `allowed`.
    func landlock(allowing allowed: String) -> LandlockRuleset {
        let system = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/dev"]
        return LandlockRuleset(
            handled: .supported(abi: 7),
            rules: system.map { .init(path: $0, access: [.read, .execute]) }
                + [.init(path: allowed, access: [.read, .write, .execute])])
    }

    @Test func landlockAllowsInsideAndDeniesOutside() throws {
        let probe = try #require(Fixture.probe)
        let allowed = try Fixture.tempDir("ll-in")
        let outside = try Fixture.tempDir("ll-out")
        try "inside".write(toFile: allowed + "/ok", atomically: true, encoding: .utf8)
        try "secret".write(toFile: outside + "/secret", atomically: true, encoding: .utf8)
        let exe = allowed + "/probe"
        try FileManager.default.copyItem(atPath: probe, toPath: exe)
        var spec = isolated([exe, "read", allowed + "/ok", outside + "/secret"])
        spec.landlock = landlock(allowing: allowed)
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["read0"] == "ok:6", "\(text)")
        #expect(kv["read1"] == "errno:\(EACCES)", "\(text)")
    }

    @Test func landlockDeniesExecOutside() throws {
        let probe = try #require(Fixture.probe)
        let allowed = try Fixture.tempDir("ll-in")
        var spec = isolated([probe, "fds"]) // the probe lives outside the allowed tree
        spec.landlock = landlock(allowing: allowed)
        let out = Supervisor.run(spec, timeout: .seconds(60))
        #expect(out.exitCode == 126, "\(out)")
    }

    @Test func maskedPathsReadEmptyOrMissing() throws {
        let probe = try #require(Fixture.probe)
        let dir = try Fixture.tempDir("mask")
        try FileManager.default.createDirectory(atPath: dir + "/secrets", withIntermediateDirectories: true)
        try "key".write(toFile: dir + "/secrets/id", atomically: true, encoding: .utf8)
        try "token".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        var spec = isolated([probe, "read", dir + "/secrets/id", dir + "/token"])
        spec.mounts += [.mask(dir + "/secrets"), .mask(dir + "/token"), .mask(dir + "/does-not-exist")]
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["read0"] == "errno:\(ENOENT)", "\(text)")
        #expect(kv["read1"] == "ok:0", "\(text)")
        // The host still has them.
        #expect(FileManager.default.contents(atPath: dir + "/token") == Data("token".utf8))
    }

    @Test func writesToAMaskedFileGoNowhere() throws {
        // A masked file is /dev/null: a write "succeeds" but the real file is untouched.
        let probe = try #require(Fixture.probe)
        let dir = try Fixture.tempDir("mask")
        try "token".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        var spec = isolated([probe, "write", dir + "/token"])
        spec.mounts.append(.mask(dir + "/token"))
        let (report, _, _) = try runCapturing(spec)
        #expect(report.outcome == .exited(0))
        #expect(FileManager.default.contents(atPath: dir + "/token") == Data("token".utf8))
        let (_, kv, text) = try runCapturing({ var s = isolated([probe, "read", dir + "/token"]); s.mounts.append(.mask(dir + "/token")); return s }())
        #expect(kv["read0"] == "ok:0", "\(text)")
    }

    @Test func readOnlyBindCannotBeWritten() throws {
        let probe = try #require(Fixture.probe)
        let dir = try Fixture.tempDir("ro")
        try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/rw", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/ro2", withIntermediateDirectories: true)
        var spec = isolated([probe, "write", dir + "/ro/x", dir + "/rw/x", dir + "/ro2/x"])
        spec.mounts.append(.bindReadOnly(dir + "/ro"))
        spec.mounts.append(.readOnly(dir + "/ro2")) // not a mount point: bound first
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0))
        #expect(kv["write0"] == "errno:\(EROFS)", "\(text)")
        #expect(kv["write1"] == "ok:1", "\(text)")
        #expect(kv["write2"] == "errno:\(EROFS)", "\(text)")
    }

    @Test func noExecSubtreeCannotRunBinaries() throws {
        let probe = try #require(Fixture.probe)
        let dir = try Fixture.tempDir("noexec")
        try FileManager.default.createDirectory(atPath: dir + "/hooks", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: probe, toPath: dir + "/hooks/probe")
        try FileManager.default.copyItem(atPath: probe, toPath: dir + "/probe")
        // Control: the same binary runs outside the noexec subtree.
        var ok = isolated([dir + "/probe", "rlimit"])
        ok.mounts.append(.noExec(dir + "/hooks"))
        #expect(Supervisor.run(ok, timeout: .seconds(60)) == .exited(0))
        var spec = isolated([dir + "/hooks/probe", "rlimit"])
        spec.mounts.append(.noExec(dir + "/hooks"))
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected exec failure, got \(out)"); return }
        #expect(f.errno == EACCES)
        #expect(out.exitCode == 126)
        // Nor through the dynamic loader (mmap PROT_EXEC of a noexec file fails).
        let viaLoader = Supervisor.run(isolated(["/bin/sh", "-c", "for l in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do [ -e $l ] && exec $l \(dir)/hooks/probe rlimit; done; exit 99"]) .withMount(.noExec(dir + "/hooks")), timeout: .seconds(60))
        #expect(viaLoader != .exited(0), "\(viaLoader)")
    }

    @Test func privateTmpfsIsEmptyAndLeavesNoTrace() throws {
        let dir = try Fixture.tempDir("tmpfs")
        try "host".write(toFile: dir + "/host-file", atomically: true, encoding: .utf8)
        var spec = isolated(["/bin/sh", "-c", "test ! -e \(dir)/host-file && echo agent > \(dir)/agent-file"])
        spec.mounts.append(.tmpfs(dir))
        let out = Supervisor.run(spec, timeout: .seconds(60))
        #expect(out == .exited(0))
        #expect(!FileManager.default.fileExists(atPath: dir + "/agent-file"))
    }
}

extension LaunchSpec {
    func withMount(_ m: MountOperation) -> LaunchSpec { var s = self; s.mounts.append(m); return s }
}
