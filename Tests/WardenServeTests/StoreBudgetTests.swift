import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// The store's usage, handed to the real `TriggerAuthorizer`, refuses exactly when a
/// trigger's `budget` line is spent: concurrent runs, runs per period, run time per period.
@Suite struct StoreBudgetTests {
    static let policy = """
        warden 1
        secret hook-key from file "/etc/warden/hook-key"
        identity deployer {
          allow fs read "/usr"
        }
        trigger deploy {
          identity deployer
          on webhook "deploy"
          secret hook-key
          run "deploy"
          budget concurrent 1, wall-time 10m per day
        }
        trigger sync {
          identity deployer
          on webhook "sync"
          secret hook-key
          run "sync"
          budget runs 2 per hour
        }
        trigger free {
          identity deployer
          on webhook "free"
          secret hook-key
          run "free"
        }
        """

    static func authorizer() throws -> (TriggerAuthorizer, [String: TriggerBudget]) {
        let loader = PolicyLoader(provider: InMemorySourceProvider(["p.warden": policy]))
        let analysis = try loader.analyze("p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics.map(\.message))")
        let triggers = analysis.policy.triggers
        #expect(triggers.count == 3)
        return (TriggerAuthorizer(policy: analysis.policy), Dictionary(uniqueKeysWithValues: triggers.map { ($0.name, $0.budget) }))
    }

    func decide(_ store: ServeStore, _ hook: String, now: Int64) throws -> TriggerDecision {
        let (authorizer, budgets) = try Self.authorizer()
        let usages = try store.usage(budgets: budgets, now: now)
        #expect(usages["free"] == nil)
        return authorizer.decide(.webhook(hook)) { usages[$0] }
    }

    func queue(_ store: ServeStore, _ trigger: String, at: Int64) throws -> QueuedRun {
        try store.enqueue(NewRun(trigger: trigger, identity: "deployer", source: "webhook", decision: "audit-\(at)",
                                 eventDocument: Array("{}".utf8), enqueuedAt: at))
    }

    @Test func concurrentAndWallTimeBudgets() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let minute: Int64 = 60_000, t0: Int64 = 1_000_000_000
        #expect(try decide(store, "deploy", now: t0).allowed)

        let run = try queue(store, "deploy", at: t0)
        _ = try #require(try store.claim(limits: ConcurrencyLimits(host: 4), triggerConcurrency: ["deploy": 1], now: t0))
        let busy = try decide(store, "deploy", now: t0 + minute)
        #expect(!busy.allowed)
        #expect(busy.refusals.first?.clause == "budget")
        #expect(busy.reason.contains("concurrent 1"))

        try store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: t0 + 11 * minute)
        let spent = try decide(store, "deploy", now: t0 + 12 * minute)
        #expect(!spent.allowed)
        #expect(spent.reason.contains("wall-time"))
        // A day later the run time has left the window.
        #expect(try decide(store, "deploy", now: t0 + 24 * 60 * minute + 12 * minute).allowed)
        // Other triggers are unaffected.
        #expect(try decide(store, "free", now: t0 + 12 * minute).allowed)
    }

    @Test func runsPerPeriodBudget() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let minute: Int64 = 60_000, t0: Int64 = 2_000_000_000
        _ = try queue(store, "sync", at: t0)
        #expect(try decide(store, "sync", now: t0 + minute).allowed)
        let second = try queue(store, "sync", at: t0 + minute)
        let spent = try decide(store, "sync", now: t0 + 2 * minute)
        #expect(!spent.allowed)
        #expect(spent.reason.contains("runs 2 per hour"))
        // A cancelled run gives its place back.
        _ = try store.finish(second.id, state: .cancelled, exitCode: nil, error: "kill switch", now: t0 + 3 * minute)
        #expect(try decide(store, "sync", now: t0 + 3 * minute).allowed)
        _ = try queue(store, "sync", at: t0 + 4 * minute)
        #expect(try !decide(store, "sync", now: t0 + 5 * minute).allowed)
        // An hour after the first, one place is free again.
        #expect(try decide(store, "sync", now: t0 + 60 * minute + 1).allowed)
    }
}
