import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// The mount steps that close the rename trick on protected paths and hide ungranted paths.
@Suite("Pinned ancestors and hidden paths")
struct PinAndHideTests {
    @Test func ancestorsBetweenTheWritableRootAndAProtectedPathArePinned() {
        let mounts: [MountOperation] = [.proc(), .bindReadOnly("/w/.git/hooks"), .bindReadOnly("/w/.git/config"), .mask("/w/a/b/secret")]
        let out = AgentLaunchPlan.pinningAncestors(of: mounts, writableRoots: ["/w", "/w/a"])
        #expect(out == [.proc(), .bind("/w/.git"), .bind("/w/a"), .bind("/w/a/b"),
                        .bindReadOnly("/w/.git/hooks"), .bindReadOnly("/w/.git/config"), .mask("/w/a/b/secret")])
    }

    @Test func nothingIsPinnedOutsideWritableTrees() {
        let mounts: [MountOperation] = [.proc(), .mask("/etc/shadow"), .bindReadOnly("/w/top")]
        #expect(AgentLaunchPlan.pinningAncestors(of: mounts, writableRoots: ["/w"]) == mounts)
    }

    @Test func pinnedDirectoryCannotBeRenamed() throws {
        // Under the real launcher: the pinned .git refuses rename with EBUSY; without the pin it moves.
        let dir = try Fixture.tempDir("pin")
        try FileManager.default.createDirectory(atPath: dir + "/.git/hooks", withIntermediateDirectories: true)
        for pinned in [true, false] {
            var spec = isolated(["/bin/sh", "-c", "mv \(dir)/.git \(dir)/.g && mv \(dir)/.g \(dir)/.git"])
            spec.mounts += (pinned ? [.bind(dir + "/.git")] : []) + [.bindReadOnly(dir + "/.git/hooks")]
            let out = Supervisor.run(spec, timeout: .seconds(60))
            #expect(out == .exited(pinned ? 1 : 0), "pinned=\(pinned): \(out)")
        }
    }

    func plan(_ text: String, workspace: String, pidsV1: Bool = false) throws -> AgentLaunchPlan {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        let effective = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        return try AgentLaunchPlan(effective: effective, command: ["/bin/true"],
                                   bindings: PathBindings(workspace: workspace, home: "/nonexistent-home", tmp: workspace + "/tmp"),
                                   environment: ["PATH": "/usr/bin:/bin"], notify: true, cgroupUsable: false,
                                   pidsV1Usable: pidsV1, bestEffort: false)
    }

    @Test func planPinsTheGitDirectoryOfAWorkspace() throws {
        let ws = try Fixture.tempDir("planpin")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        try FileManager.default.createDirectory(atPath: ws + "/.git/hooks", withIntermediateDirectories: true)
        let p = try plan("""
        warden 1
        identity agent {
          allow fs read, write "${workspace}"
          deny fs write "${workspace}/.git/hooks"
        }
        """, workspace: ws)
        let real = AgentLaunchPlan.resolve(ws) ?? ws
        let pin = try #require(p.spec.mounts.firstIndex(of: .bind(real + "/.git")))
        let ro = try #require(p.spec.mounts.firstIndex(of: .bindReadOnly(real + "/.git/hooks")))
        #expect(pin < ro)
    }

    @Test func rootUsesTheV1PidsControllerForLimitProcesses() throws {
        let ws = try Fixture.tempDir("planpids")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let text = "warden 1\nidentity agent {\n  limit processes 64\n}\n"
        let v1 = try plan(text, workspace: ws, pidsV1: true)
        if geteuid() == 0 {
            // RLIMIT_NPROC does not apply to uid 0: the cgroup v1 pids controller must, and
            // without any pids controller the limit is refused (fail closed; see
            // AgentLaunchPlanTests for best effort).
            #expect(v1.spec.cgroupLimits?.pidsMax == 64)
            #expect(!v1.spec.resourceLimits.contains(.processes(64)))
            #expect(throws: AgentLaunchError.self) { try plan(text, workspace: ws, pidsV1: false) }
        } else {
            #expect(v1.spec.resourceLimits.contains(.processes(64)))
            let rl = try plan(text, workspace: ws, pidsV1: false)
            #expect(rl.spec.resourceLimits.contains(.processes(64)))
        }
    }
}
