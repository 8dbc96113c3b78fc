import Foundation
import Testing
import WardenAudit
import WardenPolicy
import WardenRuntime
@testable import WardenServe

/// A schedule fleet trigger firing on a test clock: the list is read (relative entries from
/// its directory), the decision recorded with the fleet's id, and one run per repository
/// queued; the next firing is refused while the fleet is going, and so is a fleet larger
/// than its `runs` budget, a list others can write, a link, and a list that does not parse.
@Suite struct FleetFiringTests {
    struct World {
        let dir = StoreTempDir()
        let store: ServeStore
        let ticker: ScheduleTicker
        let application: ServeApplication
        var list: String { dir.file("repos.txt") }
        var log: String { dir.file("audit.jsonl") }

        init(budget: String = "concurrent 2", list: String? = nil) throws {
            let policy = """
                warden 1
                identity maint {
                  allow fs read "${workspace}"
                }
                trigger sweep {
                  identity maint
                  on schedule "@hourly"
                  fleet "\(list ?? dir.file("repos.txt"))"
                  run "make", "lint"
                  budget \(budget)
                }
                """
            let analysis = try PolicyLoader(provider: InMemorySourceProvider(["p.warden": policy])).analyze("p.warden")
            #expect(!analysis.hasErrors, "\(analysis.diagnostics.map(\.message))")
            store = try ServeStore(path: dir.file("queue.sqlite3"))
            let application = ServeApplication(policy: ServePolicy(path: "/p.warden", triggers: analysis.policy.triggers, secrets: [:]),
                                               store: store, recorder: DecisionRecorder(logPath: dir.file("audit.jsonl"), signingKeyPath: nil),
                                               apiToken: nil, paused: { false })
            ticker = application.makeScheduleTicker(report: { _ in })
            self.application = application
        }

        func write(_ text: String, mode: mode_t = 0o644) throws {
            try text.write(toFile: list, atomically: false, encoding: .utf8)
            chmod(list, mode)
        }

        func records(_ kind: String) -> [[String: Any]] {
            CLIRecords.read(log).filter { $0["kind"] as? String == kind }
        }
    }

    static let hour = ScheduleTickerTests.minute(2026, 12, 8, 2, 0)

    @Test func aFiringQueuesTheWholeFleetAndTheNextWaitsForIt() throws {
        let w = try World()
        try w.write("# the sweep\n/srv/git/app.git\nlibs/core\n\nhttps://user:secret@git.example.org/acme/site.git\n")
        w.ticker.fire(minute: Self.hour)
        let allow = try #require(w.records("trigger.allow").first)
        let fields = try #require(allow["fields"] as? [String: Any])
        let fleet = try #require(fields["fleet"] as? String)
        #expect(fields["repositories"] as? Int == 3 && fields["fleet_list"] as? String == w.list)
        let record = try #require(try w.store.fleet(fleet))
        #expect(record.decision == allow["run"] as? String && record.repositories == 3 && record.trigger == "sweep")
        let runs = try w.store.fleetRuns(fleet)
        // Named as the list writes them (a URL without its credentials), cloned from where they are.
        #expect(runs.map(\.repository) == ["/srv/git/app.git", "libs/core", "https://git.example.org/acme/site.git"])
        #expect(runs.map(\.cloneURL) == ["/srv/git/app.git", w.dir.path + "/libs/core", "https://user:secret@git.example.org/acme/site.git"])
        let first = try #require(try w.store.run(runs[0].id))
        let document = try #require(try? AuditValue.parseJSON(first.eventDocument).get())
        #expect(document["fleet"]?.stringValue == fleet && document["repository"]?.stringValue == "/srv/git/app.git")
        #expect(document["source"]?.stringValue == "schedule")
        // The credentials of a URL stay out of the audit trail.
        #expect(!((try? String(contentsOfFile: w.log, encoding: .utf8)) ?? "").contains("secret@"))

        // An hour later the fleet is still going: refused, recorded, nothing queued.
        w.ticker.fire(minute: Self.hour + 60)
        let refusal = try #require(w.records("trigger.refuse").first?["fields"] as? [String: Any])
        #expect((refusal["reason"] as? String)?.contains("fleet \(fleet) of trigger sweep is still going") == true, "\(refusal)")
        #expect(try w.store.runs(limit: 100).count == 3)

        // Once every run is over, it fires again.
        for _ in 0..<3 {
            let run = try #require(try w.store.claim(limits: ConcurrencyLimits(host: 8), now: 1))
            try w.store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: 2)
        }
        w.ticker.fire(minute: Self.hour + 120)
        #expect(w.records("trigger.allow").count == 2)
        #expect(try w.store.fleets(limit: 10).count == 2)
    }

    /// `GET /api/fleets/ID` and the page: the aggregate of a fleet as it goes; unknown and
    /// malformed ids are 404; a repository name from the list is escaped on the page.
    @Test func theAggregateAndThePageShowAFleet() throws {
        let w = try World()
        try w.write("/srv/git/<b>app\n/srv/git/lib\n")
        w.ticker.fire(minute: Self.hour)
        let fleet = try #require(try w.store.fleets(limit: 1).first)
        let run = try #require(try w.store.claim(limits: ConcurrencyLimits(host: 8), now: 10))
        try w.store.setRunID(run.id, runID: "0123456789abcdef", workspace: "/ws")
        try w.store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: 1_510, denials: 3,
                           changes: FleetChanges.json({ var c = WorkspaceSnapshot.Changes(); c.added = 2; c.paths = ["a", "b"]; return c }()))
        func get(_ path: String) -> (Int, String) {
            let r = w.application.handle(ServeRequest(method: "GET", path: path, headers: [("host", "localhost")]))
            return (r.status, String(decoding: r.body, as: UTF8.self))
        }
        let (status, body) = get("/api/fleets/\(fleet.id)")
        #expect(status == 200, "\(body)")
        let doc = try #require(try? AuditValue.parseJSON(Array(body.utf8)).get())
        #expect(doc["fleet_id"]?.stringValue == fleet.id && doc["done"]?.boolValue == false && doc["concurrency"]?.intValue == 2)
        #expect(doc["command"]?.arrayValue?.compactMap(\.stringValue) == ["make", "lint"])
        let runs = doc["runs"]?.arrayValue ?? []
        #expect(runs.map { $0["status"]?.stringValue } == ["ok", "not-run"])
        #expect(runs.first?["duration_ms"]?.intValue == 1_500 && runs.first?["denials"]?.intValue == 3 && runs.first?["run_id"]?.stringValue == "0123456789abcdef")
        #expect(runs.first?["changes"]?["added"]?.intValue == 2 && runs.first?["changes"]?["paths"]?.arrayValue?.count == 2)
        #expect(doc["summary"]?["succeeded"]?.intValue == 1 && doc["summary"]?["not_run"]?.intValue == 1)
        #expect(get("/api/fleets/0000000000000000").0 == 404)
        #expect(get("/api/fleets/../../etc").0 == 404)
        #expect(get("/api/runs/\(run.id)").1.contains("\"fleet_id\":\"\(fleet.id)\""))
        let (pageStatus, page) = get("/")
        #expect(pageStatus == 200 && page.contains("<a href=\"/api/fleets/\(fleet.id)\">") && page.contains("going"), "\(page)")
        #expect(page.contains("&lt;b&gt;app") && !page.contains("<b>app"))
    }

    @Test func aFleetLargerThanItsRunsBudgetIsRefused() throws {
        let w = try World(budget: "concurrent 2, runs 2 per day")
        try w.write("/a\n/b\n/c\n")
        w.ticker.fire(minute: Self.hour)
        let refusal = try #require(w.records("trigger.refuse").first?["fields"] as? [String: Any])
        #expect((refusal["reason"] as? String)?.contains("fleet of 3 runs would pass its budget runs 2 per day") == true, "\(refusal)")
        #expect(try w.store.runs(limit: 10).isEmpty && w.store.fleets(limit: 10).isEmpty)
    }

    @Test(arguments: ["others-writable", "link", "missing", "unparsable", "empty"])
    func aListThatCannotBeTrustedOrReadIsRefused(_ problem: String) throws {
        let w = try World()
        switch problem {
        case "others-writable": try w.write("/a\n", mode: 0o666)
        case "link":
            try "/a\n".write(toFile: w.dir.file("real.txt"), atomically: false, encoding: .utf8)
            symlink(w.dir.file("real.txt"), w.list)
        case "missing": break
        case "unparsable": try w.write("/a\next::sh -c id\n")
        default: try w.write("# nothing\n\n")
        }
        w.ticker.fire(minute: Self.hour)
        let refusal = try #require(w.records("trigger.refuse").first?["fields"] as? [String: Any], "\(problem)")
        let reason = refusal["reason"] as? String ?? ""
        #expect(reason.hasPrefix("fleet list \(w.list):"), "\(reason)")
        #expect(w.records("trigger.allow").isEmpty)
        #expect(try w.store.runs(limit: 10).isEmpty)
    }
}

/// Audit records as JSON objects.
enum CLIRecords {
    static func read(_ log: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
