import Foundation
import Testing
import WardenCompiler
import WardenPolicy

/// `warden diff` on triggers: who may start an identity. Every witness is an event decided
/// on both sides by the authorizer; a change of what decides that no event tells apart is
/// refused (fail closed); a change of the command alone decides nothing.
@Suite struct TriggerDiffTests {
    static func policy(_ triggers: String) -> String {
        """
        warden 1
        secret hook from env "HOOK"
        identity reviewer {
          allow fs read "${workspace}"
        }
        \(triggers)
        """
    }

    static let review = """
    trigger review {
      identity reviewer
      on github pull_request opened
      repository "acme/*"
      by "alice"
      secret hook
      run "review"
    }

    """

    func changes(_ old: String, _ new: String) throws -> (wider: [DiffWitness], narrower: [DiffWitness]) {
        let d = try #require(try diff(Self.policy(old), Self.policy(new)).identities.first { $0.identity == "reviewer" })
        return (d.widenings.filter { $0.domain == .trigger }, d.narrowings.filter { $0.domain == .trigger })
    }

    @Test func aNewSenderARepositoryGlobAndANewTriggerEachWiden() throws {
        var wider = Self.review.replacingOccurrences(of: "by \"alice\"", with: "by \"alice\", \"bob\"")
        wider = wider.replacingOccurrences(of: "\"acme/*\"", with: "\"acme/**\"")
        wider += """
        trigger by-hand {
          identity reviewer
          on manual
          by group "devs"
          run "review"
        }

        """
        let c = try changes(Self.review, wider)
        #expect(c.narrower.isEmpty)
        let actions = c.wider.map(\.action)
        #expect(actions.contains { $0.contains("by \"bob\"") }, "\(actions)")
        #expect(actions.contains { $0.contains("\"acme/x/x\"") }, "\(actions)")
        #expect(actions.contains { $0.contains("manual by-hand") && $0.contains("group \"devs\"") }, "\(actions)")
        for w in c.wider {
            #expect(w.old.effect == .deny && w.new.effect == .allow)
            #expect(w.explainArguments.first == "--trigger")
        }
        // The same change read backwards narrows, and nothing widens.
        let back = try changes(wider, Self.review)
        #expect(back.wider.isEmpty && back.narrower.count == c.wider.count)
    }

    @Test func aNewCommandOrWorkspaceDecidesNothing() throws {
        let other = Self.review.replacingOccurrences(of: "run \"review\"", with: "run \"review\", \"--all\"\n  workspace empty")
        let c = try changes(Self.review, other)
        #expect(c.wider.isEmpty && c.narrower.isEmpty)
        let moved = "\n\n" + Self.review
        #expect(try diff(Self.policy(Self.review), Self.policy(moved)).identities.allSatisfy { $0.verdict == .equivalent })
    }

    @Test func aChangeNoEventTellsApartIsRefused() throws {
        // "acme/?*" and "acme/*" differ only on the empty name, which no representative has.
        let subtle = Self.review.replacingOccurrences(of: "\"acme/*\"", with: "\"acme/?*\"")
        #expect(throws: PolicyDiffError.self) { try diff(Self.policy(Self.review), Self.policy(subtle)) }
    }

    @Test func everyWitnessReplaysThroughExplainsWords() throws {
        let wider = Self.review.replacingOccurrences(of: "on github pull_request opened", with: "on github pull_request opened, synchronize")
        let c = try changes(Self.review, wider)
        let w = try #require(c.wider.first)
        #expect(w.action.contains("synchronize"))
        let words = Array(w.explainArguments.dropFirst())
        let parsed = try #require(try? TriggerEventSyntax.parse(words).get(), "\(words)")
        let new = try checked(Self.policy(wider))
        #expect(TriggerAuthorizer(policy: new).decision(parsed, identity: "reviewer").effect == .allow)
    }
}
