import Foundation
import Testing
import WardenTestSupport

/// `by team` under `warden serve` through the real binary: with the GitHub API (a fake on
/// loopback) a member's pull request is allowed and a non-member's refused, each decision
/// recording the teams checked and their source; with the API down the delivery is refused
/// (fail closed) with a reason naming the team. With a teams file the same, and an edit is
/// in force at once while a broken edit keeps the last good version and is recorded. A
/// team trigger without a membership source stops the server at start.
@Suite("warden serve: by team", .serialized) struct ServeTeamsCLITests {
    static let trigger = """
        trigger review-prs {
          identity default
          on github pull_request opened
          repository "acme/app"
          branch "main"
          by "root-admin", team "acme/engineers"
          secret hook-key
          workspace empty
          run "true"
        }
        """

    static func head(_ n: Int) -> String { String(repeating: String(n % 10), count: 40) }

    /// The fake GitHub API (Tests/ExportChecks/fake_github_api.py): its process and URL.
    static func fakeAPI(dir: String, token: String) throws -> (Process, String) {
        let config: [String: Any] = ["requests": dir + "/gh-requests.jsonl", "token": token,
                                     "teams": ["acme/engineers": ["alice": "active", "carol": "active", "penny": "pending"]]]
        return try FakePeer.start(script: WardenBinary.root + "/Tests/ExportChecks/fake_github_api.py", config: config, configPath: dir + "/gh.json")
    }

    static func decisions(_ w: ServeCLITests.World) -> [[String: Any]] {
        w.records().filter { ($0["kind"] as? String)?.hasPrefix("trigger.") == true }.compactMap { r in
            guard var f = r["fields"] as? [String: Any] else { return nil }
            f["kind"] = r["kind"]
            return f
        }
    }

    static func checked(_ f: [String: Any]) -> [String] {
        ((f["teams_checked"] as? [[String: Any]]) ?? []).map { "\($0["team"] ?? "?"):\($0["result"] ?? "?")" }
    }

    @Test func theGitHubAPIDecidesTeamsAndADownAPIRefuses() throws {
        guard ServeCLITests.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try ServeCLITests.World(triggers: Self.trigger)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let token = "ghs_serve-test-token-42"
        try (token + "\n").write(toFile: w.dir + "/gh-token", atomically: true, encoding: .utf8)
        chmod(w.dir + "/gh-token", 0o600)
        let (api, url) = try Self.fakeAPI(dir: w.dir, token: token)
        defer { if api.isRunning { kill(api.processIdentifier, SIGKILL); api.waitUntilExit() } }
        let server = try w.start(["--github-token-file", w.dir + "/gh-token", "--github-api-url", url])
        defer { _ = server.stop() }

        let alice = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "alice", head: Self.head(1)), delivery: "t-1")
        #expect(alice.0 == 202 && alice.1.contains("allow"), "\(alice) \(server.output)")
        let mallory = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "mallory", head: Self.head(2)), delivery: "t-2")
        #expect(mallory.0 == 200 && mallory.1.contains("refuse") && mallory.1.contains("mallory"), "\(mallory)")
        let penny = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "penny", head: Self.head(3)), delivery: "t-3")
        #expect(penny.0 == 200 && penny.1.contains("refuse"), "a pending invitation is not membership: \(penny)")
        // A login the by list names: no lookup at all.
        let before = (try? String(contentsOfFile: w.dir + "/gh-requests.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
        let admin = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "root-admin", head: Self.head(4)), delivery: "t-4")
        #expect(admin.0 == 202, "\(admin)")
        let after = (try? String(contentsOfFile: w.dir + "/gh-requests.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
        #expect(before == 3 && after == 3, "\(before) \(after)")

        // The API goes down: a sender not in the cache is refused, naming the team and the error.
        kill(api.processIdentifier, SIGKILL)
        api.waitUntilExit()
        let carol = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "carol", head: Self.head(5)), delivery: "t-5")
        #expect(carol.0 == 200 && carol.1.contains("refuse") && carol.1.contains("acme/engineers") && carol.1.contains("cannot be reached"), "\(carol)")
        // A member answered within the last 5 minutes is still admitted from the cache (the
        // documented staleness), and the record says it was cached.
        let again = try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: "alice", head: Self.head(6)), delivery: "t-6")
        #expect(again.0 == 202, "\(again)")

        let d = Self.decisions(w)
        let byDelivery = Dictionary(d.compactMap { f in (f["delivery"] as? String).map { ($0, f) } }) { a, _ in a }
        let a = try #require(byDelivery["t-1"]), m = try #require(byDelivery["t-2"]), c = try #require(byDelivery["t-5"])
        #expect(a["kind"] as? String == "trigger.allow" && a["teams_source"] as? String == "github-api" && Self.checked(a) == ["acme/engineers:member"], "\(a)")
        #expect(m["kind"] as? String == "trigger.refuse" && Self.checked(m) == ["acme/engineers:not-member"], "\(m)")
        #expect((m["reason"] as? String)?.contains("'mallory' is not in trigger review-prs's by list") == true, "\(m)")
        #expect((m["reason"] as? String)?.hasSuffix("; teams checked with github-api: 'acme/engineers' (not a member)") == true, "\(m)")
        #expect(c["kind"] as? String == "trigger.refuse" && Self.checked(c) == ["acme/engineers:error"], "\(c)")
        #expect(byDelivery["t-4"]?["teams_checked"] == nil, "nothing asked, nothing recorded")
        let cached = (byDelivery["t-6"]?["teams_checked"] as? [[String: Any]])?.first
        #expect(cached?["cached"] as? Bool == true && cached?["result"] as? String == "member", "\(String(describing: cached))")
        #expect(!w.records().description.contains(token), "the token is in no record")
        #expect(!server.output.contains(token))
    }

    @Test func aTeamsFileDecidesTeamsAndIsReadAgainAfterAnEdit() throws {
        guard ServeCLITests.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try ServeCLITests.World(triggers: Self.trigger)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let teams = w.dir + "/teams"
        func write(_ text: String) throws {
            try text.write(toFile: teams, atomically: true, encoding: .utf8)
            chmod(teams, 0o644)
        }
        try write("# who is who\ngithub acme/engineers alice\n")
        let server = try w.start(["--teams", teams])
        defer { _ = server.stop() }
        var n = 0
        func pr(_ sender: String) throws -> (Int, String) {
            n += 1
            return try ServeCLITests.deliverGitHub(port: server.port, body: ServeCLITests.pullRequest(sender: sender, head: Self.head(n)), delivery: "f-\(n)")
        }
        #expect(try pr("alice").0 == 202)
        #expect(try pr("bob").1.contains("refuse"))
        try write("github acme/engineers bob\n")
        #expect(try pr("bob").0 == 202, "the edit is in force at once: \(server.output)")
        #expect(try pr("alice").1.contains("refuse"))
        // A broken edit: the last good version stays (bob), and the refusal is recorded with its line.
        try write("github acme/engineers carol\ngithub acme/* dave\n")
        #expect(try pr("bob").0 == 202)
        #expect(try pr("carol").1.contains("refuse"))
        let changes = w.records().filter { $0["kind"] as? String == "serve.teams_file" }.compactMap { $0["fields"] as? [String: Any] }
        #expect(changes.map { $0["state"] as? String ?? "" } == ["loaded", "refused"], "\(changes)")
        #expect((changes.last?["reason"] as? String)?.contains("line 2:") == true, "\(changes)")
        #expect(server.output.contains("edit refused"), "\(server.output)")
        let allowed = Self.decisions(w).filter { $0["kind"] as? String == "trigger.allow" }
        #expect(allowed.count == 3 && allowed.allSatisfy { $0["teams_source"] as? String == "file" }, "\(allowed)")
    }

    @Test func aTeamTriggerWithoutASourceDoesNotStart() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try ServeCLITests.World(triggers: Self.trigger)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let base = ["serve", "--policy", w.policy, "--listen", "127.0.0.1:0", "--state-dir", w.state, "--audit-log", w.log]
        guard let r = try WardenBinary.run(base) else { return }
        #expect(r.status == 2 && r.stderr.contains("review-prs") && r.stderr.contains("needs a membership source"), "\(r.stderr)")
        // Bad sources are refused at start with the reason.
        try "github acme\n".write(toFile: w.dir + "/bad-teams", atomically: true, encoding: .utf8)
        try "tok\n".write(toFile: w.dir + "/open-token", atomically: true, encoding: .utf8)
        chmod(w.dir + "/open-token", 0o644)
        let cases: [([String], String)] = [
            (["--teams", w.dir + "/bad-teams"], "line 1:"),
            (["--github-token-file", w.dir + "/open-token"], "chmod 600"),
            (["--github-api-url", "http://example.org"], "--github-api-url goes with --github-token-file"),
        ]
        for (extra, reason) in cases {
            guard let r = try WardenBinary.run(base + extra) else { return }
            #expect(r.status == 2 && r.stderr.contains(reason), "\(extra): \(r.status) \(r.stderr)")
        }
        chmod(w.dir + "/open-token", 0o600)
        guard let plain = try WardenBinary.run(base + ["--github-token-file", w.dir + "/open-token", "--github-api-url", "http://example.org"]) else { return }
        #expect(plain.status == 2 && plain.stderr.contains("only to a loopback host"), "\(plain.stderr)")
    }
}
