import Foundation
import Testing

/// Triggers through the real binary: `warden test` expectations, `warden explain --trigger`
/// (text and JSON), `warden lint` findings, `warden fmt`, and hostile event words.
@Suite struct TriggerCLITests {
    static let policy = """
        warden 1
        secret hook-key from file "/etc/warden/hook-key"
        identity reviewer {
          description "fixture"
          allow fs read "/usr"
          limit wall-time 1m
        }
        trigger review-prs {
          identity reviewer
          on github pull_request opened, synchronize
          repository "acme/*"
          branch "main"
          by "alice", team "acme/security"
          secret hook-key
          run "review", "--pr"
        }
        trigger by-hand {
          identity reviewer
          on manual
          by group "devs"
          run "review"
        }
        test "launch authorization" {
          identity reviewer
          expect allow trigger github pull_request opened "acme/app" branch "main" by "alice"
          expect deny  trigger github pull_request opened "acme/app" branch "main" by "mallory"
          expect allow trigger manual by-hand by "carol" group "devs"
        }

        """

    func write(_ text: String) throws -> (dir: String, path: String) {
        let dir = try WardenBinary.tempDir("triggers")
        try text.write(toFile: dir + "/p.warden", atomically: true, encoding: .utf8)
        return (dir, dir + "/p.warden")
    }

    @Test func testPassesAndFailingExpectationsPrintTheReason() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let ok = try WardenBinary.run(["test", path]) else { return }
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("3 passed, 0 failed"), "\(ok.stdout)")

        let failing = Self.policy.replacingOccurrences(of: "expect deny  trigger github pull_request opened \"acme/app\" branch \"main\" by \"mallory\"",
                                                       with: "expect allow trigger github pull_request opened \"acme/app\" branch \"main\" by \"mallory\"")
        let (dir2, path2) = try write(failing)
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        guard let bad = try WardenBinary.run(["test", path2]) else { return }
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("\(path2):26:3: FAIL: launch authorization: expected allow trigger github pull_request opened \"acme/app\" branch \"main\" by \"mallory\", but it is denied"), "\(bad.stdout)")
        #expect(bad.stdout.contains("decided by: \(path2):13:3: trigger review-prs: by"), "\(bad.stdout)")
        #expect(bad.stdout.contains("note: sender 'mallory' is not in trigger review-prs's by list (line 13)"), "\(bad.stdout)")

        guard let json = try WardenBinary.run(["test", "--format", "json", path2]) else { return }
        #expect(json.stdout.contains("\"mechanism\":\"launch authorization\"") || json.stdout.contains("\"mechanism\": \"launch authorization\""), "\(json.stdout)")
    }

    @Test func explainTriggerTextAndJSON() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let allow = try WardenBinary.run(["explain", path, "--trigger", "github", "pull_request", "opened", "acme/app", "branch", "main", "by", "alice"]) else { return }
        #expect(allow.status == 0, "\(allow.stderr)")
        #expect(allow.stdout.hasPrefix("ALLOW: trigger github pull_request opened \"acme/app\" branch \"main\" by \"alice\""), "\(allow.stdout)")
        #expect(allow.stdout.contains("decided by: \(path):8:9: trigger review-prs"), "\(allow.stdout)")
        #expect(allow.stdout.contains("launches: trigger review-prs as identity reviewer: run \"review\" \"--pr\" in workspace clone"), "\(allow.stdout)")

        guard let deny = try WardenBinary.run(["explain", path, "--trigger", "manual", "by-hand", "by", "mallory", "group", "users,staff"]) else { return }
        #expect(deny.status == 1)
        #expect(deny.stdout.contains("note: user 'mallory' is not in trigger by-hand's by list (nor are its groups 'users', 'staff') (line 20)"), "\(deny.stdout)")

        guard let json = try WardenBinary.run(["explain", path, "--format", "json", "--trigger", "github", "pull_request", "opened", "evil/app", "by", "alice"]) else { return }
        #expect(json.status == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["verdict"] as? String == "deny")
        let decision = try #require(doc["decision"] as? [String: Any])
        #expect(decision["note"] as? String == "repository 'evil/app' matches no repository pattern of trigger review-prs (line 11)")
        let rules = try #require(decision["rules"] as? [[String: Any]])
        #expect(rules.first?["line"] as? Int == 11)
        #expect((doc["launches"] as? [Any])?.isEmpty == true)
    }

    @Test func hostileEventWordsAreUsageErrorsAndEscaped() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let bad = try WardenBinary.run(["explain", path, "--trigger", "github", "pull_request"]) else { return }
        #expect(bad.status == 2, "\(bad.status) \(bad.stderr)")
        #expect(bad.stderr.contains("--trigger"), "\(bad.stderr)")
        guard let esc = try WardenBinary.run(["explain", path, "--trigger", "github", "pull_request", "opened", "acme/app", "branch", "main", "by", "evil\u{1B}[31m"]) else { return }
        #expect(esc.status == 1)
        #expect(!esc.stdout.contains("\u{1B}"), "raw escape reached the terminal")
        let huge = ["explain", path, "--trigger", "github", "pull_request", "opened", "acme/app", "team"] + (0..<1000).map { "t\($0)" }
        guard let long = try WardenBinary.run(huge) else { return }
        #expect(long.status == 2 && long.stderr.contains("longer than"), "\(long.status) \(long.stderr)")
    }

    @Test func lintAndFmtUnderstandTriggers() throws {
        let open = """
            warden 1
            identity agent {
              description "fixture"
              allow fs read "/usr"
              limit wall-time 1m
            }
            trigger  anyone {
              identity agent
              on github   issue_comment created
              repository "*/*"
              run "x"
            }
            """
        let (dir, path) = try write(open)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let lint = try WardenBinary.run(["lint", "--strict", path]) else { return }
        #expect(lint.status == 1, "\(lint.stdout)\(lint.stderr)")
        let all = lint.stdout + lint.stderr
        for id in ["trigger-without-secret", "trigger-open-to-anyone", "trigger-any-repository"] {
            #expect(all.contains(id), "\(id) missing: \(all)")
        }
        guard let fmt = try WardenBinary.run(["fmt", "--check", path]) else { return }
        #expect(fmt.status == 1)
        guard let fixed = try WardenBinary.run(["fmt", "--write", path]) else { return }
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("trigger anyone {\n  identity agent\n  on github issue_comment created\n"), "\(text)")
        guard let again = try WardenBinary.run(["fmt", "--check", path]) else { return }
        #expect(again.status == 0)
    }

    @Test func exampleTriggersLintStrictAndPassTheirTests() throws {
        let example = "examples/triggers/review-on-pull-request.warden"
        guard let lint = try WardenBinary.run(["lint", "--strict", example]) else { return }
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        guard let test = try WardenBinary.run(["test", example]) else { return }
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains(" 0 failed"), "\(test.stdout)")
        guard let fmt = try WardenBinary.run(["fmt", "--check", example]) else { return }
        #expect(fmt.status == 0, "\(fmt.stdout)\(fmt.stderr)")
    }
}
