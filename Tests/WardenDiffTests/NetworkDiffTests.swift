import Testing
import WardenCompiler
import WardenPolicy

@Suite struct NetworkDiffTests {
    typealias S = NetDiffSupport

    @Test func aCIDROneBitShorterWidensAtItsFirstNewAddress() throws {
        let d = try S.compare("  allow net connect tcp \"10.0.0.0/24:443\"", "  allow net connect tcp \"10.0.0.0/23:443\"")
        #expect(S.summary(d.widenings) == ["network | connect tcp 10.0.1.0:443 | --connect tcp 10.0.1.0:443"])
        #expect(d.narrowings.isEmpty)
        #expect(d.verdict == .wider)
        let w = try #require(d.widenings.first)
        #expect(w.new.rules.map(\.line) == [3])
        #expect(w.old.isDefaultDeny)
        #expect(S.explainParses(w))
    }

    @Test func theReverseChangeIsANarrowing() throws {
        let d = try S.compare("  allow net connect tcp \"10.0.0.0/23:443\"", "  allow net connect tcp \"10.0.0.0/24:443\"")
        #expect(d.widenings.isEmpty)
        #expect(S.summary(d.narrowings) == ["network | connect tcp 10.0.1.0:443 | --connect tcp 10.0.1.0:443"])
        #expect(d.verdict == .narrower)
    }

    @Test func aWidenedPortRangeWidensAtTheFirstNewPort() throws {
        let d = try S.compare("  allow net connect tcp \"10.1.2.3:8000-8080\"", "  allow net connect tcp \"10.1.2.3:8000-8090\"")
        #expect(S.summary(d.widenings) == ["network | connect tcp 10.1.2.3:8081 | --connect tcp 10.1.2.3:8081"])
        #expect(d.narrowings.isEmpty)
    }

    @Test func udpAndBindAreKindsOfTheirOwn() throws {
        let base = "  allow net connect tcp \"10.0.0.1:53\""
        let udp = try S.compare(base, base + "\n  allow net connect udp \"10.0.0.1:53\"")
        #expect(S.summary(udp.widenings) == ["network | connect udp 10.0.0.1:53 | --connect udp 10.0.0.1:53"])
        let bind = try S.compare(base, base + "\n  allow net bind tcp \"127.0.0.1:8080\"")
        #expect(S.summary(bind.widenings) == ["network | bind tcp 127.0.0.1:8080 | --bind tcp 127.0.0.1:8080"])
        #expect(bind.widenings.allSatisfy(S.explainParses))
        #expect(udp.narrowings.isEmpty && bind.narrowings.isEmpty)
    }

    @Test func aDomainBecomingAWildcardWidensToAFreshNameAndItsLookup() throws {
        let d = try S.compare("  allow net connect tcp \"api.example.com:443\"", "  allow net connect tcp \"*.example.com:443\"")
        #expect(S.summary(d.widenings) == [
            "network | connect tcp warden-diff-x.example.com:443 | --connect tcp warden-diff-x.example.com:443",
            "network | DNS lookup of warden-diff-x.example.com | ",
        ])
        #expect(d.narrowings.isEmpty)
        #expect(S.explainParses(d.widenings[0]))
    }

    @Test func aShorterWildcardSuffixWidensToTheOldSuffixItself() throws {
        let d = try S.compare("  allow net connect tcp \"*.a.example.com:443\"", "  allow net connect tcp \"*.example.com:443\"")
        #expect(S.summary(d.widenings) == [
            "network | connect tcp a.example.com:443 | --connect tcp a.example.com:443",
            "network | DNS lookup of a.example.com | ",
        ])
        #expect(d.narrowings.isEmpty)
    }

    @Test func aRemovedDenyWidensAndNamesTheOldDeny() throws {
        let allow = "  allow net connect tcp \"10.0.0.0/8:443\""
        let d = try S.compare(allow + "\n  deny net connect tcp \"10.1.0.0/16:443\"", allow)
        #expect(S.summary(d.widenings) == ["network | connect tcp 10.1.0.0:443 | --connect tcp 10.1.0.0:443"])
        let w = try #require(d.widenings.first)
        #expect(w.old.rules.map(\.line) == [4])
        #expect(w.old.rules.first?.rule.hasPrefix("deny net connect") == true)
        #expect(w.new.rules.map(\.line) == [3])
    }

    @Test func theAnyHostWidensToTheLowestAddressAndEveryName() throws {
        let d = try S.compare("  allow net connect tcp \"10.0.0.1:443\"", "  allow net connect tcp \"*:443\"")
        #expect(S.summary(d.widenings) == [
            "network | connect tcp 0.0.0.0:443 | --connect tcp 0.0.0.0:443",
            "network | DNS lookup of warden-diff-x | ",
        ])
        #expect(d.narrowings.isEmpty)
    }

    @Test func ipv6NetworksAreComparedAsSets() throws {
        let d = try S.compare("  allow net connect tcp \"[2001:db8::/32]:443\"", "  allow net connect tcp \"[2001:db8::/31]:443\"")
        #expect(S.summary(d.widenings) == ["network | connect tcp [2001:db9::]:443 | --connect tcp [2001:db9::]:443"])
        #expect(S.explainParses(d.widenings[0]))
        let any6 = try S.compare("  allow net connect tcp \"10.0.0.1:443\"", "  allow net connect tcp \"[::/0]:443\"")
        #expect(S.summary(any6.widenings) == ["network | connect tcp [::]:443 | --connect tcp [::]:443"])
    }

    @Test func splitNetworksCoveringTheSameSetAndReorderedRulesAreEquivalent() throws {
        let split = try S.compare("  allow net connect tcp \"10.0.0.0/24:443\"",
                                  "  allow net connect tcp \"10.0.0.0/25:443\", \"10.0.0.128/25:443\"")
        #expect(split.verdict == .equivalent)
        let ports = try S.compare("  allow net connect tcp \"10.0.0.1:1-100\"",
                                  "  allow net connect tcp \"10.0.0.1:1-50\", \"10.0.0.1:51-100\"")
        #expect(ports.verdict == .equivalent)
        let a = "  allow net connect tcp \"*.example.com:443\""
        let b = "  deny net connect tcp \"secret.example.com:*\""
        let c = "  allow net bind udp \"[::1]:5353\""
        let reordered = try S.compare([a, b, c].joined(separator: "\n"), [c, b, a].joined(separator: "\n"))
        #expect(reordered.verdict == .equivalent)
    }

    @Test func anHTTPRuleBrokersItsEndpoint() throws {
        let base = "  allow net connect tcp \"10.0.0.1:22\""
        let d = try S.compare(base, base + "\n  allow https GET \"api.example.com/**\"")
        #expect(S.summary(d.widenings) == [
            "network | connect tcp api.example.com:443 | --connect tcp api.example.com:443",
            "network | DNS lookup of api.example.com | ",
            "http | GET https://api.example.com/ | --https GET https://api.example.com/",
        ])
        #expect(d.widenings[0].new.mechanism == "broker (https)")
        #expect(d.widenings.filter { !$0.explainArguments.isEmpty }.allSatisfy(S.explainParses))
    }

    @Test func aDenyOnEveryPortStopsLookupsButNotOtherPorts() throws {
        let allow = "  allow net connect tcp \"*.example.com:*\""
        let d = try S.compare(allow, allow + "\n  deny net connect tcp \"db.example.com:5432\"")
        #expect(S.summary(d.narrowings) == ["network | connect tcp db.example.com:5432 | --connect tcp db.example.com:5432"])
        let all = try S.compare(allow, allow + "\n  deny net connect tcp \"db.example.com:*\"")
        #expect(S.summary(all.narrowings) == [
            "network | connect tcp db.example.com:0 | --connect tcp db.example.com:0",
            "network | DNS lookup of db.example.com | ",
        ])
    }

    @Test func atMost200WitnessesPerDomainThenANote() throws {
        let rules = (0..<250).map { "  allow net connect tcp \"h\($0).example.com:443\"" }.joined(separator: "\n")
        let d = try S.compare("  allow net connect tcp \"10.0.0.1:443\"", "  allow net connect tcp \"10.0.0.1:443\"\n" + rules)
        #expect(d.widenings.count == 200)
        #expect(d.widenings.dropLast().allSatisfy { $0.note == nil })
        #expect(d.widenings.last?.note == "300 more widenings in network left out (at most 200 are listed)")
    }

    @Test func aFewHundredRulesDiffQuickly() throws {
        func rules(_ changed: Bool) -> String {
            (0..<300).map { i in
                switch i % 3 {
                case 0: return "  allow net connect tcp \"10.\(i / 256).\(i % 256).0/24:\(1000 + i)\""
                case 1: return "  allow net connect tcp \"host\(i).example.org:443\", \"*.cdn\(i).example.net:443\""
                default: return "  allow net connect udp \"[fd00:\(String(i, radix: 16))::/32]:\(changed && i == 2 ? "53-54" : "53")\""
                }
            }.joined(separator: "\n")
        }
        let old = try checked(S.policy(rules(false))), new = try checked(S.policy(rules(true)))
        let clock = ContinuousClock()
        var diffResult: PolicyDiff?
        let elapsed = try clock.measure { diffResult = try PolicyDiffer.compare(old: old, new: new) }
        let d = try #require(diffResult).identities[0]
        #expect(S.summary(d.widenings) == ["network | connect udp [fd00:2::]:54 | --connect udp [fd00:2::]:54"])
        // Debug builds are several times slower than release; the release figure is in the report.
        let o = try EffectivePolicy(policy: old, identity: "agent"), n = try EffectivePolicy(policy: new, identity: "agent")
        let domainsOnly = try clock.measure { _ = try PolicyDiffer.domainChanges(old: o, new: n) }
        print("network diff of 300 rules (500 grants) per side: \(elapsed) in all, \(domainsOnly) comparing the effective policies")
        #expect(elapsed < .milliseconds(500), "took \(elapsed)")
    }
}
