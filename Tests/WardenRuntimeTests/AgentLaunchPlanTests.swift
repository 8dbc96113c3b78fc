import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// How a policy identity becomes a concrete launch.
@Suite struct AgentLaunchPlanTests {
    func plan(_ text: String, workspace: String, home: String = "/nonexistent-home",
              env: [String: String] = ["PATH": "/usr/bin:/bin", "HOME": "/h", "SECRET_TOKEN": "s"],
              bestEffort: Bool = false) throws -> AgentLaunchPlan {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics.map(\.message))")
        let effective = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        return try AgentLaunchPlan(effective: effective, command: ["/bin/true"],
                                   bindings: PathBindings(workspace: workspace, home: home, tmp: workspace + "/tmp"),
                                   environment: env, notify: true, cgroupUsable: false, bestEffort: bestEffort)
    }

    @Test func environmentIsOnlyWhatThePolicyPassesOrSets() throws {
        let ws = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let p = try plan("""
        warden 1
        identity agent {
          env pass PATH, NOT_SET
          env set CI = "true"
        }
        """, workspace: ws)
        // The run's temporary directory is the agent's /tmp.
        #expect(p.spec.environment == ["PATH=/usr/bin:/bin", "CI=true", "TMPDIR=/tmp"])
    }

    @Test func denyInsideWritableTreeIsABindAndTheLogInsideIsWritable() throws {
        let ws = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        try FileManager.default.createDirectory(atPath: ws + "/.git/hooks", withIntermediateDirectories: true)
        let p = try plan("""
        warden 1
        identity agent {
          allow fs read, write "${workspace}"
          deny fs write "${workspace}/.git/hooks", "${workspace}/.git/config"
        }
        """, workspace: ws)
        #expect(p.spec.mounts.contains(.bindReadOnly(ws + "/.git/hooks")))
        // A protected path missing at launch gets a placeholder (made by the run) and its deny.
        #expect(p.placeholders == [ws + "/.git/config"])
        #expect(p.spec.mounts.contains(.bindReadOnly(ws + "/.git/config")))
        #expect(p.unprotectedPaths.isEmpty)
        #expect(p.spec.buildsRoot && p.spec.mounts.contains(.grant(path: ws, source: ws, writable: true, exec: false)))
        #expect(p.agentCanWrite(ws + "/audit.jsonl"))
        #expect(p.agentCanWrite(ws + "/deep/new/dir/audit.jsonl"))
        #expect(!p.agentCanWrite(ws + "/.git/hooks/audit.jsonl"))
        #expect(!p.agentCanWrite("/var/log/warden/audit.jsonl"))
    }

    /// A key directory is out of reach only when no grant is it, holds it, or lies inside it:
    /// a grant of one file in it is enough to read that file.
    @Test func aGrantInsideADirectoryReachesIt() throws {
        let ws = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let keys = ws + "/keys", other = ws + "/other"
        for d in [keys, other, ws + "/keysake", ws + "/work"] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        for f in [keys + "/current", keys + "/k.key"] { try "x".write(toFile: f, atomically: true, encoding: .utf8) }
        func reach(_ grant: String) throws -> Bool {
            try plan("warden 1\nidentity agent {\n  allow fs read \"\(grant)\"\n}\n", workspace: ws + "/work").agentCanReach(keys)
        }
        #expect(try reach(keys + "/current"))
        #expect(try reach(keys + "/k.key"))
        #expect(try reach(keys))
        #expect(try reach(ws))
        #expect(try !reach(other))
        #expect(try !reach(ws + "/keysake"), "a sibling sharing the prefix is not inside")
        // Through a link: the grant resolves inside the directory.
        try FileManager.default.createSymbolicLink(atPath: ws + "/alias", withDestinationPath: keys + "/k.key")
        #expect(try reach(ws + "/alias"))
    }

    @Test func noNetRulesMeansANetworkNamespaceAndNoCapabilities() throws {
        let ws = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let none = try plan("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n", workspace: ws)
        #expect(none.spec.namespaces.contains(.network))
        #expect(none.spec.capabilities == CapabilitySets.none)
        #expect(none.spec.seccompListener)
    }

    @Test func limitsBecomeRlimitsWithoutCgroups() throws {
        let ws = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let text = """
        warden 1
        identity agent {
          limit processes 64
          limit open-files 100
          limit wall-time 90s
        }
        """
        let p: AgentLaunchPlan
        if geteuid() == 0 {
            // RLIMIT_NPROC does not bind uid 0: without a pids controller the limit cannot be
            // enforced, which is an error unless best effort (then it is a skipped layer).
            #expect(throws: AgentLaunchError.self) { try plan(text, workspace: ws) }
            p = try plan(text, workspace: ws, bestEffort: true)
            #expect(p.skipped.contains { $0.contains("limit processes 64") })
        } else {
            p = try plan(text, workspace: ws)
            #expect(p.skipped.isEmpty)
        }
        #expect(p.spec.resourceLimits.contains(.processes(64)))
        #expect(p.spec.resourceLimits.contains(.openFiles(100)))
        #expect(p.spec.resourceLimits.contains(.coreSize(0)))
        #expect(p.spec.namespaces.contains(.user), "RLIMIT_NPROC counts per user inside the agent's own user namespace")
        #expect(p.wallTime == .seconds(90))
    }
}

@Suite struct RunDirectoryTests {
    @Test func removalNeverFollowsSymlinksOut() throws {
        let outside = try Fixture.tempDir("outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        FileManager.default.createFile(atPath: outside + "/keep", contents: Data("x".utf8))
        guard let dir = RunDirectory.create(runID: "test") else { Issue.record("mkdtemp failed"); return }
        try FileManager.default.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/a/b/link", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: dir + "/dirlink", withDestinationPath: outside)
        #expect(RunDirectory.remove(dir))
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(FileManager.default.fileExists(atPath: outside + "/keep"))
    }
}
