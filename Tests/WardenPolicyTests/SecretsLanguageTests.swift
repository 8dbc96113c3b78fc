import Testing
@testable import WardenPolicy

/// Secrets, http/https rules, git push rules and placeholders: syntax, checking, patterns,
/// formatting and the three lint rules.
@Suite struct SecretsLanguageTests {
    static let header = "warden 1\nsecret gh from env \"WARDEN_GH\"\n"

    // MARK: Parser

    @Test func parsesSecretItems() throws {
        let (file, diags) = parse("""
            warden 1
            secret a from env "A_TOKEN"
            secret b from file "/etc/warden/b"
            secret c from command "/usr/local/bin/mint", "--repo", "acme/app"

            """)
        #expect(diags.isEmpty, "\(diags)")
        let secrets = file.items.compactMap { item -> SecretDecl? in
            if case .secret(let d) = item { return d } else { return nil }
        }
        #expect(secrets.map(\.name.value) == ["a", "b", "c"])
        #expect(secrets.map(\.kind.value) == [.env, .file, .command])
        #expect(secrets[2].arguments.map(\.value) == ["/usr/local/bin/mint", "--repo", "acme/app"])
    }

    @Test func parsesHTTPRule() throws {
        let r = try #require(singleRule("  allow https GET, HEAD \"api.github.com/repos/*/pulls\" with basic \"x-access-token\" gh because \"push\""))
        guard case .http(let h) = r.body else { Issue.record("not http: \(r.body)"); return }
        #expect(h.scheme.value == .https)
        #expect(h.methods.map(\.value) == ["GET", "HEAD"])
        #expect(h.anyMethod == nil)
        #expect(h.value?.description == "api.github.com/repos/*/pulls")
        #expect(h.injection?.form.value == "basic")
        #expect(h.injection?.argument?.value == "x-access-token")
        #expect(h.injection?.secret.value == "gh")
        #expect(r.because?.value == "push")
    }

    @Test func parsesAnyMethodAndGitPush() throws {
        let any = try #require(singleRule("  allow http * \"mirror.internal:8080/**\""))
        guard case .http(let h) = any.body else { Issue.record("not http"); return }
        #expect(h.anyMethod?.value == "*" && h.methods.isEmpty)
        #expect(h.value?.port == 8080)
        let push = try #require(singleRule("  deny git push \"github.com/acme/app.git\" ref \"refs/heads/main\", \"refs/tags/**\""))
        guard case .gitPush(let g) = push.body else { Issue.record("not git push"); return }
        #expect(g.repoValue?.path == "acme/app")
        #expect(g.refs.map(\.value) == ["refs/heads/main", "refs/tags/**"])
    }

    @Test func parsesPlaceholderAndExpectations() throws {
        let (file, diags) = parse("""
            warden 1
            identity a {
              env placeholder GH_TOKEN = gh
            }
            test "t" {
              identity a
              expect allow https POST "https://api.github.com/repos/acme/app/pulls"
              expect deny git push "github.com/acme/app" ref "refs/heads/main"
            }

            """)
        #expect(diags.isEmpty, "\(diags)")
        guard case .envPlaceholder(let p)? = statements(file).first else { Issue.record("no placeholder"); return }
        #expect(p.name.value == "GH_TOKEN" && p.secret.value == "gh")
    }

    @Test func syntaxErrorsRecover() {
        let a = analyze(Self.header + "identity a {\n  allow https GET \"api.github.com/**\" with token gh\n  allow git pull \"github.com/a/b\" ref \"refs/heads/x\"\n  allow fs read \"/x\"\n}\n")
        #expect(locations(a.diagnostics) == ["syntax-error@4:44", "syntax-error@5:13"])
        #expect(a.policy.identities["a"]?.fsRules.count == 1)
    }

    // MARK: Checker

    @Test func checkedPolicyCarriesSecretsRulesAndPlaceholders() throws {
        let a = analyze(Self.header + """
            identity a {
              allow https GET "api.github.com/**" with bearer gh
              allow git push "github.com/acme/app" ref "refs/heads/agent/*", "refs/heads/agent/**"
              env placeholder GH_TOKEN = gh
            }

            """)
        #expect(!a.hasErrors, "\(a.diagnostics)")
        #expect(a.policy.secrets["gh"]?.source == .env("WARDEN_GH"))
        let id = try #require(a.policy.identities["a"])
        #expect(id.placeholders.map(\.variable) == ["GH_TOKEN"])
        #expect(id.placeholders.map(\.secret) == ["gh"])
        let http = id.rules.compactMap { r -> HTTPRuleAction? in if case .http(let h) = r.action { return h } else { return nil } }
        #expect(http.first?.injection == HeaderInjection(headerName: "Authorization", form: .bearer, secret: "gh"))
        #expect(id.rules.filter { if case .gitPush = $0.action { return true } else { return false } }.count == 2)
    }

    @Test func secretsAreUniqueAcrossIncludes() {
        let a = analyze("warden 1\ninclude \"lib.warden\"\nsecret gh from env \"OTHER\"\n",
                        others: ["lib.warden": "warden 1\nsecret gh from env \"WARDEN_GH\"\n"])
        #expect(locations(a.diagnostics) == ["duplicate-secret@3:8"])
        #expect(a.diagnostics.first?.notes.first?.span.file == "lib.warden")
    }

    @Test func placeholderConflictsWithSetAndPass() {
        let a = analyze(Self.header + "identity a {\n  env pass GH_TOKEN\n  env set X = \"1\"\n  env placeholder GH_TOKEN = gh\n  env placeholder X = gh\n  env placeholder bad-name = gh\n}\n")
        #expect(locations(a.diagnostics) == ["duplicate-env@6:19", "duplicate-env@7:19", "invalid-env-name@8:19"])
    }

    @Test func injectionChecks() {
        let a = analyze(Self.header + """
            identity a {
              allow https GET "a.example.com/**" with header "Content-Length" gh
              allow https GET "b.example.com/**" with basic "user:x" gh
              allow https GET "c.example.com/**" with header "x-api-key" gh
            }

            """)
        #expect(locations(a.diagnostics) == ["invalid-injection@4:50", "invalid-injection@5:49"])
    }

    @Test func secretSourcesAndNamesAreChecked() {
        let a = analyze("warden 1\nsecret Big from env \"X\"\nsecret ok from file \"/a/../b\"\nsecret c from command \"mint\"\nsecret d from env \"1X\"\n")
        #expect(locations(a.diagnostics) == ["invalid-name@2:8", "invalid-secret-source@3:21", "invalid-secret-source@4:23", "invalid-secret-source@5:19"])
    }

    @Test func mixedSchemesAcrossSetsAndWildcards() {
        let a = analyze("""
            warden 1
            permissions p {
              allow http GET "*.example.com/**"
            }
            identity a {
              use p
              allow https GET "api.example.com:80/**"
              allow http GET "other.org/**"
              allow https GET "other.org/**"
            }

            """)
        // other.org:80 (http) and other.org:443 (https) are different ports: no error.
        #expect(locations(a.diagnostics) == ["mixed-http-scheme@3:18"])
    }

    @Test func testTargetsAreChecked() {
        let a = analyze(Self.header + """
            identity a {
              allow https GET "api.github.com/**"
            }
            test "t" {
              identity a
              expect allow https get "https://api.github.com/"
              expect allow https GET "http://api.github.com/"
              expect allow https GET "ftp://api.github.com/"
              expect deny git push "github.com/acme/app" ref "main"
              expect allow https GET "https://api.github.com/user?x=1"
            }

            """)
        #expect(locations(a.diagnostics) == ["invalid-http-method@8:22", "invalid-http-pattern@9:26", "invalid-http-pattern@10:26", "invalid-ref-pattern@11:50"])
        #expect(a.policy.tests.first?.expectations.count == 1)
    }

    // MARK: Patterns

    @Test(arguments: [
        ("api.github.com/**", "/", true), ("api.github.com/**", "/a/b/c", true),
        ("api.github.com/a/**", "/a", true), ("api.github.com/a/**", "/a/b", true), ("api.github.com/a/**", "/ab", false),
        ("api.github.com/repos/*/pulls", "/repos/acme/pulls", true), ("api.github.com/repos/*/pulls", "/repos//pulls", false),
        ("api.github.com/repos/*/pulls", "/repos/a/b/pulls", false), ("api.github.com/repos/*/pulls", "/repos/acme/pulls/1", false),
        ("api.github.com/v*/x", "/v1/x", true), ("api.github.com/v*/x", "/w1/x", false), ("api.github.com/v*/x", "/v1/y/x", false),
        ("api.github.com/", "/", true), ("api.github.com/", "/a", false),
        ("api.github.com/A", "/a", false), ("api.github.com/a/*", "/a/", false), ("api.github.com/a/**", "/a/", true),
    ])
    func pathMatching(_ pattern: String, _ path: String, _ expected: Bool) throws {
        let p = try HTTPPattern.parse(pattern).get()
        #expect(p.matchesPath(path) == expected, "\(pattern) vs \(path)")
    }

    @Test(arguments: [
        "api.github.com", "https://api.github.com/x", "api.github.com//x", "api.github.com/a/../b", "api.github.com/**/x",
        "api.github.com/a**", "api.github.com/x?y=1", "*/x", "[fd00::/8]/x", "api.github.com:0/x", "api.github.com:99999/x",
        "api.github.com/a b", "exa mple.com/x", "[::1/x",
    ])
    func invalidPatterns(_ text: String) {
        guard case .failure(let e) = HTTPPattern.parse(text) else { Issue.record("accepted \(text)"); return }
        #expect(e.code == "invalid-http-pattern")
    }

    @Test func hostMatching() throws {
        let exact = try HTTPPattern.parse("API.GitHub.com./**").get()
        #expect(exact.matchesHost("api.github.com", port: 443, scheme: .https))
        #expect(exact.matchesHost("API.GITHUB.COM.", port: 443, scheme: .https))
        #expect(!exact.matchesHost("api.github.com", port: 80, scheme: .https))
        #expect(!exact.matchesHost("evil-api.github.com", port: 443, scheme: .https))
        let wild = try HTTPPattern.parse("*.example.com/**").get()
        #expect(wild.matchesHost("a.example.com", port: 443, scheme: .https))
        #expect(wild.matchesHost("a.b.example.com", port: 443, scheme: .https))
        #expect(!wild.matchesHost("example.com", port: 443, scheme: .https))
        #expect(!wild.matchesHost("badexample.com", port: 443, scheme: .https))
        let v6 = try HTTPPattern.parse("[::1]:8080/**").get()
        #expect(v6.matchesHost("::1", port: 8080, scheme: .http))
        #expect(v6.matchesHost("[0:0::1]", port: 8080, scheme: .http))
        let v4 = try HTTPPattern.parse("10.0.0.1/**").get()
        #expect(v4.matchesHost("10.0.0.1", port: 80, scheme: .http))
        #expect(!v4.matchesHost("10.0.0.2", port: 80, scheme: .http))
    }

    @Test func refPatterns() throws {
        let one = try RefPattern.parse("refs/heads/agent/*").get()
        #expect(one.matches("refs/heads/agent/x"))
        #expect(!one.matches("refs/heads/agent/x/y"))
        #expect(!one.matches("refs/heads/agent"))
        let rest = try RefPattern.parse("refs/heads/agent/**").get()
        #expect(rest.matches("refs/heads/agent/x/y"))
        #expect(rest.matches("refs/heads/agent"))
        #expect(!rest.matches("refs/heads/agentx"))
        for bad in ["main", "refs/heads/../x", "refs/heads/x.lock", "refs/heads//x", "refs/**/x", "refs/heads/a b", "refs/heads/a~1", "refs/heads/a**"] {
            guard case .failure(let e) = RefPattern.parse(bad) else { Issue.record("accepted \(bad)"); continue }
            #expect(e.code == "invalid-ref-pattern")
        }
        #expect(RefName.isValid("refs/heads/agent/fix"))
        #expect(!RefName.isValid("refs/heads/agent/fix/"))
        #expect(!RefName.isValid("refs/heads/@{x}"))
    }

    @Test func repoPatternsIgnoreDotGit() throws {
        let r = try GitRepoPattern.parse("github.com/acme/app").get()
        #expect(r.matches(host: "GitHub.com", port: 443, repoPath: "/acme/app.git"))
        #expect(r.matches(host: "github.com", port: 443, repoPath: "acme/app"))
        #expect(!r.matches(host: "github.com", port: 443, repoPath: "/acme/app2"))
        #expect(!r.matches(host: "github.com", port: 8443, repoPath: "/acme/app"))
        #expect((try? GitRepoPattern.parse("*.github.com/acme/app").get()) == nil)
        #expect((try? GitRepoPattern.parse("github.com/acme/*").get()) == nil)
    }

    @Test func urls() throws {
        let u = try HTTPURL.parse("https://API.github.com./repos/acme?x=1#f").get()
        #expect(u.scheme == .https && u.host == "api.github.com" && u.port == 443 && u.path == "/repos/acme")
        let v = try HTTPURL.parse("http://[::1]:8080").get()
        #expect(v.host == "::1" && v.port == 8080 && v.path == "/")
        #expect(v.description == "http://[::1]:8080/")
        for bad in ["ftp://x/", "https://user:pw@x/", "https://x/a/../b", "https://x/a%2fb", "https://x:0/", "https:// x/", "https:///a"] {
            #expect((try? HTTPURL.parse(bad).get()) == nil, "\(bad)")
        }
    }

    // MARK: Formatter

    @Test func formatterGoldenIsIdempotent() throws {
        let text = readFile(goldenDirectory + "/fmt/secrets.warden") ?? ""
        let out = try PolicyFormatter.format(SourceFile(path: "secrets.warden", text: text))
        expectGolden(out, "fmt/secrets.formatted.warden")
        #expect(try PolicyFormatter.format(SourceFile(path: "secrets.warden", text: out)) == out)
        #expect(!analyze(out).hasErrors, "\(analyze(out).diagnostics)")
    }

    // MARK: Lint

    @Test func secretUnbound() {
        let unbound = "warden 1\nsecret gh from env \"WARDEN_GH\"\nsecret used from env \"WARDEN_USED\"\n"
        let text = unbound + agent("  allow https GET \"api.github.com/**\" with bearer used\n  env placeholder GH_TOKEN = gh")
        #expect(findings("secret-unbound", in: text) == ["secret-unbound@2:8"])
    }

    @Test func secretEnvPass() {
        let text = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("""
              allow https GET "api.github.com/**" with bearer gh
              env pass PATH, WARDEN_GH, GH_TOKEN
              env placeholder GH_TOKEN = gh
            """)
        // GH_TOKEN passed and a placeholder: the checker's duplicate-env; WARDEN_GH: the lint.
        #expect(findings("secret-env-pass", in: text).first == "secret-env-pass@8:18")
        let clean = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("  allow https GET \"api.github.com/**\" with bearer gh\n  env pass PATH")
        #expect(findings("secret-env-pass", in: clean).isEmpty)
    }

    @Test func secretWildcardHost() {
        let text = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("""
              allow https GET "*.example.com/**" with bearer gh
              allow https GET "api.example.com/**" with bearer gh
            """)
        #expect(findings("secret-wildcard-host", in: text) == ["secret-wildcard-host@7:38"])
    }

    @Test func lintRulesAreRegistered() {
        for id in ["secret-unbound", "secret-env-pass", "secret-wildcard-host"] { #expect(LintRules.named(id) != nil) }
    }

    // MARK: Hostile input

    @Test func hostileInputIsBounded() {
        let long = String(repeating: "a/", count: 5000)
        #expect((try? HTTPPattern.parse("x.com/" + long + "b").get()) == nil)
        // A glob with many stars against a long segment stays fast (no backtracking blow-up).
        let p = try? HTTPPattern.parse("x.com/" + String(repeating: "*a", count: 200) + "b").get()
        let seg = "/" + String(repeating: "a", count: 2000)
        #expect(p?.matchesPath(seg) == false)
        let a = analyze("warden 1\nidentity a {\n  allow https \u{1b}GET \"x.com/**\"\n}\n")
        #expect(a.diagnostics.map(\.code).contains("control-character"))
    }
}
