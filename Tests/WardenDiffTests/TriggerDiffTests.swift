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

    /// Budgets bound how much a trigger may start, like limits: raised or removed widens,
    /// lowered or added narrows, and budgets of different periods compare exactly.
    @Test func budgetChangesWidenAndNarrowLikeLimits() throws {
        func budget(_ text: String) -> String { Self.review.replacingOccurrences(of: "run \"review\"", with: "run \"review\"\n  budget \(text)") }
        let base = budget("runs 50 per hour, concurrent 4, wall-time 2h per day")

        let raised = try changes(base, budget("runs 100 per hour, wall-time 2h per day"))
        #expect(raised.narrower.isEmpty, "\(raised.narrower.map(\.action))")
        #expect(Set(raised.wider.map(\.action)) == ["trigger review: start 51 runs within one hour", "trigger review: have 5 runs going at once"],
                "\(raised.wider.map(\.action))")
        #expect(raised.wider.allSatisfy { $0.old.effect == .deny && $0.new.effect == .allow })

        let reperiod = try changes(base, budget("runs 1000 per day, concurrent 4, wall-time 1h per day"))
        #expect(reperiod.wider.map(\.action) == ["trigger review: start 51 runs within one hour"], "\(reperiod.wider.map(\.action))")
        #expect(Set(reperiod.narrower.map(\.action)) == ["trigger review: start 1001 runs within one day", "trigger review: use 1h1s of run time within one day"],
                "\(reperiod.narrower.map(\.action))")

        // The same budget written elsewhere, or its entries reordered: nothing.
        let moved = try changes(base, "\n\n" + budget("wall-time 2h per day, concurrent 4, runs 50 per hour"))
        #expect(moved.wider.isEmpty && moved.narrower.isEmpty)
        // A budget added to a trigger narrows at each of its bounds.
        let added = try changes(Self.review, base)
        #expect(added.wider.isEmpty && added.narrower.count == 3, "\(added.narrower.map(\.action))")
        // A trigger added with a budget is reported by the events it decides, not by its budget.
        let second = base.replacingOccurrences(of: "trigger review {", with: "trigger review-2 {").replacingOccurrences(of: "by \"alice\"", with: "by \"bob\"")
        let another = try changes(Self.review, Self.review + second)
        #expect(another.narrower.isEmpty && !another.wider.isEmpty && another.wider.allSatisfy { $0.explainArguments.first == "--trigger" },
                "\(another.wider.map(\.action))")
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
