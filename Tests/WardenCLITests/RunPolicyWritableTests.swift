import Foundation
import Testing

/// `warden run` warns when the agent can modify a file its policy includes, not only the
/// top-level file: a later run would use the modified permission sets.
@Suite("warden run: writable included policy")
struct WritableIncludedPolicyTests {
    @Test func includedFileInTheWorkspaceIsReported() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let top = try String(contentsOfFile: WardenBinary.root + "/policies/default.warden", encoding: .utf8)
            .replacingOccurrences(of: "include \"base.warden\"", with: "include \"ws/base.warden\"")
        try f.write(f.root + "/default.warden", top)
        try FileManager.default.copyItem(atPath: WardenBinary.root + "/policies/base.warden", toPath: f.workspace + "/base.warden")
        let r = try f.warden(["run", "--policy", f.root + "/default.warden", "--workspace", f.workspace,
                              "--audit-log", f.log, "--", "true"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("the agent can modify its own policy") && r.stderr.contains("ws/base.warden"), "\(r.stderr)")
        let show = try f.warden(["audit", "show", f.log, "--format", "json", "--kind", "run.start"])
        #expect(show.stdout.contains("\"policy_writable_by_agent\":true"), "\(show.stdout)")
    }
}
