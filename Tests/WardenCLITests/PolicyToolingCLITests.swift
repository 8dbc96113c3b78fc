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

    // MARK: explain --format json

    @Test func explainJSONIsOneDocumentWithTheDecidingRule() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let deny = try WardenBinary.run(["explain", "--format", "json", dir + "/a.warden", "--fs", "read", "/data/secret/x"]),
              let allow = try WardenBinary.run(["explain", "--format", "json", dir + "/a.warden", "--syscall", "read"]) else { return }
        #expect(deny.status == 1)
        let doc = try Self.jsonObject(deny.stdout)
        #expect(doc["verdict"] as? String == "deny")
        #expect(doc["identity"] as? String == "app")
        let decision = try #require(doc["decision"] as? [String: Any])
        let rule = try #require((decision["rules"] as? [[String: Any]])?.first)
        #expect(rule["file"] as? String == dir + "/a.warden")
        #expect(rule["line"] as? Int == 5)
        #expect(decision["mechanism"] as? String != nil)
        #expect(allow.status == 1 || allow.status == 0)
        #expect((try Self.jsonObject(allow.stdout))["allowed"] as? Bool == (allow.status == 0))
    }

    // MARK: fmt --diff

    @Test func fmtDiffIsAUnifiedDiffThatPatchApplies() throws {
        let messy = "warden 1\nidentity   app {\n description \"x\"\n  allow fs read \"/data\"\n}\n# end"
        let dir = try Self.fixture(["m.warden": messy])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let diff = try WardenBinary.run(["fmt", "--diff", dir + "/m.warden"]),
              let formatted = try WardenBinary.run(["fmt", dir + "/m.warden"]) else { return }
        #expect(diff.status == 1)
        #expect(diff.stdout.hasPrefix("--- \(dir)/m.warden\n+++ \(dir)/m.warden (formatted)\n@@ -1,6 +1,7 @@\n"), "\(diff.stdout)")
        #expect(diff.stdout.contains("-identity   app {\n"))
        #expect(diff.stdout.contains("\\ No newline at end of file\n"))
        // The diff turns the file into exactly what `fmt` prints.
        try diff.stdout.write(toFile: dir + "/m.diff", atomically: true, encoding: .utf8)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/patch") {
            let p = try CLISupport.run("/usr/bin/patch", ["-s", dir + "/m.warden", dir + "/m.diff"])
            #expect(p.status == 0, "\(p.stderr)")
            #expect(try String(contentsOfFile: dir + "/m.warden", encoding: .utf8) == formatted.stdout)
        } else {
            try formatted.stdout.write(toFile: dir + "/m.warden", atomically: true, encoding: .utf8)
        }
        guard let clean = try WardenBinary.run(["fmt", "--diff", dir + "/m.warden"]),
              let both = try WardenBinary.run(["fmt", "--diff", "--check", dir + "/m.warden"]) else { return }
        #expect(clean.status == 0)
        #expect(clean.stdout.isEmpty)
        #expect(both.status == 2)
    }

    // MARK: SARIF

    @Test func sarifRulesHaveHelpLinksAndGraduatedSeverities() throws {
        let dir = try Self.fixture(["a.warden": Self.policy, "b.warden": Self.policy + "identity more {\n  description \"m\"\n  allow capability SYS_ADMIN\n}\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let lint = try WardenBinary.run(["lint", "--format", "sarif", dir + "/a.warden"]),
              let diff = try WardenBinary.run(["diff", "--format", "sarif", dir + "/a.warden", dir + "/b.warden"]) else { return }
        func rules(_ text: String) throws -> [[String: Any]] {
            let run = try #require((try Self.jsonObject(text)["runs"] as? [[String: Any]])?.first)
            return try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        }
        var scores: Set<String> = []
        for rule in try rules(lint.stdout) {
            let id = try #require(rule["id"] as? String)
            #expect((rule["helpUri"] as? String)?.hasSuffix("/docs/lint.md#" + id) == true, "\(id)")
            if let s = (rule["properties"] as? [String: Any])?["security-severity"] as? String { scores.insert(s) }
        }
        #expect(scores.contains("9.0") && scores.contains("1.0") && scores.count >= 5, "\(scores)")
        #expect(diff.status == 1)
        for rule in try rules(diff.stdout) {
            #expect((rule["helpUri"] as? String)?.hasSuffix("/docs/review.md#domains") == true)
            #expect((rule["properties"] as? [String: Any])?["security-severity"] as? String != nil)
        }
    }

    // MARK: input limits

    @Test func hugeOneLinePoliciesFailFastWithBoundedMemoryAndStderr() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 300 MB, sparse: refused by size without reading it.
        let huge = dir + "/huge.warden"
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 300 << 20) == 0)
        // 15 MiB on one line (under the file bound): refused by the line bound.
        let line = dir + "/line.warden"
        try ("warden 1\nidentity a { description \"" + String(repeating: "x", count: 15 << 20) + "\" }\n").write(toFile: line, atomically: true, encoding: .utf8)
        for file in [huge, line] {
            for command in [["lint"], ["fmt"], ["test"], ["compile"], ["explain", "--syscall", "read"] as [String]] {
                let args = [command[0], file] + command.dropFirst()
                let start = Date()
                guard let (r, timedOut) = try PolicyInputCLITests.run(args, seconds: 30, memoryMiB: 512) else { return }
                #expect(!timedOut)
                #expect(Date().timeIntervalSince(start) < 10, "\(args)")
                #expect(r.status == 2, "\(args): \(r.stderr)")
                #expect(r.stderr.utf8.count < 2048, "\(args): \(r.stderr.utf8.count) bytes of stderr")
                #expect(r.stdout.utf8.count < 2048, "\(args)")
            }
        }
        guard let (l, _) = try PolicyInputCLITests.run(["lint", line]) else { return }
        #expect(l.stderr.contains("line.warden: line 2 is longer than 64 KiB, the limit for one line of a policy"), "\(l.stderr)")
    }

    @Test func longLinesUnderTheBoundShowABoundedExcerpt() throws {
        let long = "warden 1\nidentity a {\n  description \"" + String(repeating: "y", count: 30_000) + "\" bogus\n}\n"
        let dir = try Self.fixture(["l.warden": long])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["lint", dir + "/l.warden"]) else { return }
        #expect(r.status == 1)
        let excerpts = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("yyyy") }
        #expect(!excerpts.isEmpty)
        #expect(excerpts.allSatisfy { $0.count <= 170 && $0.contains("...") }, "\(excerpts.map(\.count))")
    }

    // MARK: lint configuration

    @Test func lintConfigurationIsFoundUpToTheRepositoryRoot() throws {
        let noisy = "warden 1\nidentity app {\n  description \"d\"\n}\n"  // no-limits only
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repo = dir + "/repo"
        for sub in ["/.git", "/policies/team", "/vendor"] {
            try FileManager.default.createDirectory(atPath: repo + sub, withIntermediateDirectories: true)
        }
        try noisy.write(toFile: repo + "/policies/team/a.warden", atomically: true, encoding: .utf8)
        try noisy.write(toFile: repo + "/vendor/v.warden", atomically: true, encoding: .utf8)
        // Above the repository root: never read.
        try "this is = not [valid".write(toFile: dir + "/.warden-lint.toml", atomically: true, encoding: .utf8)
        guard let none = try WardenBinary.run(["lint", "--strict", repo + "/policies/team"]) else { return }
        #expect(none.status == 1, "\(none.stderr)")
        #expect(none.stdout.contains("warning[no-limits]"))

        try "ignore = [\"vendor/*\"]\n\n[rules]\nno-limits = \"error\"\n".write(toFile: repo + "/.warden-lint.toml", atomically: true, encoding: .utf8)
        guard let upgraded = try WardenBinary.run(["lint", repo + "/policies/team", repo + "/vendor"]) else { return }
        #expect(upgraded.status == 1)
        #expect(upgraded.stdout.contains("policies/team/a.warden:2:10: error[no-limits]"), "\(upgraded.stdout)")
        #expect(!upgraded.stdout.contains("v.warden"))

        try "[rules]\nno-limits = \"off\"\n".write(toFile: repo + "/policies/.warden-lint.toml", atomically: true, encoding: .utf8)
        guard let nearest = try WardenBinary.run(["lint", "--strict", repo + "/policies/team/a.warden"]),
              let ignoredNot = try WardenBinary.run(["lint", "--strict", "--no-config", repo + "/policies/team/a.warden"]),
              let explicit = try WardenBinary.run(["lint", "--strict", "--config", repo + "/.warden-lint.toml", repo + "/policies/team/a.warden"]),
              let stdin = try Self.run(["lint", "--strict", "-"], stdinFile: repo + "/policies/team/a.warden", in: repo + "/policies") else { return }
        #expect(nearest.status == 0, "\(nearest.stdout)\(nearest.stderr)")
        #expect(ignoredNot.status == 1)
        #expect(explicit.status == 1)
        #expect(explicit.stdout.contains("error[no-limits]"))
        // Standard input looks from the current directory (policies/: no-limits off).
        #expect(stdin.status == 0, "\(stdin.stdout)\(stdin.stderr)")
    }

    @Test func badLintConfigurationIsAnErrorWithFileAndLine() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
        let cases: [(String, String)] = [
            ("[rules]\nno-limit = \"off\"\n", ".warden-lint.toml:2: unknown lint rule `no-limit`"),
            ("\n[rules]\nno-limits = \"loud\"\n", ".warden-lint.toml:3: `no-limits` = \"loud\": expected \"off\", \"warning\" or \"error\""),
            ("colour = \"red\"\n", ".warden-lint.toml:1: unknown key `colour`"),
            ("[lint]\n", ".warden-lint.toml:1: unknown table `[lint]`"),
        ]
        for (text, message) in cases {
            try text.write(toFile: dir + "/.warden-lint.toml", atomically: true, encoding: .utf8)
            guard let r = try WardenBinary.run(["lint", dir + "/a.warden"]) else { return }
            #expect(r.status == 2, "\(text)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
        // Huge, binary, NUL bytes, a FIFO: refused, never hanging.
        let config = dir + "/.warden-lint.toml"
        try FileManager.default.removeItem(atPath: config)
        #expect(FileManager.default.createFile(atPath: config, contents: Data([0x5B, 0xFF, 0x00, 0xFE])))
        guard let binary = try WardenBinary.run(["lint", dir + "/a.warden"]) else { return }
        #expect(binary.status == 2 && binary.stderr.contains("not valid UTF-8"), "\(binary.stderr)")
        #expect(truncate(config, 1 << 30) == 0)
        guard let huge = try WardenBinary.run(["lint", dir + "/a.warden"]) else { return }
        #expect(huge.status == 2 && huge.stderr.contains("larger than 64 KiB"), "\(huge.stderr)")
        try FileManager.default.removeItem(atPath: config)
        #expect(mkfifo(config, 0o600) == 0)
        guard let (fifo, timedOut) = try PolicyInputCLITests.run(["lint", dir + "/a.warden"], seconds: 20) else { return }
        #expect(!timedOut)
        #expect(fifo.status == 2, "\(fifo.stderr)")
        guard let both = try WardenBinary.run(["lint", "--config", config, "--no-config", dir + "/a.warden"]) else { return }
        #expect(both.status == 2)
    }

    // MARK: warden run's own exit statuses

    @Test func runUsageErrorsExit125NotAnAgentStatus() throws {
        let dir = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policy = dir + "/a.warden"
        let cases: [[String]] = [
            ["run", "--policy", policy, "--timeout", "abc", "--", "true"],
            ["run", "--policy", policy, "--grace", "-1", "--", "true"],
            ["run", "--policy", policy],
            ["run", "--policy", policy, "--no-such-flag", "--", "true"],
            ["run", "--", "true"],
            ["run", "--policy", policy, "--on-audit-failure", "maybe", "--", "true"],
        ]
        for args in cases {
            guard let r = try WardenBinary.run(args) else { return }
            #expect(r.status == 125, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("Usage: warden run"), "\(args): the usage of `run`, not the top level: \(r.stderr)")
        }
        // Other commands keep 2 for usage errors; help still exits 0.
        guard let lint = try WardenBinary.run(["lint", "--no-such-flag", policy]),
              let help = try WardenBinary.run(["run", "--help"]) else { return }
        #expect(lint.status == 2)
        #expect(help.status == 0)
    }
}

