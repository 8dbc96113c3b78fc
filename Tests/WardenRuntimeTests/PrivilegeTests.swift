import Foundation
import Testing
@testable import WardenRuntime

@Suite("Capabilities, no_new_privs, rlimits")
struct PrivilegeTests {
    @Test func rootAgentEndsWithNoCapabilities() throws {
        let probe = try #require(Fixture.probe)
        if geteuid() != 0 { print("skip: needs root to show a root agent losing its capabilities"); return }
        let dir = try Fixture.tempDir("caps")
        _ = FileManager.default.createFile(atPath: dir + "/f", contents: Data())
        var spec = isolated([probe, "status", dir + "/f", dir])
        spec.capabilities = CapabilitySets.none
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(kv[key] == "0000000000000000", "\(key) in \(text)")
        }
        #expect(kv["NoNewPrivs"] == "1", "\(text)")
        #expect(kv["chown"] == "errno:\(EPERM)", "\(text)")
        #expect(kv["mount"] == "errno:\(EPERM)", "\(text)")
        // NOROOT|NOROOT_LOCKED|KEEP_CAPS_LOCKED|NO_CAP_AMBIENT_RAISE|..._LOCKED
        #expect(kv["securebits"] == "ok:227", "\(text)")
    }

    @Test func fileCapabilitiesGiveNothingBack() throws {
        // A binary with file capabilities (cap_chown,cap_sys_admin+ep) run by the agent
        // gains nothing: the bounding set is empty and no_new_privs is set.
        let probe = try #require(Fixture.probe)
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/setcap") else {
            print("skip: needs root and setcap"); return
        }
        let dir = try Fixture.tempDir("fcaps")
        let exe = dir + "/capprobe"
        try FileManager.default.copyItem(atPath: probe, toPath: exe)
        let (st, log) = try Fixture.sh("/usr/sbin/setcap", ["cap_chown,cap_sys_admin+ep", exe])
        guard st == 0 else { print("skip: setcap failed here: \(log)"); return }
        _ = FileManager.default.createFile(atPath: dir + "/f", contents: Data())
        var spec = isolated([exe, "status", dir + "/f", dir])
        spec.capabilities = CapabilitySets.none
        let (report, kv, text) = try runCapturing(spec)
        if case .launchFailed(let f) = report.outcome {
            // The kernel refuses to exec a "+e" binary whose capabilities cannot all be
            // granted (bounding set empty): EPERM, exit 126.
            #expect(f.stage == .exec && f.errno == EPERM, "\(f)")
            #expect(report.outcome.exitCode == 126)
        } else {
            #expect(report.outcome == .exited(0), "\(report.outcome)")
            #expect(kv["CapEff"] == "0000000000000000", "\(text)")
            #expect(kv["CapPrm"] == "0000000000000000", "\(text)")
            #expect(kv["chown"] == "errno:\(EPERM)", "\(text)")
        }
        // Control: outside the sandbox the same binary does get them.
        let (_, out) = try Fixture.sh("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", exe, "status", dir + "/f", dir])
        #expect(out.contains("CapEff=0000000000200001"), "\(out)")
    }

    @Test func keptCapabilityIsTheOnlyOne() throws {
        let probe = try #require(Fixture.probe)
        if geteuid() != 0 { print("skip: needs root"); return }
        let dir = try Fixture.tempDir("caps")
        _ = FileManager.default.createFile(atPath: dir + "/f", contents: Data())
        var spec = isolated([probe, "status", dir + "/f", dir])
        spec.capabilities = .keeping([0]) // CAP_CHOWN
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["CapEff"] == "0000000000000001", "\(text)")
        #expect(kv["CapBnd"] == "0000000000000001", "\(text)")
        #expect(kv["chown"] == "ok:0", "\(text)")
        #expect(kv["mount"] == "errno:\(EPERM)", "\(text)")
    }

    @Test func withoutCapabilityLayerRootKeepsThem() throws {
        // Control for the test above: the probe does see capabilities when none are dropped.
        let probe = try #require(Fixture.probe)
        if geteuid() != 0 { print("skip: needs root"); return }
        let dir = try Fixture.tempDir("caps")
        _ = FileManager.default.createFile(atPath: dir + "/f", contents: Data())
        let (_, kv, text) = try runCapturing(isolated([probe, "status", dir + "/f", dir]))
        #expect(kv["CapEff"] != "0000000000000000", "\(text)")
    }

    @Test func noNewPrivsIsAlwaysSet() throws {
        let probe = try #require(Fixture.probe)
        let dir = try Fixture.tempDir("nnp")
        let (_, kv, text) = try runCapturing(isolated([probe, "status", dir, dir]))
        #expect(kv["NoNewPrivs"] == "1", "\(text)")
    }

    @Test func rlimitsAreApplied() throws {
        let probe = try #require(Fixture.probe)
        var spec = isolated([probe, "rlimit"])
        spec.resourceLimits = [.openFiles(17)]
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0))
        #expect(kv["nofile"] == "17/17", "\(text)")
    }

    @Test func impossibleRlimitNamesTheStage() {
        var spec = isolated(["/bin/true"])
        spec.resourceLimits = [ResourceLimit(resource: 7, soft: 100, hard: 10)] // soft > hard: EINVAL
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected failure, got \(out)"); return }
        #expect(f.stage == .rlimit)
        #expect(f.errno == EINVAL)
        #expect(f.index == 0)
    }
}
