import Foundation
import Testing
import WardenPolicy
import WardenServe
@testable import WardenForgeAPI
import WardenTestSupport

/// GitHub team membership through the real HTTP client against a fake GitHub API on
/// loopback (Tests/ExportChecks/fake_github_api.py), which records every request: member,
/// not a member, pending, and every answer that is not one (403, 500, redirect, huge,
/// slow, not JSON, no state) refused as an error; the cache; path encoding; the options.
@Suite("GitHub team lookups", .serialized) final class GitHubTeamsTests {
    static let token = "ghs_fake-token-0123456789"
    let dir: String
    var server: Process?

    init() throws {
        dir = NSTemporaryDirectory() + "warden-gh-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit {
        if let server, server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    var requestsPath: String { dir + "/requests.jsonl" }

    /// Starts the fake API; returns its URL.
    func start() throws -> String {
        let config: [String: Any] = ["requests": requestsPath, "token": Self.token,
                                     "teams": ["acme/engineers": ["alice": "active", "penny": "pending", "a/b?c": "active"]]]
        let (process, url) = try FakePeer.start(script: Self.root + "/Tests/ExportChecks/fake_github_api.py", config: config, configPath: dir + "/fake.json")
        server = process
        return url
    }

    func client(_ url: String, token: String = GitHubTeamsTests.token, timeout: Int64 = 5000) throws -> GitHubTeamsClient {
        let file = dir + "/token"
        try (token + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        var settings = GitHubTeamsClient.Settings(address: try GitHubAPIAddress(url), tokenFile: file)
        settings.requestTimeoutMilliseconds = timeout
        return try GitHubTeamsClient(settings: settings)
    }

    func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: requestsPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func team(_ s: String) -> TriggerGlob { try! TriggerGlob.parse(s, caseInsensitive: true).get() }

    func ask(_ c: GitHubTeamsClient, _ login: String, _ team: String = "acme/engineers", deadline: Int64 = .max) -> TeamAnswer {
        c.check(login: login, forge: .github, team: Self.team(team), deadline: deadline)
    }

    static func failed(_ a: TeamAnswer, _ words: String) -> Bool {
        if case .failed(let reason) = a { return reason.contains(words) }
        return false
    }

    @Test func membersNonMembersAndEveryOtherAnswer() throws {
        let c = try client(try start())
        #expect(ask(c, "alice") == .member(teams: ["acme/engineers"], cached: false))
        #expect(ask(c, "ALICE", "Acme/Engineers") == .member(teams: ["acme/engineers"], cached: true), "the cache ignores case")
        #expect(ask(c, "mallory") == .notMember(cached: false))
        #expect(ask(c, "penny") == .notMember(cached: false), "a pending invitation is not membership")
        #expect(ask(c, "alice", "acme/other") == .notMember(cached: false))
        let forbidden = ask(c, "forbidden"), broken = ask(c, "broken"), moved = ask(c, "moved")
        let huge = ask(c, "huge"), garbled = ask(c, "garbled"), stateless = ask(c, "stateless")
        #expect(Self.failed(forbidden, "403") && Self.failed(forbidden, "read:org"), "\(forbidden)")
        #expect(Self.failed(broken, "answered 500"), "\(broken)")
        #expect(Self.failed(moved, "302") && Self.failed(moved, "not followed"), "\(moved)")
        #expect(Self.failed(huge, "larger than 65536 bytes"), "\(huge)")
        #expect(Self.failed(garbled, "not a membership"), "\(garbled)")
        #expect(Self.failed(stateless, "not a membership"), "\(stateless)")
        // Errors are not cached: asked again, asked again of the API.
        let before = requests().count
        #expect(Self.failed(ask(c, "broken"), "500"))
        #expect(requests().count == before + 1)
        // The redirect was not followed: nothing went to its Location.
        let all = requests()
        #expect(all.allSatisfy { ($0["path"] as? String)?.hasPrefix("/orgs/") == true }, "\(all)")
        #expect(all.allSatisfy { $0["authorization"] as? String == "Bearer " + Self.token })
        #expect(all.allSatisfy { $0["accept"] as? String == "application/vnd.github+json" && $0["api_version"] as? String == "2022-11-28" })
    }

    @Test func answersAreCachedAndTheCacheIsBounded() throws {
        let c = try client(try start())
        for _ in 0..<3 {
            _ = ask(c, "alice")
            _ = ask(c, "mallory")
        }
        let paths = requests().compactMap { $0["path"] as? String }
        #expect(paths == ["/orgs/acme/teams/engineers/memberships/alice", "/orgs/acme/teams/engineers/memberships/mallory"], "\(paths)")
        // Expiry and bounds, on the cache itself.
        let cache = MembershipCache(memberSeconds: 1, nonMemberSeconds: 2, capacity: 3)
        let k = { (l: String) in MembershipCache.Key(team: "acme/eng", login: l) }
        cache.store(k("a"), member: true, now: 0)
        cache.store(k("b"), member: false, now: 0)
        #expect(cache.answer(k("a"), now: 999) == true && cache.answer(k("a"), now: 1000) == nil)
        #expect(cache.answer(k("b"), now: 1999) == false && cache.answer(k("b"), now: 2000) == nil)
        for i in 0..<100 { cache.store(k("u\(i)"), member: i % 2 == 0, now: 5000 + Int64(i)) }
        #expect(cache.count == 3)
        #expect(cache.answer(k("u99"), now: 5100) == false && cache.answer(k("u0"), now: 5100) == nil, "the oldest went first")
    }

    @Test func aSlowAPIFailsTheLookupInBoundedTime() throws {
        let url = try start()
        let c = try client(url, timeout: 1000)
        let started = Date()
        let slow = ask(c, "slow")
        let took = Date().timeIntervalSince(started)
        #expect(Self.failed(slow, "did not answer within"), "\(slow)")
        #expect(took < 5, "took \(took) s")
        // The delivery's deadline cuts a lookup shorter than the client's own limit.
        let c2 = try client(url, timeout: 30_000)
        let t2 = Date()
        let cut = ask(c2, "slow", deadline: Int64(Date().timeIntervalSince1970 * 1000) + 800)
        #expect(Self.failed(cut, "did not answer within") && Date().timeIntervalSince(t2) < 5, "\(cut)")
        // A deadline already past: no request at all.
        let before = requests().count
        #expect(Self.failed(ask(c2, "nobody", deadline: 0), "no time left"))
        #expect(requests().count == before)
    }

    @Test func pathSegmentsAreEncodedAndBadInputIsAnError() throws {
        let c = try client(try start())
        // A login from a payload cannot add a segment or a query to the path.
        #expect(ask(c, "a/b?c") == .member(teams: ["acme/engineers"], cached: false))
        #expect(ask(c, "..") == .notMember(cached: false))
        // The policy's team as written in another case: asked in lowercase (slugs are lowercase).
        #expect(ask(c, "Carol", "ACME/Engineers") == .notMember(cached: false))
        let paths = requests().compactMap { $0["path"] as? String }
        #expect(paths == ["/orgs/acme/teams/engineers/memberships/a%2Fb%3Fc", "/orgs/acme/teams/engineers/memberships/%2E%2E",
                          "/orgs/acme/teams/engineers/memberships/Carol"], "\(paths)")
        #expect(Self.failed(ask(c, "alice", "acme/*"), "is a pattern"))
        #expect(Self.failed(ask(c, "alice", "acme"), "not a GitHub team"))
        #expect(Self.failed(ask(c, "alice", "acme/eng/x"), "not a GitHub team"))
        #expect(Self.failed(c.check(login: "alice", forge: .gitlab, team: Self.team("acme/eng"), deadline: .max), "only for GitHub"))
        #expect(requests().count == 3, "none of those was asked")
    }

    @Test func aWrongTokenAndAnUnreachableAPIAreErrors() throws {
        let url = try start()
        let wrong = try client(url, token: "ghs_not-the-right-one")
        #expect(Self.failed(ask(wrong, "alice"), "401"))
        // The token is read again for each lookup: a rotated one is used at once.
        try (Self.token + "\n").write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        chmod(dir + "/token", 0o600)
        #expect(ask(wrong, "alice") == .member(teams: ["acme/engineers"], cached: false))
        // A token file others can read: an error, and the token is in no message.
        chmod(dir + "/token", 0o644)
        let open = ask(wrong, "bob")
        #expect(Self.failed(open, "chmod 600"), "\(open)")
        if case .failed(let reason) = open { #expect(!reason.contains(Self.token)) }
        let down = try client("http://127.0.0.1:1")
        #expect(Self.failed(ask(down, "alice"), "cannot be reached"))
    }

    @Test func theOptionsAreChecked() throws {
        let good = ["https://api.github.com", "https://ghe.example.org/api/v3/", "http://127.0.0.1:8080", "http://[::1]:9", "http://localhost"]
        for u in good { #expect(throws: Never.self, "\(u)") { try GitHubAPIAddress(u) } }
        #expect(try GitHubAPIAddress("https://ghe.example.org/api/v3/").base == "https://ghe.example.org/api/v3")
        let bad = ["ftp://api.github.com", "http://api.github.com", "http://10.0.0.1", "https://user:pw@api.github.com",
                   "https://api.github.com/?x=1", "https://api.github.com/#f", "https://", "https://api.github.com:99999",
                   "https://api.github.com/a b", "http://127.0.0.1.evil.example"]
        for u in bad { #expect(throws: GitHubTeamsError.self, "\(u)") { try GitHubAPIAddress(u) } }
        #expect(GitHubAPIAddress.github.membershipURL(org: "acme", slug: "eng", login: "x y")
                == "https://api.github.com/orgs/acme/teams/eng/memberships/x%20y")
        // The token file is checked when the source is made.
        #expect { try GitHubTeamsClient(settings: .init(tokenFile: self.dir + "/missing")) } throws: { "\($0)".contains("--github-token-file") }
        try "\n".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        chmod(dir + "/empty", 0o600)
        #expect { try GitHubTeamsClient(settings: .init(tokenFile: self.dir + "/empty")) } throws: { "\($0)".contains("does not hold a token") }
    }
}
