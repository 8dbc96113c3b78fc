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
