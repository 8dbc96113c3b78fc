import Foundation
import Testing

/// Runs the built `warden` binary (built by `make test` before the tests run).
enum WardenBinary {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static let path = root + "/.build/debug/warden"

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// nil (with a printed reason) when the binary has not been built.
    static func run(_ arguments: [String]) throws -> Result? {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("skip: \(path) not built (run `swift build` first)")
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

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
        // Lint rules add warnings (`unused-permissions`...); the checker's 14 errors come first among errors.
        #expect(r.stdout.contains(Self.golden + "mistakes.warden:3:17: error[relative-path]: path `usr` is not absolute\n"))
        #expect(r.stdout.contains("  help: did you mean `tools`?\n"))
        #expect(r.stderr.contains("14 errors, "))
    }

    @Test func jsonFormat() throws {
        guard let r = try WardenBinary.run(["lint", "--format", "json", Self.golden + "mistakes.warden"]) else { return }
        #expect(r.status == 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        let list = try #require(parsed).filter { $0["severity"] as? String == "error" }  // lint warnings aside
        #expect(list.count == 14)
        #expect(list.first?["code"] as? String == "relative-path")
        #expect(list.first?["line"] as? Int == 3 && list.first?["column"] as? Int == 17)
        #expect(list.first?["endColumn"] as? Int == 22)
        #expect(list.first?["severity"] as? String == "error")
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
