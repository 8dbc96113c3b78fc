import Foundation
import Testing

/// `warden explain --https/--git-push`, `warden test` with broker expectations, `lint`,
/// `fmt` and `compile --emit plan` on policies with secrets and HTTP rules.
@Suite struct SecretsCLITests {
    static let policy = """
        warden 1
        secret gh from env "WARDEN_GH_TOKEN_VALUE_NAME"
        identity agent {
          description "test fixture"
          allow https GET "api.github.com/**" with bearer gh
          allow https GET, POST "github.com/acme/app.git/**" with basic "x-access-token" gh
          allow git push "github.com/acme/app" ref "refs/heads/agent/*"
          limit wall-time 1m
          env placeholder GH_TOKEN = gh
        }
        test "broker" {
          identity agent
          expect allow https GET "https://api.github.com/user"
          expect allow https POST "https://api.github.com/user"
          expect deny git push "github.com/acme/app" ref "refs/heads/main"
        }
        """

    func write(_ text: String) throws -> (dir: String, path: String) {
        let dir = try WardenBinary.tempDir("secrets")
        try text.write(toFile: dir + "/p.warden", atomically: true, encoding: .utf8)
        return (dir, dir + "/p.warden")
    }

    @Test func explainHTTPNamesRuleAndSecretNeverValue() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["WARDEN_GH_TOKEN_VALUE_NAME": "ghp_supersecretvalue123"]
        guard let r = try WardenBinary.run(["explain", path, "--https", "GET", "https://api.github.com/user?x=1"], environment: env) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("ALLOW: https GET \"https://api.github.com/user\" for identity agent"), "\(r.stdout)")
        #expect(r.stdout.contains("decided by: \(path):5:19: allow https GET \"api.github.com/**\" with bearer gh"), "\(r.stdout)")
        #expect(r.stdout.contains("injects: Authorization: Bearer from secret gh"), "\(r.stdout)")
        #expect(!r.stdout.contains("supersecret") && !r.stderr.contains("supersecret"))

        guard let basic = try WardenBinary.run(["explain", path, "--https", "POST", "https://github.com/acme/app.git/git-receive-pack"]) else { return }
        #expect(basic.status == 0)
        #expect(basic.stdout.contains("Basic (user \"x-access-token\") from secret gh"), "\(basic.stdout)")
        #expect(basic.stdout.contains("git push"), "\(basic.stdout)")

        guard let denied = try WardenBinary.run(["explain", path, "--https", "DELETE", "https://api.github.com/repos/acme/app"]) else { return }
        #expect(denied.status == 1)
        #expect(denied.stdout.hasPrefix("DENY: "))
        #expect(denied.stdout.contains("decided by: default deny"))
        #expect(!denied.stdout.contains("injects:"))
    }

    @Test func explainGitPush() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let ok = try WardenBinary.run(["explain", path, "--git-push", "github.com/acme/app.git", "refs/heads/agent/x"]) else { return }
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("decided by: \(path):7:44:"), "\(ok.stdout)")
        guard let no = try WardenBinary.run(["explain", path, "--git-push", "github.com/acme/app", "refs/heads/main"]) else { return }
        #expect(no.status == 1)
        guard let bad = try WardenBinary.run(["explain", path, "--git-push", "github.com/acme/app", "main"]) else { return }
        #expect(bad.status == 64 || bad.status == 2, "\(bad.status) \(bad.stderr)")
        guard let badURL = try WardenBinary.run(["explain", path, "--https", "GET", "ftp://x/\u{1b}[31m"]) else { return }
        #expect(badURL.status != 0 && badURL.status != 1)
        #expect(!badURL.stderr.contains("\u{1b}"), "terminal escapes must be escaped")
    }

    @Test func testCommandRunsBrokerExpectations() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["test", path]) else { return }
        #expect(r.status == 1)
        #expect(r.stdout.contains("2 passed, 1 failed"), "\(r.stdout)")
        #expect(r.stdout.contains("p.warden:14:3: FAIL: broker: expected allow https POST \"https://api.github.com/user\", but it is denied"), "\(r.stdout)")
    }

    @Test func compilePlanShowsSecretNamesAndSourcesOnly() throws {
        let (dir, path) = try write(Self.policy)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let r = try WardenBinary.run(["compile", path, "--emit", "plan"], environment: ["WARDEN_GH_TOKEN_VALUE_NAME": "ghp_supersecretvalue123"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let broker = try #require(json["broker"] as? [String: Any])
        let secrets = try #require(broker["secrets"] as? [[String: Any]])
        #expect(secrets.first?["name"] as? String == "gh")
        #expect(secrets.first?["source"] as? String == "env")
        #expect(secrets.first?["from"] as? [String] == ["WARDEN_GH_TOKEN_VALUE_NAME"])
        #expect((broker["http"] as? [Any])?.count == 2)
        #expect((broker["gitPush"] as? [Any])?.count == 1)
        #expect((broker["placeholders"] as? [[String: Any]])?.first?["variable"] as? String == "GH_TOKEN")
        #expect((json["network"] as? [String: Any])?["mode"] as? String == "mediated")
        #expect(!r.stdout.contains("supersecret"))
    }

    @Test func lintAndFmt() throws {
        let (dir, path) = try write("""
            warden 1
            secret gh from env "WARDEN_GH"
            secret spare from env "WARDEN_SPARE"
            identity agent {
              description "test fixture"
              allow https GET "*.github.com/**"   with bearer gh
              limit wall-time 1m
              env pass PATH, WARDEN_GH
            }

            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let lint = try WardenBinary.run(["lint", path]) else { return }
        for id in ["secret-unbound", "secret-env-pass", "secret-wildcard-host"] {
            #expect(lint.stdout.contains("[\(id)]") || lint.stderr.contains("[\(id)]"), "\(id): \(lint.stdout)\(lint.stderr)")
        }
        guard let fmt = try WardenBinary.run(["fmt", "--check", path]) else { return }
        #expect(fmt.status != 0)
    }
}
