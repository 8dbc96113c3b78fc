import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// `Run`, the library behind `warden run`: every check that must pass before an agent may
/// start happens in `init`, for any front end; nothing is left behind when one fails.
@Suite struct RunAPITests {
    private func request(workspace: String, log: String) throws -> RunRequest {
        let path = Fixture.packageRoot + "/policies/default.warden"
        let analysis = try PolicyLoader().analyze(path)
        let name = try EffectivePolicy.selectIdentity(nil, in: analysis.policy)
        let effective = try EffectivePolicy(policy: analysis.policy, identity: name)
        return RunRequest(policyPath: path, policy: analysis.policy, effective: effective, command: ["true"],
                          workspace: workspace, auditLogPath: log, wardenVersion: "test")
    }

    /// The run directories of run `id` under /tmp.
    private func runDirectories(of id: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("warden-\(id)-") }
    }

    @Test func anAuditLogTheAgentCouldWriteIsRefusedBeforeAnythingStarts() throws {
        let ws = try Fixture.tempDir("api-ws")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        #expect {
            _ = try Run(try request(workspace: ws, log: ws + "/audit.jsonl"), host: .current())
        } throws: { error in
            (error as? RunSetupError)?.message.contains("(audit trail) is writable") == true
        }
        #expect(!FileManager.default.fileExists(atPath: ws + "/audit.jsonl"), "the log was not even created")
    }

    @Test func aPreparedRunHoldsItsFactsAndRemovesItsDirectory() throws {
        let ws = try Fixture.tempDir("api-ws")
        let logDir = try Fixture.tempDir("api-log")
        defer {
            try? FileManager.default.removeItem(atPath: ws)
            try? FileManager.default.removeItem(atPath: logDir)
        }
        // A PATH inside the agent's world: an entry missing there would be warned about.
        var host = HostFacts.current()
        host.environment["PATH"] = "/usr/bin:/bin"
        var run: Run? = try Run(try request(workspace: ws, log: logDir + "/audit.jsonl"), host: host)
        let id = try #require(run?.runID)
        #expect(runDirectories(of: id).count == 1)
        #expect(run?.startInfo.workspace == HostFacts.realDirectory(ws))
        #expect(run?.startInfo.enforcedLayers == Run.enforcedLayers)
        #expect(run?.startInfo.extra["policy_writable_by_agent"] == .bool(false))
        #expect(run?.warnings.isEmpty == true)
        run = nil
        #expect(runDirectories(of: id).isEmpty, "removed with the value")
    }
}
