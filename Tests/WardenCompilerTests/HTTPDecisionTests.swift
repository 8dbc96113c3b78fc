import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy

/// `decideHTTP`, `decideGitPush`, brokered endpoints, secret binding, and what HTTP rules
/// imply for DNS, connects and the network plan.
@Suite struct HTTPDecisionTests {
    static let policy = """
    warden 1
    secret gh from env "WARDEN_GH"
    secret key from file "/etc/warden/key"
    secret unused from env "WARDEN_UNUSED"
    identity agent {
      allow https GET, HEAD "api.github.com/**" with bearer gh
      allow https POST "api.github.com/repos/acme/app/pulls" with bearer gh
      allow https POST "api.github.com/repos/acme/app/issues/*/comments" with bearer gh
      allow https GET, POST "github.com/acme/app.git/**" with basic "x-access-token" gh
      allow https * "api.example.com/v*/**" with header "x-api-key" key
      allow http GET "mirror.internal:8080/simple/**"
      deny  https DELETE "api.github.com/**"
      deny  https GET "api.github.com/admin/**"
      allow git push "github.com/acme/app" ref "refs/heads/agent/**"
      deny  git push "github.com/acme/app" ref "refs/heads/agent/locked"
      env placeholder GH_TOKEN = gh
    }
    identity offline {
      allow fs read "/usr"
    }
    """

    func target(_ method: String, _ url: String) throws -> HTTPTarget {
        HTTPTarget(method: method, url: try HTTPURL.parse(url).get())
    }

    @Test func allowsWithInjectionsAndProvenance() throws {
        let p = try effective(Self.policy)
        let d = p.decideHTTP(try target("POST", "https://api.github.com/repos/acme/app/pulls?draft=1"))
        #expect(d.decision.effect == .allow)
        #expect(d.injections == [HeaderInjection(headerName: "Authorization", form: .bearer, secret: "gh")])
        #expect(d.decision.rules.map(\.location) == ["/p/main.warden:7:20"])
        #expect(d.conflict == nil)
        let basic = p.decideHTTP(try target("POST", "https://github.com/acme/app.git/git-receive-pack"))
        #expect(basic.decision.effect == .allow)
        #expect(basic.injections.first?.form == .basic(user: "x-access-token"))
        #expect(basic.decision.note?.contains("git push") == true)
        let header = p.decideHTTP(try target("PATCH", "https://api.example.com/v2/things/1"))
        #expect(header.injections == [HeaderInjection(headerName: "x-api-key", form: .header, secret: "key")])
        #expect(p.decideHTTP(try target("GET", "https://api.example.com/x/things")).decision.effect == .deny)
    }

    @Test func denyWinsAndDefaultDeny() throws {
        let p = try effective(Self.policy)
        let del = p.decideHTTP(try target("DELETE", "https://api.github.com/repos/acme/app"))
        #expect(del.decision.effect == .deny)
        #expect(del.decision.rules.map(\.location) == ["/p/main.warden:12:22"])
        #expect(del.injections.isEmpty)
        #expect(p.decideHTTP(try target("GET", "https://api.github.com/admin/x")).decision.effect == .deny)
        let none = p.decideHTTP(try target("POST", "https://api.github.com/repos/acme/other/pulls"))
        #expect(none.decision.isDefaultDeny)
        // Methods compare exactly; hosts case-insensitively with the trailing dot dropped.
        #expect(p.decideHTTP(HTTPTarget(scheme: .https, method: "get", host: "api.github.com", port: 443, path: "/")).decision.effect == .deny)
        #expect(p.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "API.GitHub.COM.", port: 443, path: "/user")).decision.effect == .allow)
        // Scheme and port are part of the match.
        #expect(p.decideHTTP(try target("GET", "http://api.github.com/user")).decision.effect == .deny)
        #expect(p.decideHTTP(try target("GET", "https://api.github.com:8443/user")).decision.effect == .deny)
        #expect(p.decideHTTP(try target("GET", "http://mirror.internal:8080/simple/requests/")).decision.effect == .allow)
        #expect(p.decideHTTP(try target("GET", "http://mirror.internal/simple/requests/")).decision.effect == .deny)
        // A path that does not start with `/` is refused.
        #expect(p.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "api.github.com", port: 443, path: "*")).decision.effect == .deny)
    }

    /// A deny cannot be sidestepped by a spelling the server treats alike: escaped
    /// unreserved characters, letter case, a trailing slash; git push denies ignore case.
    @Test func denySpellingsAreNormalised() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow https * "api.github.com/**"
          deny  https DELETE "api.github.com/repos/acme/app"
          allow git push "github.com/acme/app" ref "refs/heads/**"
          deny  git push "github.com/acme/app" ref "refs/heads/main"
        }
        """)
        for path in ["/repos/acme/app", "/repos/acme/%61pp", "/repos/ACME/App", "/repos/acme/app/", "/repos/acme/%2561pp".replacingOccurrences(of: "%25", with: "%")] {
            let d = p.decideHTTP(HTTPTarget(scheme: .https, method: "DELETE", host: "api.github.com", port: 443, path: path))
            #expect(d.decision.effect == .deny, "\(path)")
        }
        #expect(p.decideHTTP(HTTPTarget(scheme: .https, method: "DELETE", host: "api.github.com", port: 443, path: "/repos/acme/app2")).decision.effect == .allow)
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/ACME/App.git", ref: "refs/heads/main").effect == .deny)
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/%61pp", ref: "refs/heads/main").effect == .deny)
        // An allow matches exactly: another spelling is refused, never widened.
        let q = try effective("warden 1\nidentity agent {\n  allow https GET \"x.example.com/Data/%7euser\"\n}\n")
        #expect(q.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "x.example.com", port: 443, path: "/Data/~user")).decision.effect == .allow)
        #expect(q.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "x.example.com", port: 443, path: "/data/~user")).decision.effect == .deny)
        #expect(q.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "x.example.com", port: 443, path: "/Data/~user/")).decision.effect == .deny)
    }

    @Test func conflictingInjectionsRefuse() throws {
        let p = try effective("""
        warden 1
        secret a from env "A"
        secret b from env "B"
        identity agent {
          allow https GET "x.example.com/**" with bearer a
          allow https GET "x.example.com/api/**" with bearer b
          allow https GET "x.example.com/same/**" with bearer a
        }
        """)
        let d = p.decideHTTP(try target("GET", "https://x.example.com/api/v1"))
        #expect(d.decision.effect == .deny)
        #expect(d.conflict?.contains("main.warden:5") == true && d.conflict?.contains("main.warden:6") == true)
        #expect(d.injections.isEmpty)
        // The same injection from two rules is one injection, not a conflict.
        let same = p.decideHTTP(try target("GET", "https://x.example.com/same/x"))
        #expect(same.decision.effect == .allow && same.injections.count == 1)
    }

    @Test func gitPushDecisions() throws {
        let p = try effective(Self.policy)
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/app.git", ref: "refs/heads/agent/x").effect == .allow)
        #expect(p.decideGitPush(host: "GitHub.com.", port: 443, repoPath: "acme/app", ref: "refs/heads/agent/a/b").effect == .allow)
        let locked = p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/app", ref: "refs/heads/agent/locked")
        #expect(locked.effect == .deny && locked.rules.map(\.location) == ["/p/main.warden:15:44"])
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/app", ref: "refs/heads/main").isDefaultDeny)
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/other", ref: "refs/heads/agent/x").effect == .deny)
        #expect(p.decideGitPush(host: "github.com", port: 443, repoPath: "/acme/app", ref: "refs/heads/agent/../main").effect == .deny)
        #expect(p.decideGitPush(host: "evil.com", port: 443, repoPath: "/acme/app", ref: "refs/heads/agent/x").effect == .deny)
    }

    @Test func secretsEndpointsAndBinding() throws {
        let p = try effective(Self.policy)
        #expect(p.secrets.map(\.name) == ["gh", "key"])
        #expect(p.secrets.first?.source == .env("WARDEN_GH"))
        #expect(p.placeholders.map(\.variable) == ["GH_TOKEN"])
        #expect(p.brokeredEndpoints.map(\.description) == ["https://api.github.com:443", "https://github.com:443", "https://api.example.com:443", "http://mirror.internal:8080"])
        #expect(p.brokeredScheme(host: "API.github.com.", port: 443) == .https)
        #expect(p.brokeredScheme(host: "mirror.internal", port: 8080) == .http)
        #expect(p.brokeredScheme(host: "mirror.internal", port: 443) == nil)
        #expect(p.brokeredScheme(host: "example.com", port: 443) == nil)
        #expect(p.secretHosts("gh").map(\.description) == ["https://api.github.com:443", "https://github.com:443"])
        #expect(p.secretIsBound("gh", host: "github.com", port: 443))
        #expect(!p.secretIsBound("gh", host: "api.example.com", port: 443))
        #expect(p.secretHosts("unused").isEmpty)
    }

    @Test func rulesImplyLookupsConnectsAndMediation() throws {
        let p = try effective(Self.policy)
        #expect(p.isNetworkMediated)
        #expect(p.hasDomainRules)
        #expect(!p.namespaces.contains("network"))
        #expect(p.decideLookup("api.github.com").effect == .allow)
        #expect(p.decideLookup("evil.com").effect == .deny)
        let connect = p.decideNet(.connect, .tcp, try Endpoint.parse("api.github.com:443").get())
        #expect(connect.effect == .allow && connect.mechanism.hasPrefix("broker"))
        #expect(p.decideNet(.connect, .tcp, try Endpoint.parse("api.github.com:22").get()).effect == .deny)
        let plan = try p.enforcementPlan(arch: .x86_64, notify: true).plan
        #expect(plan.network.mode == "mediated")
        #expect(plan.broker?.secrets.map(\.name) == ["gh", "key"])
        #expect(plan.broker?.secrets.first?.from == ["WARDEN_GH"])
        #expect(plan.json().contains("\"injects\" : \"Authorization: bearer gh\""))
        // An identity without HTTP rules keeps its own network namespace and no broker section.
        let offline = try effective(Self.policy, identity: "offline")
        #expect(!offline.isNetworkMediated && offline.namespaces.contains("network"))
        #expect(try offline.enforcementPlan(arch: .x86_64, notify: true).plan.broker == nil)
        #expect(offline.secrets.isEmpty)
    }

    @Test func denyNetConnectBeatsBrokering() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow https GET "api.github.com/**"
          deny  net connect tcp "api.github.com:443"
        }
        """)
        #expect(p.brokeredScheme(host: "api.github.com", port: 443) == nil)
        #expect(p.decideNet(.connect, .tcp, try Endpoint.parse("api.github.com:443").get()).effect == .deny)
    }

    @Test func seccompPlanUnchangedWithoutHTTPRules() throws {
        let text = "warden 1\nidentity agent {\n  allow syscall @default\n  allow fs read \"/usr\"\n}\n"
        let a = try effective(text)
        let b = try effective("warden 1\nsecret s from env \"S\"\n" + text.dropFirst("warden 1\n".count))
        #expect(a.seccompPolicy(arch: .x86_64, notify: true).rules.count == b.seccompPolicy(arch: .x86_64, notify: true).rules.count)
        #expect(a.namespaces == b.namespaces)
    }

    @Test func testRunnerDecidesHTTPAndPushExpectations() throws {
        var files: [String: String] = [:]
        files["/p/main.warden"] = Self.policy + """

        test "broker" {
          identity agent
          expect allow https POST "https://api.github.com/repos/acme/app/issues/7/comments"
          expect deny  https DELETE "https://api.github.com/repos/acme/app"
          expect allow http GET "http://mirror.internal:8080/simple/x"
          expect allow git push "github.com/acme/app" ref "refs/heads/agent/x"
          expect deny  git push "github.com/acme/app.git" ref "refs/heads/main"
          expect allow net connect tcp "github.com:443"
        }
        """
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(files)).analyze("/p/main.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        let results = try PolicyTestRunner(policy: analysis.policy).run()
        #expect(results.count == 6)
        let failed = results.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed.map(\.decision))")
    }
}

/// Exports cannot carry the broker: HTTP rules are reported as stricter, never silently dropped.
@Suite struct HTTPExportTests {
    @Test func exportsNoteHTTPRules() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  allow https GET \"api.github.com/**\"\n}\n")
        let systemd = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/w", home: "/h", tmp: "/t"))
        #expect(systemd.notes.contains { $0.message.contains("HTTP rules need Warden's broker") }, "\(systemd.notes)")
        #expect(systemd.text.contains("PrivateNetwork=yes"))
    }
}
