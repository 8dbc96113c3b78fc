import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The policy tooling people expect from Conftest, Regal or the Cedar CLI: `test` as JSON
/// and JUnit, directories, `-` for standard input everywhere, `explain --format json`,
/// `fmt --diff`, SARIF help links and severities, input bounds, the lint configuration
/// file, and `run`'s own exit statuses. Each runs the real binary.
@Suite struct PolicyToolingCLITests {
    /// One passing and one failing expectation; the failing test's name carries XML and
    /// JSON metacharacters.
    static let policy = """
        warden 1
        identity app {
          description "an app"
          allow fs read "/data"
          deny fs read "/data/secret"
        }
        test "reads data" {
          identity app
          expect allow fs read "/data/x"
        }
        test "a <b> & \\"c\\" ]]>" {
          identity app
          expect allow fs read "/data/secret/key"
        }

        """

    static func fixture(_ files: [String: String] = ["a.warden": policy]) throws -> String {
        let dir = try WardenBinary.tempDir("tooling")
        for (name, text) in files {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// Runs `warden ARGS < stdinFile` (through /bin/sh, so any size works) in `dir`.
    static func run(_ arguments: [String], stdinFile: String, in dir: String) throws -> WardenBinary.Result? {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return nil }
        return try CLISupport.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$WARDEN_STDIN\"", WardenBinary.path] + arguments,
                                  in: dir, environment: ProcessInfo.processInfo.environment.merging(["WARDEN_STDIN": stdinFile]) { _, b in b })
    }

    static func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: warden test

    @Test func testJSONIsOneDocumentForAllFiles() throws {
        let dir = try Self.fixture(["a.warden": Self.policy, "b.warden": "warden 1\nidentity b {\n  description \"b\"\n}\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["test", "--format", "json", dir + "/a.warden", dir + "/b.warden"]) else { return }
        #expect(r.status == 1, "\(r.stderr)")
        let doc = try Self.jsonObject(r.stdout)
        let files = try #require(doc["files"] as? [[String: Any]])
        #expect(files.count == 2)
        #expect(files[0]["path"] as? String == dir + "/a.warden")
        let expectations = try #require(files[0]["expectations"] as? [[String: Any]])
        #expect(expectations.count == 2)
        #expect(expectations[0]["identity"] as? String == "app")
        #expect(expectations[0]["expectation"] as? String == "expect allow fs read \"/data/x\"")
        #expect(expectations[0]["line"] as? Int == 9)
        #expect(expectations[0]["passed"] as? Bool == true)
        #expect(expectations[1]["test"] as? String == "a <b> & \"c\" ]]>")
        #expect(expectations[1]["passed"] as? Bool == false)
        let actual = try #require(expectations[1]["actual"] as? [String: Any])
        #expect(actual["decision"] as? String == "deny")
        let rules = try #require(actual["rules"] as? [[String: Any]])
        #expect(rules.first?["line"] as? Int == 5)
        #expect(rules.first?["rule"] as? String == "deny fs read \"/data/secret\"")
        #expect((files[1]["expectations"] as? [Any])?.isEmpty == true)
        let totals = try #require(doc["totals"] as? [String: Int])
        #expect(totals == ["files": 2, "passed": 1, "failed": 1, "broken": 0])
    }

    @Test func testJUnitIsValidXMLWithAFailurePerFailedExpectation() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["test", "--format", "junit", dir]) else { return }
        #expect(r.status == 1, "\(r.stderr)")
        let xml = try XMLDocument(data: Data(r.stdout.utf8))
        let root = try #require(xml.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        let suites = root.elements(forName: "testsuite")
        #expect(suites.count == 1)
        #expect(suites[0].attribute(forName: "name")?.stringValue == dir + "/a.warden")
        let cases = suites[0].elements(forName: "testcase")
        #expect(cases.count == 2)
        #expect(cases[0].elements(forName: "failure").isEmpty)
        #expect(cases[1].attribute(forName: "classname")?.stringValue == "a <b> & \"c\" ]]>")
        let failure = try #require(cases[1].elements(forName: "failure").first)
        #expect(failure.attribute(forName: "message")?.stringValue == "expected allow, but it is denied")
        #expect(failure.stringValue?.contains("deny fs read \"/data/secret\"") == true)
    }

    @Test func testJUnitCarriesPolicyErrorsAndControlCharactersSafely() throws {
        let dir = try Self.fixture(["a.warden": Self.policy.replacingOccurrences(of: "reads data", with: "reads\u{1}data"),
                                    "broken.warden": "warden 1\nidentity {\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["test", "--format", "junit", dir]) else { return }
        #expect(r.status == 1)
        // The control character is itself a policy error: a.warden does not run either.
        let xml = try XMLDocument(data: Data(r.stdout.utf8))
        let suites = try #require(xml.rootElement()).elements(forName: "testsuite")
        #expect(suites.count == 2)
        #expect(suites.allSatisfy { $0.attribute(forName: "errors")?.stringValue == "1" })
        #expect(!r.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func testWalksDirectoriesLikeLint() throws {
        let dir = try Self.fixture(["a.warden": Self.policy, "b.warden": Self.policy.replacingOccurrences(of: "\"/data/secret/key\"", with: "\"/data/y\"")])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["test", dir]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.hasSuffix("3 passed, 1 failed\n"), "\(r.stdout)")
        let empty = try WardenBinary.tempDir("tooling-empty")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        guard let e = try WardenBinary.run(["test", empty]) else { return }
        #expect(e.status == 2)
        #expect(e.stderr.contains("no *.warden files in this directory"))
    }

    @Test func testExitCodes() throws {
        let dir = try Self.fixture(["ok.warden": Self.policy.replacingOccurrences(of: "\"/data/secret/key\"", with: "\"/data/y\"")])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let ok = try WardenBinary.run(["test", "--format", "json", dir + "/ok.warden"]),
              let missing = try WardenBinary.run(["test", "--format", "json", dir + "/ok.warden", dir + "/nosuch.warden"]) else { return }
        #expect(ok.status == 0)
        #expect(missing.status == 2)
        let doc = try Self.jsonObject(missing.stdout)
        #expect((doc["totals"] as? [String: Int])?["broken"] == 1)
    }

    // MARK: standard input

    @Test func everyPolicyCommandReadsStandardInput() throws {
        let dir = try Self.fixture(["a.warden": Self.policy, "base.warden": "warden 1\npermissions data {\n  allow fs read \"/data\"\n}\n",
                                    "uses.warden": "warden 1\ninclude \"base.warden\"\nidentity u {\n  description \"u\"\n  use data\n}\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.warden"
        guard let lint = try Self.run(["lint", "-"], stdinFile: a, in: dir),
              let test = try Self.run(["test", "--format", "json", "-"], stdinFile: a, in: dir),
              let explain = try Self.run(["explain", "-", "--fs", "read", "/data/secret/x"], stdinFile: a, in: dir),
              let compile = try Self.run(["compile", "-"], stdinFile: a, in: dir),
              let diff = try Self.run(["diff", "-", a], stdinFile: a, in: dir),
              let diffOld = try Self.run(["diff", a, "-"], stdinFile: dir + "/uses.warden", in: dir),
              let fmt = try Self.run(["fmt", "-"], stdinFile: a, in: dir),
              let include = try Self.run(["explain", "-", "--fs", "read", "/data/x"], stdinFile: dir + "/uses.warden", in: dir) else { return }
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(test.status == 1)
        #expect((try Self.jsonObject(test.stdout)["files"] as? [[String: Any]])?.first?["path"] as? String == "<stdin>")
        #expect(explain.status == 1)
        #expect(explain.stdout.contains("<stdin>:5:16: deny fs read \"/data/secret\""), "\(explain.stdout)")
        #expect(compile.status == 0, "\(compile.stderr)")
        #expect(compile.stdout.contains("\"identity\""))
        #expect(diff.status == 0, "\(diff.stderr)")
        // OLD names identity app, NEW (stdin) names u: a new identity widens.
        #expect(diffOld.status == 1, "\(diffOld.stderr)")
        #expect(fmt.status == 0)
        // The include of a policy on standard input resolves against the current directory.
        #expect(include.status == 0, "\(include.stderr)")
        #expect(include.stdout.contains("base.warden:3:17: allow fs read"), "\(include.stdout)")
    }

    @Test func standardInputIsBoundedAndHostileInputFailsCleanly() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 20 MiB of NUL bytes (over the 16 MiB bound), binary garbage, deep nesting.
        let zeros = dir + "/zeros"
        #expect(FileManager.default.createFile(atPath: zeros, contents: nil))
        #expect(truncate(zeros, 20 << 20) == 0)
        var garbage = [UInt8](repeating: 0, count: 4096)
        for i in garbage.indices { garbage[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        #expect(FileManager.default.createFile(atPath: dir + "/garbage", contents: Data(garbage)))
        try ("warden 1\n" + String(repeating: "identity a {\n", count: 50_000)).write(toFile: dir + "/deep", atomically: true, encoding: .utf8)
        for command in [["lint", "-"], ["test", "-"], ["explain", "-", "--syscall", "ptrace"], ["compile", "-"], ["fmt", "-"]] {
            guard let big = try Self.run(command, stdinFile: zeros, in: dir),
                  let bin = try Self.run(command, stdinFile: dir + "/garbage", in: dir),
                  let deep = try Self.run(command, stdinFile: dir + "/deep", in: dir) else { return }
            #expect(big.status == 2, "\(command)")
            #expect(big.stderr.contains("<stdin>: larger than"), "\(command): \(big.stderr)")
            #expect(bin.status == 2, "\(command): \(bin.stderr)")
            #expect(bin.stderr.contains("<stdin>: not valid UTF-8 text"), "\(command)")
            #expect(deep.status == 1 || deep.status == 2, "\(command)")
            // Bounded by the checker's 1,000 errors per file, each with a bounded excerpt.
            #expect(deep.stderr.utf8.count + deep.stdout.utf8.count < 1 << 20, "\(command): \(deep.stderr.utf8.count) bytes of stderr")
        }
    }

    @Test func standardInputMayBeGivenOnlyOnceAndNeverAsTheRunPolicy() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.warden"
        guard let twice = try Self.run(["lint", "-", "-"], stdinFile: a, in: dir),
              let both = try Self.run(["diff", "-", "-"], stdinFile: a, in: dir),
              let run = try Self.run(["run", "--policy", "-", "--", "true"], stdinFile: a, in: dir) else { return }
        #expect(twice.status == 2)
        #expect(both.status == 2)
        #expect(run.status == 125)
        #expect(run.stderr.contains("`-` (standard input) cannot be the policy here"))
    }
}
