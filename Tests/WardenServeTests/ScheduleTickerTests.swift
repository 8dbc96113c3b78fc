import Foundation
import Testing
import WardenAudit
import WardenPolicy
@testable import WardenServe

/// Schedules fire on a test clock: the ticker is asked for given minutes rather than waiting
/// for them, and decides with the same authorizer `warden test` uses (time zones, budgets).
@Suite struct ScheduleTickerTests {
    static let policy = """
        warden 1
        identity maint {
          allow fs read "${workspace}"
        }
        trigger nightly {
          identity maint
          on schedule "0 3 * * *" timezone "Europe/Berlin"
          workspace empty
          run "make", "audit"
          budget runs 1 per day
        }
        trigger half-past-two {
          identity maint
          on schedule "30 2 * * *" timezone "Europe/Berlin"
          workspace empty
          run "true"
        }
        trigger hourly {
          identity maint
          on schedule "@hourly"
          workspace empty
          run "true"
        }
        """

    struct World {
        let dir = StoreTempDir()
        let ticker: ScheduleTicker
        let store: ServeStore
        var log: String { dir.file("audit.jsonl") }

        init() throws {
            let loader = PolicyLoader(provider: InMemorySourceProvider(["p.warden": ScheduleTickerTests.policy]))
            let analysis = try loader.analyze("p.warden")
            #expect(!analysis.hasErrors)
            store = try ServeStore(path: dir.file("queue.sqlite3"))
            let application = ServeApplication(policy: ServePolicy(path: "/p.warden", triggers: analysis.policy.triggers, secrets: [:]),
                                               store: store, recorder: DecisionRecorder(logPath: dir.file("audit.jsonl"), signingKeyPath: nil),
                                               apiToken: nil, paused: { false })
            ticker = application.makeScheduleTicker(report: { Issue.record("\($0)") })
            withExtendedLifetime(application) {}
        }

        func records(_ kind: String) -> [[String: Any]] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["kind"] as? String == kind }
        }
    }

    /// Minutes since the epoch of a UTC time.
    static func minute(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> Int64 {
        Int64(CivilDate.days(year: y, month: mo, day: d)) * 1440 + Int64(h * 60 + mi)
    }

    @Test func aScheduleFiresAtItsMinuteInItsZoneAndNotOtherwise() throws {
        let w = try World()
        // 03:00 in Berlin in December is 02:00 UTC: nightly and hourly both fire.
        w.ticker.fire(minute: Self.minute(2026, 12, 8, 2, 0))
        let runs = try w.store.runs(limit: 10, before: nil)
        #expect(Set(runs.map(\.trigger)) == ["nightly", "hourly"])
        let nightly = try #require(runs.first { $0.trigger == "nightly" })
        let stored = try #require(try w.store.run(nightly.id))
        let document = try #require(try? AuditValue.parseJSON(stored.eventDocument).get())
        #expect(document["time"]?.stringValue == "2026-12-08T02:00Z" && document["source"]?.stringValue == "schedule")
        #expect(w.records("trigger.allow").count == 2)
        #expect(nightly.decision == w.records("trigger.allow").first { ($0["fields"] as? [String: Any])?["trigger"] as? String == "nightly" }?["run"] as? String)
        // 02:01 UTC: neither fires, and nothing is recorded for a minute with no firing.
        w.ticker.fire(minute: Self.minute(2026, 12, 8, 2, 1))
        #expect(try w.store.runs(limit: 10, before: nil).count == 2)
        #expect(w.records("trigger.refuse").isEmpty)
        // 03:00 UTC is 04:00 in Berlin: only hourly.
        w.ticker.fire(minute: Self.minute(2026, 12, 8, 3, 0))
        #expect(try w.store.runs(limit: 10, before: nil).filter { $0.trigger == "nightly" }.count == 1)
        #expect(try w.store.runs(limit: 10, before: nil).filter { $0.trigger == "hourly" }.count == 2)
    }

    @Test func aFiringPastItsBudgetIsRefusedAndRecorded() throws {
        let w = try World()
        w.ticker.fire(minute: Self.minute(2026, 12, 8, 2, 0))
        // The next night's firing comes (on this clock) within the same real day: budget spent.
        w.ticker.fire(minute: Self.minute(2026, 12, 9, 2, 0))
        #expect(try w.store.runs(limit: 10, before: nil).filter { $0.trigger == "nightly" }.count == 1)
        let refusal = try #require(w.records("trigger.refuse").first)
        let fields = try #require(refusal["fields"] as? [String: Any])
        #expect(fields["trigger"] as? String == "nightly" && (fields["reason"] as? String ?? "").contains("budget runs 1 per day"), "\(fields)")
    }

    @Test func aTimeTheClocksSkipFiresOnceAtTheJump() throws {
        let w = try World()
        // Europe/Berlin, 2026-03-29: at 01:00 UTC the clocks jump from 02:00 to 03:00, so
        // 02:30 never happens; it fires once, at the jump, with 03:00 (nightly) beside it.
        for m in Self.minute(2026, 3, 29, 0, 55)...Self.minute(2026, 3, 29, 1, 35) { w.ticker.fire(minute: m) }
        let runs = try w.store.runs(limit: 10, before: nil)
        let skipped = runs.filter { $0.trigger == "half-past-two" }
        #expect(skipped.count == 1)
        #expect(runs.filter { $0.trigger == "nightly" }.count == 1)
        let first = try #require(skipped.first)
        let stored = try #require(try w.store.run(first.id))
        #expect((try? AuditValue.parseJSON(stored.eventDocument).get())?["time"]?.stringValue == "2026-03-29T01:00Z")
    }
}
