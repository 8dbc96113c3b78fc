import Foundation
import Testing
@testable import WardenRuntime

/// The kernel audit rules that report the mount world's refusals: installed per run, gone
/// after it, and a dead supervisor's rules are deleted by the next run.
@Suite(.serialized) struct MountAuditRulesTests {
    @Test func rulesAreInstalledRemovedAndStaleOnesDeleted() throws {
        guard geteuid() == 0 else { print("skip: audit rules need root (CAP_AUDIT_CONTROL)"); return }
        guard let rules = MountAuditRules.install() else { print("skip: this kernel refuses audit rules"); return }
        #expect(MountAuditRules.count(rules.key) == Int32(MountAuditRules.errnos.count))
        MountAuditRules.deleteStale()
        #expect(MountAuditRules.count(rules.key) == Int32(MountAuditRules.errnos.count), "a live supervisor's rules stay")
        rules.remove()
        #expect(MountAuditRules.count(rules.key) == 0)

        // A supervisor that died (SIGKILL) leaves its rules; the next run deletes them.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = try #require(MountAuditRules.install(supervisor: p.processIdentifier))
        #expect(MountAuditRules.count(dead.key) == Int32(MountAuditRules.errnos.count))
        let deleted = MountAuditRules.deleteStale()
        #expect(deleted >= Int32(MountAuditRules.errnos.count))
        #expect(MountAuditRules.count(dead.key) == 0)
    }
}
