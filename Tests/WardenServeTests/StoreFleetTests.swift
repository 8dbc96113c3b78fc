import Foundation
import Testing
import WardenAudit
@testable import WardenServe

/// Fleets in the store: one firing is one transaction (its record and every run, or none);
/// a store of the previous schema (version 1) is brought to version 2 with its runs intact;
/// at most one run per fleet repository is live; a restart settles, interrupts and queues
/// again exactly once; the aggregate counts attempts.
@Suite struct StoreFleetTests {
    static let fleetID = "00112233aabbccdd"

    static func fleet(_ id: String = fleetID, repositories: [String]) -> (FleetRecord, [NewRun]) {
        let record = FleetRecord(id: id, trigger: "sweep", identity: "maint", listPath: "/etc/warden/repos.txt", decision: "ffeeddccbbaa9988",
                                 repositories: repositories.count, createdAt: 5_000)
        let runs = repositories.map {
            NewRun(trigger: "sweep", identity: "maint", source: "manual", repository: $0, decision: "ffeeddccbbaa9988",
                   cloneURL: "/srv/git/" + $0, eventDocument: Array("{\"repository\":\"\($0)\"}".utf8), enqueuedAt: 5_000, fleetID: id)
        }
        return (record, runs)
    }

    @Test func aFleetIsQueuedInOneTransaction() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let (record, runs) = Self.fleet(repositories: ["a", "b", "c"])
        let queued = try store.enqueueFleet(record, runs: runs)
        #expect(queued.map(\.repository) == ["a", "b", "c"] && queued.allSatisfy { $0.fleetID == Self.fleetID && $0.attempt == 1 })
        #expect(try store.fleet(Self.fleetID) == record)
        #expect(try store.fleetRuns(Self.fleetID).map(\.id) == queued.map(\.id))
        #expect(try store.fleetGoing(trigger: "sweep") == Self.fleetID)
        #expect(try store.fleetGoing(trigger: "other") == nil)

        // A batch that fails on its last run leaves nothing: neither the record nor the runs
        // before it. Repository "z" of fleet F2 is already queued (a live row), so inserting
        // it again breaks the one-live-run-per-repository index after "y" went in.
        let other = "99887766554433aa"
        _ = try store.enqueue(NewRun(trigger: "sweep", identity: "maint", source: "manual", repository: "z", decision: "ffeeddccbbaa9988",
                                     eventDocument: [], enqueuedAt: 6_000, fleetID: other))
        let (second, secondRuns) = Self.fleet(other, repositories: ["y", "z"])
        #expect(throws: ServeStoreError.self) { try store.enqueueFleet(second, runs: secondRuns) }
        #expect(try store.fleet(other) == nil)
        #expect(try store.fleetRuns(other).map(\.repository) == ["z"])

        // The queue limit refuses the whole fleet.
        let small = try ServeStore(path: dir.file("small.db"), maxQueued: 2)
        let (big, bigRuns) = Self.fleet(repositories: ["a", "b", "c"])
        #expect(throws: ServeStoreError.queueFull(limit: 2)) { try small.enqueueFleet(big, runs: bigRuns) }
        #expect(try small.fleet(Self.fleetID) == nil && small.counts()[.queued] == 0)

        // Malformed fleets are refused before anything is written.
        #expect(throws: ServeStoreError.self) { try small.enqueueFleet(Self.fleet(repositories: ["a", "a"]).0, runs: Self.fleet(repositories: ["a", "a"]).1) }
        #expect(throws: ServeStoreError.self) { try small.enqueueFleet(Self.fleet("not-an-id", repositories: ["a"]).0, runs: Self.fleet("not-an-id", repositories: ["a"]).1) }
        let (r, mismatched) = Self.fleet(repositories: ["a"])
        #expect(throws: ServeStoreError.self) { try small.enqueueFleet(r, runs: mismatched + mismatched) }
    }

    /// `--keep-runs` prunes a fleet as a whole: not while one of its runs is live or ended
    /// recently, then every run and the record together.
    @Test func aFleetIsPrunedAsAWhole() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let (record, runs) = Self.fleet(repositories: ["a", "b"])
        let queued = try store.enqueueFleet(record, runs: runs)
        let single = try store.enqueue(sampleRun(9, at: 5_000))
        for _ in 0..<3 { _ = try store.claim(limits: ConcurrencyLimits(host: 3), now: 6_000) }
        try store.finish(queued[0].id, state: .finished, exitCode: 0, error: nil, now: 7_000)
        try store.finish(single.id, state: .finished, exitCode: 0, error: nil, now: 7_000)
        // One fleet run still going: only the lone run goes.
        #expect(try store.pruneFinished(before: 100_000) == [single.id])
        #expect(try store.fleetRuns(Self.fleetID).count == 2 && store.fleet(Self.fleetID) != nil)
        // Its last run ended after the cutoff: still kept whole.
        try store.finish(queued[1].id, state: .failed, exitCode: 1, error: nil, now: 200_000)
        #expect(try store.pruneFinished(before: 100_000).isEmpty)
        // Every run ended before the cutoff: the runs and the record go together.
        #expect(try store.pruneFinished(before: 300_000) == queued.map(\.id))
        #expect(try store.fleetRuns(Self.fleetID).isEmpty && store.fleet(Self.fleetID) == nil)
    }

    @Test func aVersion1StoreIsMigratedWithItsRunsIntact() throws {
        let dir = StoreTempDir()
        do {
            // A store as the previous Warden made it: the version 1 schema and two runs.
            let raw = RawSQLite(dir.file())
            #expect(raw.exec(StoreSchema.v1) == 0)
            #expect(raw.exec("PRAGMA application_id = \(StoreSchema.applicationID); PRAGMA user_version = 1") == 0)
            #expect(raw.exec("""
                INSERT INTO runs (trigger_name, identity, source, decision, event, state, enqueued_at, exit_code)
                VALUES ('nightly', 'maint', 'schedule', 'aaaaaaaaaaaaaaaa', x'7b7d', 'finished', 1000, 0),
                       ('nightly', 'maint', 'schedule', 'bbbbbbbbbbbbbbbb', x'7b7d', 'running', 2000, NULL)
                """) == 0)
            #expect(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'fleets'") == 0)
        }
        chmod(dir.file(), 0o600)
        let store = try ServeStore(path: dir.file())
        let raw = RawSQLite(dir.file())
        #expect(raw.integer("PRAGMA user_version") == 2)
        #expect(raw.integer("SELECT count(*) FROM sqlite_master WHERE name IN ('fleets', 'runs_fleet_live', 'runs_by_fleet')") == 3)
        let old = try store.runs(limit: 10).reversed().map { $0 }
        #expect(old.map(\.state) == [.finished, .running] && old.allSatisfy { $0.fleetID == nil && $0.attempt == 1 && $0.denials == nil })
        #expect(old.first?.exitCode == 0 && old.first?.decision == "aaaaaaaaaaaaaaaa")
        // The migrated store works as a version 2 store: recovery, and fleets.
        let recovered = try store.recoverInterrupted(now: 3_000)
        #expect(recovered.map(\.id) == [old[1].id] && recovered.first?.state == .interrupted)
        let (record, runs) = Self.fleet(repositories: ["a"])
        _ = try store.enqueueFleet(record, runs: runs)
        store.close()
        // Opening it again changes nothing.
        let again = try ServeStore(path: dir.file())
        #expect(try again.runs(limit: 10).count == 3)
        #expect(RawSQLite(dir.file()).integer("PRAGMA user_version") == 2)
    }

    @Test func oneLiveRunPerFleetRepository() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let (record, runs) = Self.fleet(repositories: ["a"])
        _ = try store.enqueueFleet(record, runs: runs)
        // A second live row for the same fleet repository is refused by SQLite itself.
        #expect(throws: ServeStoreError.self) { try store.enqueue(runs[0]) }
        let running = try #require(try store.claim(limits: ConcurrencyLimits(host: 4), now: 6_000))
        #expect(throws: ServeStoreError.self) { try store.enqueue(runs[0]) }
        try store.finish(running.id, state: .finished, exitCode: 0, error: nil, now: 7_000, denials: 2, changes: #"{"added":1}"#)
        // Once it is over, the index no longer holds it.
        #expect(try store.enqueue(runs[0]).attempt == 1)
        let done = try #require(try store.run(running.id))
        #expect(done.denials == 2 && done.changes == #"{"added":1}"#)
    }

    /// The kill -9 story in the store: of two fleet runs going, one ended on its own (its
    /// report is read: finished, not run again), one was stopped (interrupted, queued again
    /// as attempt 2); when attempt 2 is interrupted too, it is reported, not queued a third time.
    @Test func aRestartSettlesOrQueuesAgainOnce() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let (record, runs) = Self.fleet(repositories: ["a", "b", "c"])
        let queued = try store.enqueueFleet(record, runs: runs)
        let limits = ConcurrencyLimits(host: 4)
        let a = try #require(try store.claim(limits: limits, now: 6_000))
        let b = try #require(try store.claim(limits: limits, now: 6_000))
        #expect([a.id, b.id] == [queued[0].id, queued[1].id])
        store.close()

        let restarted = try ServeStore(path: dir.file())
        var asked: [Int64] = []
        let recovered = try restarted.recoverInterrupted(now: 9_000) { run in
            asked.append(run.id)
            // a ended on its own; b was stopped by the server's death (its report says so).
            return run.repository == "a" ? ServeStore.SettledOutcome(runID: "0123456789abcdef", exitCode: 0, denials: 1)
                : ServeStore.SettledOutcome(runID: "fedcba9876543210", exitCode: 143, endedOnItsOwn: false)
        }
        #expect(asked == [a.id, b.id])
        #expect(recovered.map(\.run.state) == [.finished, .interrupted])
        #expect(recovered[0].run.runID == "0123456789abcdef" && recovered[0].run.exitCode == 0 && recovered[0].requeued == nil)
        #expect(recovered[1].run.runID == "fedcba9876543210" && recovered[1].run.exitCode == 143)
        let retry = try #require(recovered[1].requeued)
        #expect(retry.repository == "b" && retry.attempt == 2 && retry.state == .queued && retry.fleetID == Self.fleetID)
        #expect(retry.eventDocument == runs[1].eventDocument && retry.cloneURL == runs[1].cloneURL && retry.decision == runs[1].decision)

        // Attempt 2 of b, and c, go; the server dies again.
        let next = try #require(try restarted.claim(limits: limits, now: 10_000))
        let last = try #require(try restarted.claim(limits: limits, now: 10_000))
        #expect(Set([next.repository, last.repository]) == ["b", "c"])
        let second = try restarted.recoverInterrupted(now: 11_000) { _ in nil }
        #expect(second.map(\.run.state) == [.interrupted, .interrupted])
        // c (attempt 1) is queued again; b (attempt 2) is not.
        #expect(second.compactMap(\.requeued).map(\.repository) == ["c"])

        let aggregate = FleetAggregate.json(record, runs: try restarted.fleetRuns(Self.fleetID), trigger: nil)
        let entries = aggregate["runs"]?.arrayValue ?? []
        #expect(entries.map { $0["status"]?.stringValue } == ["ok", "interrupted", "not-run"])
        #expect(entries.map { $0["attempts"]?.intValue } == [1, 2, 1])
        #expect(entries[1]["history"]?.arrayValue?.map { $0["state"]?.stringValue } == ["interrupted", "interrupted"])
        #expect(aggregate["done"]?.boolValue == false)
        #expect(aggregate["summary"]?["succeeded"]?.intValue == 1 && aggregate["summary"]?["interrupted"]?.intValue == 1)
        #expect(aggregate["summary"]?["attempts"]?.intValue == 4)
    }
}
