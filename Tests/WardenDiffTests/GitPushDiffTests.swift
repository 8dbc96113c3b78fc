import Testing
import WardenCompiler
import WardenPolicy

@Suite struct GitPushDiffTests {
    typealias S = NetDiffSupport

    static func pushes(_ ws: [DiffWitness]) -> [String] {
        S.summary(ws.filter { $0.domain == .gitPush })
    }

    @Test func aWidenedRefPatternWidensAtItsShortestNewRef() throws {
        let d = try S.compare("  allow git push \"github.com/acme/app\" ref \"refs/heads/agent/*\"",
                              "  allow git push \"github.com/acme/app\" ref \"refs/heads/agent/**\"")
        #expect(Self.pushes(d.widenings) == [
            "git-push | git push refs/heads/agent to github.com/acme/app | --git-push github.com/acme/app refs/heads/agent",
        ])
        #expect(d.narrowings.isEmpty)
        #expect(d.widenings.allSatisfy(S.explainParses))
    }

    /// `refs/**` also matches the bare `refs`, which is no valid ref: it must not stand for
    /// the valid refs below it (found by the oracle: the removal was called equivalent).
    @Test func aRemovedRuleOnAllRefsNarrows() throws {
        let d = try S.compare("  allow git push \"a.org/o/r\" ref \"refs/**\"", "")
        #expect(Self.pushes(d.narrowings).count == 1)
        #expect(d.widenings.isEmpty)
    }

    @Test func anAddedRepositoryWidens() throws {
        let app = "  allow git push \"github.com/acme/app\" ref \"refs/heads/main\""
        let d = try S.compare(app, app + "\n  allow git push \"github.com/acme/lib\" ref \"refs/heads/main\"")
        #expect(Self.pushes(d.widenings) == [
            "git-push | git push refs/heads/main to github.com/acme/lib | --git-push github.com/acme/lib refs/heads/main",
        ])
        let other = try S.compare(app, app + "\n  allow git push \"git.example.com:8443/acme/app\" ref \"refs/heads/main\"")
        #expect(Self.pushes(other.widenings) == [
            "git-push | git push refs/heads/main to git.example.com:8443/acme/app | --git-push git.example.com:8443/acme/app refs/heads/main",
        ])
        #expect(other.widenings.allSatisfy(S.explainParses))
    }

    @Test func aRemovedDenyWidensAtTheDeniedRef() throws {
        let allow = "  allow git push \"github.com/acme/app\" ref \"refs/heads/**\""
        let d = try S.compare(allow + "\n  deny git push \"github.com/acme/app\" ref \"refs/heads/main\"", allow)
        #expect(Self.pushes(d.widenings) == [
            "git-push | git push refs/heads/main to github.com/acme/app | --git-push github.com/acme/app refs/heads/main",
        ])
        #expect(d.widenings.first?.old.rules.map(\.line) == [4])
    }

    @Test func denyMatchingIgnoresCaseSoOnlyRealChangesShow() throws {
        let allow = "  allow git push \"github.com/acme/app\" ref \"refs/heads/**\""
        let same = try S.compare(allow + "\n  deny git push \"github.com/acme/app\" ref \"refs/heads/main\"",
                                 allow + "\n  deny git push \"github.com/Acme/App\" ref \"refs/heads/MAIN\"")
        #expect(same.verdict == .equivalent)
        // An allow compares exactly: a differently spelled repository is another one.
        let spelled = try S.compare("  allow git push \"github.com/acme/app\" ref \"refs/heads/main\"",
                                    "  allow git push \"github.com/Acme/App\" ref \"refs/heads/main\"")
        #expect(Self.pushes(spelled.widenings) == [
            "git-push | git push refs/heads/main to github.com/Acme/App | --git-push github.com/Acme/App refs/heads/main",
        ])
        #expect(Self.pushes(spelled.narrowings) == [
            "git-push | git push refs/heads/main to github.com/acme/app | --git-push github.com/acme/app refs/heads/main",
        ])
    }

    @Test func reorderedRulesAreEquivalent() throws {
        let a = "  allow git push \"github.com/acme/app\" ref \"refs/heads/agent/**\""
        let b = "  deny git push \"github.com/acme/app\" ref \"refs/heads/agent/locked\""
        let c = "  allow git push \"github.com/acme/lib\" ref \"refs/tags/v*\""
        #expect(try S.compare([a, b, c].joined(separator: "\n"), [c, a, b].joined(separator: "\n")).verdict == .equivalent)
    }
}
