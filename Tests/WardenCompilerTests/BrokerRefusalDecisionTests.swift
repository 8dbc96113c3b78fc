import Testing
import WardenCompiler
import WardenPolicy

/// `decideHTTP` refuses what the broker refuses whatever the rules say (`;` in a path, a
/// segment ending in `.`, TRACE/TRACK), and recognises git pushes the way the broker does,
/// so `warden explain` and policy tests agree with the broker.
@Suite struct BrokerRefusalDecisionTests {
    static let policy = """
    warden 1
    identity agent {
      allow https * "api.example.com/**"
      deny  https * "api.example.com/admin/**"
      allow https POST "github.com/acme/app.git/**"
    }
    """

    func decide(_ method: String, _ url: String) throws -> HTTPDecision {
        try effective(Self.policy).decideHTTP(HTTPTarget(method: method, url: try HTTPURL.parse(url).get()))
    }

    /// What the broker's path safety refuses, explain refuses too (red team round 2 saw
    /// explain ALLOW these while the broker answered 400).
    @Test(arguments: [
        "https://api.example.com/ok%20", "https://api.example.com/ok%09x", "https://api.example.com/a//b",
        "https://api.example.com/a%2Fb", "https://api.example.com/a%5cb", "https://api.example.com/a%25b",
    ])
    func pathsTheBrokerRefusesAreRefused(_ url: String) throws {
        guard let target = try? HTTPURL.parse(url).get() else { return } // refused even earlier
        let d = try effective(Self.policy).decideHTTP(HTTPTarget(method: "GET", url: target))
        #expect(d.decision.effect == .deny, "\(url)")
        #expect(d.decision.rules.isEmpty && d.decision.note?.contains("broker refuses") == true, "\(d.decision.note ?? "")")
    }

    @Test func ordinaryEscapesStayAllowed() throws {
        #expect(try decide("GET", "https://api.example.com/files/caf%C3%A9").decision.effect == .allow)
        #expect(try decide("GET", "https://api.example.com/a-b_c~d").decision.effect == .allow)
    }

    @Test(arguments: [
        "https://api.example.com/admin;x=1", "https://api.example.com/ok;x=1/y", "https://api.example.com/ok%3Bx",
        "https://api.example.com/ok%3bx", "https://api.example.com/;",
    ])
    func semicolonInThePathIsRefused(_ url: String) throws {
        let d = try decide("GET", url)
        #expect(d.decision.effect == .deny)
        #expect(d.decision.rules.isEmpty)
        #expect(d.decision.note?.contains("`;`") == true, "\(d.decision.note ?? "")")
        #expect(d.injections.isEmpty)
    }

    @Test(arguments: ["https://api.example.com/admin.", "https://api.example.com/ok./x", "https://api.example.com/ok../y"])
    func segmentEndingInADotIsRefused(_ url: String) throws {
        let d = try decide("GET", url)
        #expect(d.decision.effect == .deny)
        #expect(d.decision.note?.contains("ending in `.`") == true, "\(d.decision.note ?? "")")
    }

    @Test(arguments: ["TRACE", "TRACK"])
    func traceIsRefused(_ method: String) throws {
        let d = try decide(method, "https://api.example.com/x")
        #expect(d.decision.effect == .deny)
        #expect(d.decision.note?.contains(method) == true)
    }

    @Test func ordinaryPathsStillAllowed() throws {
        #expect(try decide("GET", "https://api.example.com/ok/file.json").decision.effect == .allow)
        #expect(try decide("GET", "https://api.example.com/a.b/c").decision.effect == .allow)
        #expect(try decide("GET", "https://api.example.com/x,y=1").decision.effect == .allow)
    }

    @Test(arguments: [
        ("/acme/app.git/git-receive-pack", true), ("/acme/app.git/git-receive-pack/", true),
        ("/acme/app.git/GIT-RECEIVE-PACK", true), ("/acme/app.git/Git-Receive-Pack/", true),
        ("/acme/app.git/%67it-receive-pack", true), ("/acme/app.git/git-upload-pack", false),
        ("/acme/app.git/git-receive-pack.x", false), ("/acme/app.git/git-receive-pack/x", false),
    ])
    func gitPushRecognisedLikeTheBroker(_ path: String, _ isPush: Bool) throws {
        let target = HTTPTarget(method: "POST", url: try HTTPURL.parse("https://github.com" + path).get())
        #expect(target.isGitReceivePack == isPush, "\(path)")
        #expect(!HTTPTarget(method: "GET", url: try HTTPURL.parse("https://github.com" + path).get()).isGitReceivePack)
        let d = try effective(Self.policy).decideHTTP(target)
        #expect(d.decision.effect == .allow)
        #expect((d.decision.note?.contains("git push") ?? false) == isPush, "\(path)")
    }
}
