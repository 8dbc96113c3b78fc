import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// The kill switch's files, and its effect on a decision.
@Suite struct KillSwitchTests {
    @Test func theStoppedIdentitiesAreTheEntriesThatCanNameOne() throws {
        let dir = StoreTempDir()
        let state = dir.file()
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let ks = KillSwitch(stateDirectory: state)
        #expect(ks.stoppedIdentities().isEmpty && !ks.paused)
        try FileManager.default.createDirectory(atPath: ks.directory, withIntermediateDirectories: true)
        for name in ["reviewer", "fixer.v2", ".hidden", "with space", "évian"] {
            _ = FileManager.default.createFile(atPath: ks.directory + "/" + name, contents: nil)
        }
        try FileManager.default.createDirectory(atPath: ks.directory + "/dir-too", withIntermediateDirectories: true)
        #expect(ks.stoppedIdentities() == ["reviewer", "fixer.v2", "dir-too"])
        _ = FileManager.default.createFile(atPath: ks.pausePath, contents: nil)
        #expect(ks.paused)
    }

    @Test func aDecisionLosesTheLaunchesOfStoppedIdentities() throws {
        let text = """
        warden 1
        identity a {
          allow fs read "/usr"
        }
        identity b {
          allow fs read "/usr"
        }
        trigger ta {
          identity a
          on manual
          by "alice"
          run "true"
        }

        """
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        let one = TriggerAuthorizer(triggers: analysis.policy.triggers).decide(.manual("ta", by: TriggerEvent.LocalUser(name: "alice")))
        #expect(one.allowed, "\(one.reason)")
        #expect(one.holding([]) == one)
        #expect(one.holding(["b"]) == one)
        let held = one.holding(["a"])
        #expect(!held.allowed && held.reason.contains("kill switch") && held.reason.contains("identity a"), "\(held.reason)")
    }
}
