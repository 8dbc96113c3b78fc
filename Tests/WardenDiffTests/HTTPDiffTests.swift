import Testing
import WardenCompiler
import WardenPolicy

@Suite struct HTTPDiffTests {
    typealias S = NetDiffSupport

    /// Only the http and secret witnesses (the network ones are NetworkDiffTests' subject).
    static func http(_ ws: [DiffWitness]) -> [String] {
        S.summary(ws.filter { $0.domain == .http || $0.domain == .secret })
    }

    @Test func anAddedMethodWidens() throws {
        let d = try S.compare("  allow https GET \"api.example.com/repos/**\"", "  allow https GET, POST \"api.example.com/repos/**\"")
        #expect(Self.http(d.widenings) == ["http | POST https://api.example.com/repos | --https POST https://api.example.com/repos"])
        #expect(d.narrowings.isEmpty)
        #expect(d.widenings.allSatisfy(S.explainParses))
        let back = try S.compare("  allow https GET, POST \"api.example.com/repos/**\"", "  allow https GET \"api.example.com/repos/**\"")
        #expect(Self.http(back.narrowings) == ["http | POST https://api.example.com/repos | --https POST https://api.example.com/repos"])
    }

    @Test func anyMethodWidensToAMethodNoRuleNames() throws {
        let d = try S.compare("  allow https GET \"api.example.com/**\"", "  allow https * \"api.example.com/**\"")
        #expect(Self.http(d.widenings) == ["http | PROPFIND https://api.example.com/ | --https PROPFIND https://api.example.com/"])
    }

    @Test func aWidenedPathGlobWidensAtTheShortestNewPath() throws {
        let d = try S.compare("  allow https GET \"h.example.com/a/*\"", "  allow https GET \"h.example.com/a/**\"")
        #expect(Self.http(d.widenings) == ["http | GET https://h.example.com/a | --https GET https://h.example.com/a"])
        #expect(d.narrowings.isEmpty)
        // The deeper and trailing-slash paths the new pattern adds are the same widening.
        let e = try EffectivePolicy(policy: checked(S.policy("  allow https GET \"h.example.com/a/*\"")), identity: "agent")
        #expect(e.decideHTTP(HTTPTarget(scheme: .https, method: "GET", host: "h.example.com", port: 443, path: "/a/x/y")).decision.effect == .deny)
    }

    @Test func aRemovedDenyWidensWithTheDenyAsTheOldRule() throws {
        let allow = "  allow https GET \"h.example.com/**\""
        let d = try S.compare(allow + "\n  deny https * \"h.example.com/admin/**\"", allow)
        #expect(Self.http(d.widenings) == ["http | GET https://h.example.com/admin | --https GET https://h.example.com/admin"])
        #expect(d.widenings.first?.old.rules.map(\.line) == [4])
    }

    @Test func denyMatchingIsLenientSoACaseChangeIsEquivalent() throws {
        let allow = "  allow https GET \"h.example.com/**\""
        let d = try S.compare(allow + "\n  deny https * \"h.example.com/admin\"", allow + "\n  deny https * \"h.example.com/Admin\"")
        #expect(d.verdict == .equivalent)
        // A deny on a deeper path lets the format-suffix, case and slash spellings of
        // /admin through: the narrower deny widens at /admin itself.
        let deeper = try S.compare(allow + "\n  deny https * \"h.example.com/admin\"", allow + "\n  deny https * \"h.example.com/admin/x\"")
        #expect(Self.http(deeper.widenings) == ["http | GET https://h.example.com/admin | --https GET https://h.example.com/admin"])
        #expect(Self.http(deeper.narrowings) == ["http | GET https://h.example.com/admin/x | --https GET https://h.example.com/admin/x"])
    }

    @Test func theIntersectionOfTwoPatternsIsFound() throws {
        // /a/b is allowed by /*/b and was denied by /a/*: no single pattern instance shows it.
        let allow = "  allow https GET \"h.example.com/*/b\""
        let d = try S.compare(allow + "\n  deny https GET \"h.example.com/a/*\"", allow)
        #expect(Self.http(d.widenings) == ["http | GET https://h.example.com/a/b | --https GET https://h.example.com/a/b"])
    }

    @Test func aNewlyInjectedSecretIsASecretWidening() throws {
        let secrets = "secret gh from env \"WARDEN_GH\"\n"
        let d = try S.compare("  allow https GET \"api.example.com/**\"",
                              "  allow https GET \"api.example.com/**\" with bearer gh", preamble: secrets)
        #expect(Self.http(d.widenings) == [
            "secret | GET https://api.example.com/ carrying secret gh | --https GET https://api.example.com/",
        ])
        #expect(d.narrowings.isEmpty)
        let removed = try S.compare("  allow https GET \"api.example.com/**\" with bearer gh",
                                    "  allow https GET \"api.example.com/**\"", preamble: secrets)
        #expect(Self.http(removed.narrowings) == [
            "secret | GET https://api.example.com/ carrying secret gh | --https GET https://api.example.com/",
        ])
    }

    @Test func aWildcardHostWidensToAFreshName() throws {
        let d = try S.compare("  allow https GET \"api.example.com/**\"", "  allow https GET \"*.example.com/**\"")
        #expect(Self.http(d.widenings) == [
            "http | GET https://warden-diff-x.example.com/ | --https GET https://warden-diff-x.example.com/",
        ])
    }

    @Test func portsAndSchemesAreKeptApart() throws {
        let base = "  allow http GET \"10.0.0.5/**\"\n  allow https GET \"api.example.com/**\""
        let d = try S.compare(base, base + "\n  allow http GET \"10.0.0.5:8080/**\"\n  allow http GET \"api.example.com/**\"")
        #expect(Self.http(d.widenings) == [
            "http | GET http://10.0.0.5:8080/ | --https GET http://10.0.0.5:8080/",
            "http | GET http://api.example.com/ | --https GET http://api.example.com/",
        ])
        #expect(d.widenings.allSatisfy(S.explainParses))
        #expect(d.narrowings.isEmpty)
    }

    @Test func reorderedAndRedundantRulesAreEquivalent() throws {
        let a = "  allow https GET, POST \"api.example.com/repos/*/pulls\""
        let b = "  allow https GET \"api.example.com/**\""
        let c = "  deny https DELETE \"api.example.com/**\""
        #expect(try S.compare([a, b, c].joined(separator: "\n"), [c, b, a].joined(separator: "\n")).verdict == .equivalent)
        #expect(try S.compare(b, b + "\n  allow https GET \"api.example.com/repos\"").verdict == .equivalent)
    }
}
