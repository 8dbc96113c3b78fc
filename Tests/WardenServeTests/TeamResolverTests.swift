import Synchronization
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// Which teams a delivery's decision looks up (only those of triggers that accept the rest
/// of the event and not the sender's login), what the lookups' answers do to the decision,
/// and the start-up check that a `team` entry has a source.
@Suite("team lookups per delivery") struct TeamResolverTests {
    static let policy = """
    warden 1
    secret k from env "K"
    identity a {
      allow fs read "/usr"
    }
    trigger by-team {
      identity a
      on github pull_request opened
      repository "acme/app"
      branch "main"
      by "root-admin", team "acme/engineers", team "acme/contractors"
      secret k
      run "true"
    }
    trigger other-repo {
      identity a
      on github pull_request opened
      repository "acme/other"
      by team "acme/other-team"
      secret k
      run "true"
    }
    trigger pattern-team {
      identity a
      on github push
      repository "acme/app"
      by team "acme/*"
      secret k
      run "true"
    }
    trigger lab {
      identity a
      on gitlab merge_request
      repository "grp/app"
      by team "grp/devs"
      secret k
      run "true"
    }

    """

    static func triggers() throws -> [CheckedTrigger] {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": policy])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        return analysis.policy.triggers
    }

    /// A source that answers from a table and counts what it was asked.
    final class FakeSource: TeamMembershipSource {
        let answers: [String: TeamAnswer]
        let asked = Mutex<[String]>([])
        let name = "fake"
        init(_ answers: [String: TeamAnswer]) { self.answers = answers }
        func check(login: String, forge: TriggerSourceKind, team pattern: TriggerGlob, deadline: Int64) -> TeamAnswer {
            asked.withLock { $0.append("\(login)@\(pattern.text)") }
            return answers["\(login)@\(pattern.text)"] ?? .notMember(cached: false)
        }
        var questions: [String] { asked.withLock { $0 } }
    }

    static func pr(_ sender: String, repository: String = "acme/app", branch: String = "main") -> TriggerEvent {
        .forge(.github, event: "pull_request", action: "opened", repository: repository, branch: branch, sender: sender)
    }

    @Test func onlyTheTeamsADecisionNeedsAreAsked() throws {
        let triggers = try Self.triggers()
        let authorizer = TriggerAuthorizer(triggers: triggers)
        // A login the by list names, another repository, another branch, another event, no sender: nothing to ask.
        #expect(authorizer.teamQuestions(Self.pr("root-admin")).isEmpty)
        #expect(authorizer.teamQuestions(Self.pr("alice", repository: "evil/app")).isEmpty)
        #expect(authorizer.teamQuestions(Self.pr("alice", branch: "dev")).isEmpty)
        #expect(authorizer.teamQuestions(.forge(.github, event: "issues", action: "opened", repository: "acme/app", sender: "alice")).isEmpty)
        #expect(authorizer.teamQuestions(.forge(.github, event: "pull_request", action: "opened", repository: "acme/app", branch: "main")).isEmpty)
        // A sender the logins do not admit: that trigger's teams, in order, and no other trigger's.
        let q = authorizer.teamQuestions(Self.pr("alice"))
        #expect(q.map(\.trigger) == ["by-team"])
        #expect(q.first?.teams.map(\.text) == ["acme/engineers", "acme/contractors"])

        let source = FakeSource(["alice@acme/engineers": .member(teams: ["acme/engineers"], cached: false)])
        let resolver = TeamResolver(sources: TeamSources(github: source))
        #expect(resolver.resolve(Self.pr("root-admin"), triggers: triggers) == TeamResolution())
        #expect(source.questions.isEmpty)
        let alice = resolver.resolve(Self.pr("alice"), triggers: triggers)
        #expect(source.questions == ["alice@acme/engineers"], "the first team admits her: the second is not asked")
        #expect(alice.teams == ["acme/engineers"] && alice.failure == nil && alice.source == "fake")
        var event = Self.pr("alice")
        event.senderTeams = alice.teams
        #expect(authorizer.decide(event).allowed)
        #expect(alice.auditFields["teams_source"] == .string("fake"))
        #expect(alice.auditFields["teams_checked"] == .array([.object(["team": "acme/engineers", "result": "member", "cached": false,
                                                                         "matched": .array(["acme/engineers"])])]))

        let bob = resolver.resolve(Self.pr("bob"), triggers: triggers)
        #expect(bob.teams.isEmpty && bob.failure == nil && bob.checks.map(\.result) == ["not-member", "not-member"])
        event.sender = "bob"
        event.senderTeams = bob.teams
        #expect(!authorizer.decide(event).allowed)
    }

    @Test func aFailedLookupLeavesTheDeliveryRefusedUnlessAnotherTeamAdmits() throws {
        let triggers = try Self.triggers()
        let down = FakeSource(["alice@acme/engineers": .failed("the GitHub API answered 500")])
        let r = TeamResolver(sources: TeamSources(github: down)).resolve(Self.pr("alice"), triggers: triggers)
        let failure = try #require(r.failure)
        #expect(failure.contains("'acme/engineers'") && failure.contains("by-team") && failure.contains("answered 500") && failure.contains("'alice'"), "\(failure)")
        #expect(r.failedTrigger == "by-team")
        #expect(r.checks.map(\.result) == ["error", "not-member"])
        // The decision is refused with it, even though nothing else was wrong.
        let decided = TriggerAuthorizer(triggers: triggers).decide(Self.pr("alice")).failing(r.failure, trigger: r.failedTrigger)
        #expect(!decided.allowed && decided.reason == failure && decided.trigger == "by-team")

        // The second team admits her: the first one's error does not matter.
        let partly = FakeSource(["alice@acme/engineers": .failed("timeout"), "alice@acme/contractors": .member(teams: ["acme/contractors"], cached: true)])
        let ok = TeamResolver(sources: TeamSources(github: partly)).resolve(Self.pr("alice"), triggers: triggers)
        #expect(ok.failure == nil && ok.teams == ["acme/contractors"])
        #expect(ok.checks.map(\.cached) == [false, true])

        // No source for the forge: refused, never silently "not a member".
        let none = TeamResolver(sources: TeamSources()).resolve(Self.pr("alice"), triggers: triggers)
        #expect(none.failure?.contains("no membership source") == true && none.source == "none")
    }

    @Test func lookupsPerDeliveryAreBounded() throws {
        // Ten triggers, each with its own team: at most maxLookups are asked; the rest are errors.
        var text = "warden 1\nsecret k from env \"K\"\nidentity a {\n  allow fs read \"/usr\"\n}\n"
        for i in 0..<10 {
            text += "trigger t\(i) {\n  identity a\n  on github pull_request\n  repository \"acme/app\"\n  by team \"acme/t\(i)\"\n  secret k\n  run \"true\"\n}\n"
        }
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        let source = FakeSource([:])
        var resolver = TeamResolver(sources: TeamSources(github: source))
        resolver.maxLookups = 4
        let r = resolver.resolve(Self.pr("alice"), triggers: analysis.policy.triggers)
        #expect(source.questions.count == 4)
        #expect(r.checks.count == 10 && r.checks.filter { $0.result == "error" }.count == 6)
        #expect(r.failure?.contains("more than 4 team lookups") == true, "\(r.failure ?? "")")
    }

    @Test func aTeamEntryWithoutASourceOrAPatternForAnAPIStopsTheServer() throws {
        let triggers = try Self.triggers()
        let none = TeamSources().problems(triggers)
        #expect(none.count == 5, "\(none)")
        #expect(none.contains { $0.contains("by-team") && $0.contains("acme/engineers") && $0.contains("--github-token-file") })
        #expect(none.contains { $0.contains("lab") && $0.contains("grp/devs") && $0.contains("--teams FILE") && !$0.contains("github") })
        // A file answers patterns; an API that looks teams up one by one cannot.
        let file = FakeSource([:])
        #expect(TeamSources(github: file, gitlab: file).problems(triggers).isEmpty)
        final class API: LiteralTeamSource {
            let name = "github-api"
            func check(login: String, forge: TriggerSourceKind, team pattern: TriggerGlob, deadline: Int64) -> TeamAnswer { .notMember(cached: false) }
        }
        let api = TeamSources(github: API(), gitlab: file).problems(triggers)
        #expect(api.count == 1 && api[0].contains("pattern-team") && api[0].contains("acme/*") && api[0].contains("is a pattern") && api[0].contains("named teams only"), "\(api)")
    }
}
