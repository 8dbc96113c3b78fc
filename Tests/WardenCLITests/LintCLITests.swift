import Foundation
import Testing

@Suite struct LintCLITests {
    static let golden = "Tests/WardenPolicyTests/Golden/"

    @Test func cleanPolicyExitsZero() throws {
        guard let r = try WardenBinary.run(["lint", "policies/default.warden"]) else { return }
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("0 errors"))
    }

    @Test func directoryArgumentLintsEveryPolicy() throws {
        guard let r = try WardenBinary.run(["lint", "policies"]) else { return }
        #expect(r.status == 0, "\(r.stdout)")
    }

    @Test func errorsExitOneWithGnuStyleLocations() throws {
        guard let r = try WardenBinary.run(["lint", Self.golden + "mistakes.warden"]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.contains(Self.golden + "mistakes.warden:3:17: error[relative-path]: path `usr` is not absolute\n"))
        #expect(r.stdout.contains("  help: did you mean `tools`?\n"))
        // 14 checker errors, plus lint warnings (unused-permissions, missing-description).
        #expect(r.stderr.contains("14 errors, 2 warnings"))
    }

    @Test func jsonFormat() throws {
        guard let r = try WardenBinary.run(["lint", "--format", "json", Self.golden + "mistakes.warden"]) else { return }
        #expect(r.status == 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        let list = try #require(parsed)
        #expect(list.filter { $0["severity"] as? String == "error" }.count == 14)
        #expect(list.count == 16)
        let first = try #require(list.first { $0["severity"] as? String == "error" })
        #expect(first["code"] as? String == "relative-path")
        #expect(first["line"] as? Int == 3 && first["column"] as? Int == 17)
        #expect(first["endColumn"] as? Int == 22)
    }

    @Test func jsonForCleanPolicyIsEmptyArray() throws {
        guard let r = try WardenBinary.run(["lint", "--format", "json", "policies/default.warden"]) else { return }
        #expect(r.status == 0)
        #expect(r.stdout == "[]\n")
    }

    @Test func missingFileExitsTwo() throws {
        guard let r = try WardenBinary.run(["lint", "no/such/policy.warden"]) else { return }
        #expect(r.status == 2)
        #expect(r.stderr.contains("no/such/policy.warden: no such file"))
    }

    @Test func usageErrorsExitTwo() throws {
        guard let bad = try WardenBinary.run(["lint", "--format", "xml", "policies/default.warden"]),
              let none = try WardenBinary.run(["lint"]) else { return }
        #expect(bad.status == 2)
        #expect(none.status == 2)
    }
}
