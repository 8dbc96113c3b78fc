import Testing
@testable import WardenCompiler
import WardenPolicy
import WardenTestSupport

/// `warden 1` and identity `a` holding `rules`, one a line from line 3.
private func identityPolicy(_ rules: [String], name: String = "a") -> String {
    "warden 1\nidentity \(name) {\n" + rules.map { "  \($0)\n" }.joined() + "}\n"
}

/// The filesystem witnesses of identity `a` between two rule lists.
private func fsChanges(_ old: [String], _ new: [String]) throws -> (widenings: [DiffWitness], narrowings: [DiffWitness], verdict: DiffVerdict) {
    let result = try diff(identityPolicy(old), identityPolicy(new))
    let a = try #require(result.identities.first { $0.identity == "a" })
    return (a.widenings.filter { $0.domain == .filesystem }, a.narrowings.filter { $0.domain == .filesystem }, a.verdict)
}

@Suite struct FilesystemDiffTests {
    static let workspace = #"allow fs read, write "${workspace}""#

    @Test func aRemovedDenyWidensItsPathOnly() throws {
        let deny = #"deny fs write "${workspace}/.git/hooks""#
        let c = try fsChanges([Self.workspace, deny], [Self.workspace])
        #expect(c.widenings.map(\.action) == ["write ${workspace}/.git/hooks"])
        #expect(c.narrowings.isEmpty)
        #expect(c.verdict == .wider)
        let w = try #require(c.widenings.first)
        #expect(w.explainArguments == ["--fs", "write", "${workspace}/.git/hooks"])
        #expect(w.old.effect == .deny && w.new.effect == .allow)
        #expect(w.old.rules.map(\.rule) == [deny])
        #expect(w.old.rules.map(\.line) == [4])
        #expect(w.new.rules.map(\.rule) == [Self.workspace])
        #expect(w.new.rules.map(\.file) == ["/p/main.warden"])
        // The same change the other way round narrows exactly that.
        let back = try fsChanges([Self.workspace], [Self.workspace, deny])
        #expect(back.widenings.isEmpty)
        #expect(back.narrowings.map(\.action) == ["write ${workspace}/.git/hooks"])
        #expect(back.verdict == .narrower)
    }

    @Test func removingADeeperReadOnlyGrantWidensWritesUnderIt() throws {
        // The deeper grant's read-only mount wins over the writable workspace.
        let c = try fsChanges([Self.workspace, #"allow fs read "${workspace}/vendor""#], [Self.workspace])
        #expect(c.widenings.map(\.action) == ["write ${workspace}/vendor"])
        #expect(c.narrowings.isEmpty)
        let w = try #require(c.widenings.first)
        // The rules allow the write on the old side too; the old world refuses it (the mount).
        #expect(w.old.rules.map(\.rule) == [Self.workspace])
        #expect(w.old.note?.contains("mounted read-only") == true)
        #expect(w.new.rules.map(\.rule) == [Self.workspace])
    }

    @Test func anAddedAccessWidensThatAccessOnly() throws {
        let c = try fsChanges([#"allow fs read "/usr""#], [#"allow fs read, exec "/usr""#])
        #expect(c.widenings.map(\.action) == ["exec /usr"])
        #expect(c.widenings.first?.explainArguments == ["--fs", "exec", "/usr"])
        #expect(c.widenings.first?.old.rules.isEmpty == true)
        #expect(c.widenings.first?.new.rules.map(\.rule) == [#"allow fs read, exec "/usr""#])
        #expect(c.narrowings.isEmpty)
    }

    @Test func aGrantMovedUpALevelWidensTheParentAsOneWitness() throws {
        // `/usr` was a skeleton directory (not readable) and its other children absent.
        let up = try fsChanges([#"allow fs read "/usr/lib""#], [#"allow fs read "/usr""#])
        #expect(up.widenings.map(\.action) == ["read /usr"])
        #expect(up.narrowings.isEmpty)
        let down = try fsChanges([#"allow fs read "/usr""#], [#"allow fs read "/usr/lib""#])
        #expect(down.widenings.isEmpty)
        #expect(down.narrowings.map(\.action) == ["read /usr"])
        #expect(down.narrowings.first?.new.note?.contains("skeleton") == true)
    }

    @Test func anIncludedSetChangedWidensEveryIdentityUsingIt() throws {
        let main = "warden 1\ninclude \"base.warden\"\nidentity a {\n  use tools\n}\nidentity b {\n  use tools\n  allow fs read \"/usr\"\n}\n"
        let old = try checked(main, files: ["/p/base.warden": "warden 1\npermissions tools {\n  allow fs read \"/opt\"\n}\n"])
        let new = try checked(main, files: ["/p/base.warden": "warden 1\npermissions tools {\n  allow fs read, exec \"/opt\"\n}\n"])
        let result = try PolicyDiffer.compare(old: old, new: new)
        #expect(result.identities.map(\.identity) == ["a", "b"])
        for identity in result.identities {
            #expect(identity.verdict == .wider)
            #expect(identity.widenings.map(\.action) == ["exec /opt"])
            let rule = try #require(identity.widenings.first?.new.rules.first)
            #expect(rule.file == "/p/base.warden" && rule.line == 3 && rule.via == ["tools"])
        }
    }

    @Test func anAddedUseWidensEachAccessOfTheSet() throws {
        let set = "warden 1\npermissions srv {\n  allow fs read, write \"/srv\"\n}\n"
        let old = set + "identity a {\n  allow fs read \"/usr\"\n}\n"
        let new = set + "identity a {\n  use srv\n  allow fs read \"/usr\"\n}\n"
        let a = try #require(try diff(old, new).identities.first)
        #expect(a.widenings.map(\.action) == ["read /srv", "write /srv"])
        #expect(a.widenings.allSatisfy { $0.new.rules.map(\.via) == [["srv"]] && $0.old.rules.isEmpty })
        #expect(a.narrowings.isEmpty)
    }

    @Test func variablePathsAreComparedUnderTheirVariable() throws {
        let c = try fsChanges([#"allow fs read, write "${workspace}/build""#], [#"allow fs read, write "${workspace}""#])
        #expect(c.widenings.map(\.action) == ["read ${workspace}", "write ${workspace}"])
        #expect(c.narrowings.isEmpty)
        // The same path under another variable is another place.
        let moved = try fsChanges([#"allow fs read "${workspace}/src""#], [#"allow fs read "${tmp}/src""#])
        #expect(moved.widenings.map(\.action) == ["read ${tmp}/src"])
        #expect(moved.narrowings.map(\.action) == ["read ${workspace}/src"])
        #expect(moved.verdict == .both)
    }

    @Test func slashTmpIsTheRunsTmp() throws {
        let same = try fsChanges([#"allow fs read, write "${tmp}""#], [#"allow fs read, write "/tmp""#])
        #expect(same.widenings.isEmpty && same.narrowings.isEmpty)
        #expect(same.verdict == .equivalent)
        // A deny written on `/tmp/keep` protects `${tmp}/keep`; removing it widens there.
        let c = try fsChanges([#"allow fs read, write "${tmp}""#, #"deny fs write "/tmp/keep""#], [#"allow fs read, write "${tmp}""#])
        #expect(c.widenings.map(\.action) == ["write ${tmp}/keep"])
        #expect(c.widenings.first?.explainArguments == ["--fs", "write", "${tmp}/keep"])
        #expect(c.widenings.first?.old.note?.contains("read-only bind") == true)
        #expect(c.narrowings.isEmpty)
        // The rule written on `/tmp` is the one named for `${tmp}` (found by the oracle).
        let exec = try fsChanges([#"allow fs exec "/tmp""#], [])
        #expect(exec.narrowings.map(\.action) == ["exec ${tmp}"])
        #expect(exec.narrowings.first?.old.rules.map(\.rule) == [#"allow fs exec "/tmp""#])
    }

    @Test func theFreshHomeReachesNothingOfTheHost() throws {
        let usr = #"allow fs read "/usr""#
        // Granting the real home widens reads and writes there (the fresh home held nothing).
        let real = try fsChanges([usr], [usr, #"allow fs read, write "${home}""#])
        #expect(real.widenings.map(\.action) == ["read ${home}", "write ${home}"])
        #expect(real.widenings.first?.old.note?.contains("fresh home") == true)
        #expect(real.narrowings.isEmpty)
        let back = try fsChanges([usr, #"allow fs read, write "${home}""#], [usr])
        #expect(back.narrowings.map(\.action) == ["read ${home}", "write ${home}"])
        #expect(back.widenings.isEmpty)
        // A part of the real home: reads there widen; writes were never the host's.
        let ssh = try fsChanges([usr], [usr, #"allow fs read "${home}/.ssh""#])
        #expect(ssh.widenings.map(\.action) == ["read ${home}/.ssh"])
        #expect(ssh.narrowings.isEmpty)
        // A deny inside the fresh home hides nothing of the host: no change.
        let deny = try fsChanges([usr], [usr, #"deny fs read "${home}/.aws""#])
        #expect(deny.widenings.isEmpty && deny.narrowings.isEmpty)
    }

    @Test func reorderedAndDuplicatedRulesAreEquivalent() throws {
        let old = [#"allow fs read "/usr""#, Self.workspace, #"deny fs write "${workspace}/.git""#]
        let new = [#"deny fs write "${workspace}/.git""#, Self.workspace, #"allow fs read "/usr""#, #"allow fs read "/usr""#]
        let c = try fsChanges(old, new)
        #expect(c.widenings.isEmpty && c.narrowings.isEmpty)
        #expect(c.verdict == .equivalent)
    }

    @Test func anEquivalentRewriteIsEquivalent() throws {
        // Split accesses, a redundant deeper grant of the same access, a trailing slash.
        let old = [Self.workspace, #"allow fs read "/usr""#]
        let new = [#"allow fs read "${workspace}/""#, #"allow fs write "${workspace}""#, #"allow fs read "/usr/lib""#, #"allow fs read "/usr/""#]
        let c = try fsChanges(old, new)
        #expect(c.widenings.isEmpty && c.narrowings.isEmpty)
        #expect(c.verdict == .equivalent)
        // A deeper grant with less access is not redundant: it narrows writes there.
        let narrower = try fsChanges([Self.workspace], [Self.workspace, #"allow fs read "${workspace}/out""#])
        #expect(narrower.narrowings.map(\.action) == ["write ${workspace}/out"])
    }

    @Test func wideningsAndNarrowingsTogether() throws {
        let c = try fsChanges([#"allow fs read "/usr""#, Self.workspace],
                              [#"allow fs read, exec "/usr""#, #"allow fs read "${workspace}""#])
        #expect(c.widenings.map(\.action) == ["exec /usr"])
        #expect(c.narrowings.map(\.action) == ["write ${workspace}"])
        #expect(c.verdict == .both)
    }

    @Test func builtInGrantsCount() throws {
        // Removing a deny of a built-in grant widens it, allowed by the built-in rule.
        let c = try fsChanges([#"deny fs read "/proc""#], [])
        #expect(c.widenings.map(\.action) == ["read /proc"])
        let rule = try #require(c.widenings.first?.new.rules.first)
        #expect(rule.file == nil && rule.rule == #"allow fs read "/proc""#)
    }

    @Test func witnessesAreBoundedWithANote() throws {
        let rules = (0..<250).map { #"allow fs read "/d/n\#($0)""# }
        let c = try fsChanges([], rules)
        #expect(c.widenings.count == 200)
        #expect(c.widenings.dropLast().allSatisfy { $0.note == nil })
        #expect(c.widenings.last?.note?.contains("50 more filesystem widenings") == true)
    }

    @Test func representativesAreLinearInTheRules() throws {
        let rules = (0..<100).map { #"allow fs read "/opt/p\#($0)/lib/x""# } + [#"deny fs read "/opt/p1/lib/x/y""#]
        let p = try EffectivePolicy(policy: checked(identityPolicy(rules)), identity: "a")
        let paths = FsDiffRepresentatives.paths(of: [p, p])
        // Each rule path adds at most its depth to the mentioned paths (the roots are 4),
        // and each mentioned path one fresh child.
        let bound = 2 * (4 + 2 * p.fs.map(\.path.components.count).reduce(0, +))
        #expect(paths.count <= bound)
        #expect(paths.contains(PolicyPath(base: nil, components: ["opt", "p7", "lib", "warden-diff-x"])))
        #expect(paths.contains(PolicyPath(base: .home, components: ["warden-diff-x"])))
        #expect(Set(paths).count == paths.count)
    }

    @Test func aFreshNameAvoidsEveryMentionedComponent() {
        #expect(FsDiffRepresentatives.freshName(avoiding: []) == "warden-diff-x")
        #expect(FsDiffRepresentatives.freshName(avoiding: ["warden-diff-x"]) == "warden-diff-x2")
    }

    /// A sanity check against brute force: random small policies over the paths `/`, `a`,
    /// `b` under each root; every path of a larger universe (with the unmentioned `c`, one
    /// level deeper) that differs must fall in a reported group, and each access that
    /// differs somewhere must be reported.
    @Test func agreesWithBruteForceOnATinyUniverse() throws {
        let pool = ["/", "/a", "/a/b", "/b", "${workspace}", "${workspace}/a", "${workspace}/a/b", "${home}", "${home}/a",
                    "${tmp}", "${tmp}/a", "/tmp", "/tmp/a"]
        let accesses = ["read", "write", "exec", "read, write", "read, exec", "read, write, exec"]
        var rng = SeededRandom(seed: 16)
        func randomRules() -> [String] {
            var paths = pool
            return (0..<Int(rng.next() % 5)).map { _ in
                let path = paths.remove(at: Int(rng.next() % UInt64(paths.count)))
                let effect = rng.next() % 10 < 7 ? "allow" : "deny"
                return "\(effect) fs \(accesses[Int(rng.next() % UInt64(accesses.count))]) \"\(path)\""
            }
        }
        var universe: [PolicyPath] = []
        for base in [nil] + PathVariable.allCases.map(Optional.some) {
            var level: [[String]] = [[]]
            for _ in 0...3 {
                universe += level.map { PolicyPath(base: base, components: $0) }
                level = level.flatMap { c in ["a", "b", "c"].map { c + [$0] } }
            }
        }
        var differing = 0
        for _ in 0..<120 {
            let (oldRules, newRules) = (randomRules(), randomRules())
            let result = try diff(identityPolicy(oldRules), identityPolicy(newRules))
            let a = try #require(result.identities.first)
            let reported = Set((a.widenings + a.narrowings).compactMap { w -> BruteKey? in
                guard case .fs(let access, _) = w.probe else { return nil }
                return BruteKey(access: access, widens: w.widens, old: w.old.rules, new: w.new.rules)
            })
            let old = try EffectivePolicy(policy: checked(identityPolicy(oldRules)), identity: "a")
            let new = try EffectivePolicy(policy: checked(identityPolicy(newRules)), identity: "a")
            for path in universe {
                for access in FsAccess.allCases {
                    let o = DiffProbe.fs(access, path).decision(in: old)
                    let n = DiffProbe.fs(access, path).decision(in: new)
                    guard o.effect != n.effect else { continue }
                    differing += 1
                    let key = BruteKey(access: access, widens: n.effect == .allow, old: o.rules, new: n.rules)
                    #expect(reported.contains(key), "\(access) \(path) differs (\(oldRules) → \(newRules)) but no witness covers it")
                }
            }
        }
        #expect(differing > 100)
    }
}

private struct BruteKey: Hashable {
    var access: FsAccess
    var widens: Bool
    var old: [Provenance]
    var new: [Provenance]
}

