import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenServe

/// Values round-trip exactly (they reach SQLite only as bound parameters), out-of-range values
/// are refused with typed errors, and the read side (usage, listings, counts, cancel) answers
/// what the server and the authorizer need.
@Suite struct StoreValuesTests {
    @Test func hostileValuesRoundTripExactly() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let quotes = "it's \"quoted\" `x` \\ '); DROP TABLE runs; --"
        let nul = "before\u{0}after\u{0}"
        let controls = "\u{1b}[31mred\u{1b}[0m\r\n\t\u{7f}\u{85}\u{2028}"
        let unicode = "Ünïcødé 🚀 日本語 \u{301}"
        let long = String(repeating: "ab'c\u{0}🚀", count: StoreBounds.maxFieldBytes / 9) // just under the field bound
        var event = (0...255).map(UInt8.init) + [0, 0, 0]
        event += [UInt8](repeating: 0x27, count: 1000)  // single quotes
        let run = NewRun(trigger: quotes, identity: nul, source: "webhook", repository: controls, deliveryID: unicode,
                         decision: "d\u{0}'", commit: "", cloneURL: long, eventDocument: event, enqueuedAt: -5)
        let queued = try store.enqueue(run)
        let back = try #require(try store.run(queued.id))
        #expect(back == queued)
        #expect(back.trigger == quotes && back.identity == nul && back.repository == controls && back.deliveryID == unicode)
        #expect(back.decision == "d\u{0}'" && back.commit == "" && back.cloneURL == long && back.eventDocument == event)
        #expect(back.enqueuedAt == -5)
        #expect(back.identity.utf8.count == nul.utf8.count)
        // The table is intact and an empty string is not NULL.
        #expect(try store.counts()[.queued] == 1)
        #expect(try store.runs(limit: 10).first?.commit == "")

        // Run id, workspace and error too; the error may hold anything the child printed.
        _ = try store.claim(limits: ConcurrencyLimits(host: 1), now: 1)
        try store.setRunID(queued.id, runID: "r'\u{0}", workspace: "/ws/\u{0}'x")
        let error = String(repeating: "é\u{0}'\"", count: 10_000)  // 60,000 bytes, under the bound
        try store.finish(queued.id, state: .failed, exitCode: Int32.min, error: error, now: 2)
        let done = try #require(try store.run(queued.id))
        #expect(done.runID == "r'\u{0}" && done.workspace == "/ws/\u{0}'x" && done.error == error && done.exitCode == Int32.min)
    }

    @Test func largeAndEmptyEventDocuments() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        var big = [UInt8](repeating: 0, count: 5 * 1024 * 1024)
        for i in stride(from: 0, to: big.count, by: 4093) { big[i] = UInt8(truncatingIfNeeded: i) }
        var run = sampleRun(1)
        run.eventDocument = big
        let a = try store.enqueue(run)
        run.eventDocument = []
        let b = try store.enqueue(run)
        #expect(try store.run(a.id)?.eventDocument == big)
        #expect(try store.run(b.id)?.eventDocument == [])
        run.eventDocument = [UInt8](repeating: 1, count: StoreBounds.maxEventBytes + 1)
        #expect(throws: ServeStoreError.self) { try store.enqueue(run) }
        #expect(try store.counts()[.queued] == 2)
    }

    @Test func outOfRangeValuesAreRefused() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        func refused(_ change: (inout NewRun) -> Void) -> Bool {
            var run = sampleRun(1)
            change(&run)
            do { _ = try store.enqueue(run); return false } catch {
                guard case .invalidArgument(let m) = error else { return false }
                return !m.isEmpty
            }
        }
        #expect(refused { $0.trigger = "" })
        #expect(refused { $0.identity = String(repeating: "i", count: StoreBounds.maxNameBytes + 1) })
        #expect(refused { $0.source = "smtp" })
        #expect(refused { $0.source = "GitHub" })
        #expect(refused { $0.repository = String(repeating: "r", count: StoreBounds.maxFieldBytes + 1) })
        #expect(refused { $0.decision = "" })
        #expect(refused { $0.commit = String(repeating: "c", count: StoreBounds.maxFieldBytes + 1) })
        #expect(!refused { $0.identity = String(repeating: "i", count: StoreBounds.maxNameBytes) })
        // A refused batch queues nothing, even its valid runs.
        var bad = sampleRun(3)
        bad.trigger = ""
        #expect(throws: ServeStoreError.self) { try store.enqueue([sampleRun(2), bad], delivery: nil) }
        #expect(try store.counts()[.queued] == 1)
    }

    @Test func longErrorsAreCutAtACharacterBoundary() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let run = try store.enqueue(sampleRun(1))
        _ = try store.claim(limits: ConcurrencyLimits(host: 1), now: 1)
        let error = "x" + String(repeating: "🚀", count: StoreBounds.maxErrorBytes)  // 4 bytes each, misaligned by one
        try store.finish(run.id, state: .failed, exitCode: 1, error: error, now: 2)
        let stored = try #require(try store.run(run.id)?.error)
        #expect(stored.utf8.count <= StoreBounds.maxErrorBytes)
        #expect(stored.utf8.count > StoreBounds.maxErrorBytes - 4)
        #expect(error.hasPrefix(stored))
    }

    @Test func transitionsOutOfOrderAreRefused() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let run = try store.enqueue(sampleRun(1))
        #expect(throws: ServeStoreError.invalidTransition(id: run.id, from: .queued, to: .finished)) {
            try store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: 1)
        }
        #expect(throws: ServeStoreError.invalidTransition(id: run.id, from: .queued, to: .running)) {
            try store.setRunID(run.id, runID: "r", workspace: nil)
        }
        #expect(throws: ServeStoreError.self) { try store.finish(run.id, state: .running, exitCode: nil, error: nil, now: 1) }
        #expect(throws: ServeStoreError.noSuchRun(999)) { try store.finish(999, state: .failed, exitCode: nil, error: nil, now: 1) }
        #expect(throws: ServeStoreError.noSuchRun(999)) { try store.setRunID(999, runID: "r", workspace: nil) }
        #expect(try store.run(999) == nil)
        _ = try store.claim(limits: ConcurrencyLimits(host: 1), now: 2)
        try store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: 3)
        #expect(throws: ServeStoreError.invalidTransition(id: run.id, from: .finished, to: .failed)) {
            try store.finish(run.id, state: .failed, exitCode: 1, error: nil, now: 4)
        }
        // A queued run may be cancelled directly.
        let other = try store.enqueue(sampleRun(2))
        try store.finish(other.id, state: .cancelled, exitCode: nil, error: "operator", now: 5)
        #expect(try store.run(other.id)?.state == .cancelled)
        #expect(try store.claim(limits: ConcurrencyLimits(host: 5), now: 6) == nil)
    }

    @Test func killSwitchCancelsQueuedRuns() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let r1 = try store.enqueue(sampleRun(1, trigger: "review"))
        let n1 = try store.enqueue(sampleRun(2, trigger: "nightly", source: "schedule", repository: nil))
        let r2 = try store.enqueue(sampleRun(3, trigger: "review"))
        let going = try #require(try store.claim(limits: ConcurrencyLimits(host: 1), now: 1))
        #expect(going.id == r1.id)
        let cancelled = try store.cancelQueued(trigger: "review", reason: "kill switch", now: 2)
        #expect(cancelled.map(\.id) == [r2.id])
        #expect(cancelled.allSatisfy { $0.state == .cancelled && $0.error == "kill switch" && $0.finishedAt == 2 })
        #expect(try store.run(r1.id)?.state == .running)  // a running run is the worker's to stop
        #expect(try store.run(n1.id)?.state == .queued)
        #expect(try store.cancelQueued(trigger: nil, reason: "all", now: 3).map(\.id) == [n1.id])
        #expect(try store.counts() == [.queued: 0, .running: 1, .finished: 0, .failed: 0, .interrupted: 0, .cancelled: 2])
    }

    @Test func usageCountsWhatTheAuthorizerCompares() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let s: Int64 = 1000, hour: Int64 = 3600 * 1000
        let now: Int64 = 10 * hour
        func add(_ trigger: String, enqueued: Int64, start: Int64?, end: Int64?, state: RunState) throws {
            let run = try store.enqueue(sampleRun(0, trigger: trigger, at: enqueued))
            guard let start else { return }
            _ = try #require(try store.claim(limits: ConcurrencyLimits(host: 100), triggerConcurrency: [:], now: start))
            if let end { try store.finish(run.id, state: state, exitCode: 0, error: nil, now: end) }
        }
        // Claims take the oldest queued run, so add in an order where each is the oldest.
        try add("t", enqueued: now - 3 * hour, start: now - 3 * hour, end: now - 3 * hour + 600 * s, state: .finished)  // outside a 1 h window
        try add("t", enqueued: now - 2 * hour, start: now - 90 * 60 * s, end: now - 45 * 60 * s, state: .failed)       // 15 min inside 1 h
        try add("t", enqueued: now - 30 * 60 * s, start: now - 20 * 60 * s, end: nil, state: .running)                // 20 min, running
        try add("other", enqueued: now - 60 * s, start: now - 60 * s, end: nil, state: .running)
        let cancelled = try store.enqueue(sampleRun(9, trigger: "t", at: now - 10 * s))
        _ = try store.finish(cancelled.id, state: .cancelled, exitCode: nil, error: nil, now: now - 5 * s)
        _ = try store.enqueue(sampleRun(10, trigger: "t", at: now - 5 * s))  // queued: counts as a run

        let hourly = try store.usage(trigger: "t", periodSeconds: 3600, now: now)
        #expect(hourly.runsInPeriod == 2)   // the running one and the queued one (not cancelled)
        #expect(hourly.running == 1)
        #expect(hourly.wallTimeSecondsInPeriod == 35 * 60)

        var budget = TriggerBudget()
        budget.runsPeriod = .day
        budget.wallTimePeriod = .hour
        let mixed = try store.usage(trigger: "t", budget: budget, now: now)
        #expect(mixed.runsInPeriod == 4)
        #expect(mixed.wallTimeSecondsInPeriod == 35 * 60)
        #expect(try store.usage(trigger: "t", periodSeconds: 86_400, now: now).wallTimeSecondsInPeriod == (10 + 45 + 20) * 60)
        #expect(try store.usage(trigger: "nobody", periodSeconds: 60, now: now) == TriggerUsage())
        #expect(throws: ServeStoreError.self) { try store.usage(trigger: "t", periodSeconds: 0, now: now) }
        #expect(throws: ServeStoreError.self) { try store.usage(trigger: "t", periodSeconds: Int.max, now: now) }
        // A clock set back does not refill the budget: runs enqueued "after now" still count.
        #expect(try store.usage(trigger: "t", periodSeconds: 60, now: now - 5 * hour).runsInPeriod == 4)
        #expect(try store.usage(trigger: "t", periodSeconds: 60, now: Int64.min).runsInPeriod == 4)

        // An interrupted run counts until the restart found it; partial seconds round up.
        let recovered = try store.recoverInterrupted(now: now + 1_500)
        #expect(recovered.map(\.trigger).sorted() == ["other", "t"])
        let later = try store.usage(trigger: "other", periodSeconds: 3600, now: now + 10 * s)
        #expect(later.running == 0)
        #expect(later.wallTimeSecondsInPeriod == 62)  // 61.5 s rounded up
    }

    @Test func listingIsNewestFirstAndPaged() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        var ids: [Int64] = []
        for n in 0..<25 { ids.append(try store.enqueue(sampleRun(n)).id) }
        let first = try store.runs(limit: 10)
        #expect(first.map(\.id) == Array(ids.reversed().prefix(10)))
        #expect(first.allSatisfy { $0.eventDocument.isEmpty })
        let second = try store.runs(limit: 10, before: first.last?.id)
        #expect(second.map(\.id) == Array(ids.reversed().dropFirst(10).prefix(10)))
        let last = try store.runs(limit: 10, before: second.last?.id, includeEvents: true)
        #expect(last.map(\.id) == Array(ids.prefix(5).reversed()))
        #expect(last.last?.eventDocument == Array("{\"n\":0}".utf8))
        #expect(try store.runs(limit: 0).isEmpty)
        #expect(try store.runs(limit: -5).isEmpty)
        #expect(try store.runs(limit: Int.max).count == 25)
        #expect(try store.runs(limit: Int.max, includeEvents: true).count == StoreBounds.maxEventPage)
        #expect(try store.runs(limit: 10, before: Int64.min).isEmpty)
        #expect(try store.queued(limit: 3).map(\.id) == Array(ids.prefix(3)))
    }

    @Test func pruningKeepsLiveRuns() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let old = try store.enqueue(sampleRun(1))
        let live = try store.enqueue(sampleRun(2))
        let waiting = try store.enqueue(sampleRun(3))
        _ = try store.claim(limits: ConcurrencyLimits(host: 2), now: 10)
        _ = try store.claim(limits: ConcurrencyLimits(host: 2), now: 10)
        try store.finish(old.id, state: .finished, exitCode: 0, error: nil, now: 20)
        #expect(try store.pruneFinished(before: 100) == [old.id])
        #expect(try store.run(old.id) == nil)
        #expect(try store.run(live.id)?.state == .running)
        #expect(try store.run(waiting.id)?.state == .queued)
        // Ids are never reused after pruning.
        #expect(try store.enqueue(sampleRun(4)).id > waiting.id)
    }

    /// A hand-edited row this version cannot read is a typed error naming the run, not a crash.
    @Test func damagedRowIsATypedError() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let run = try store.enqueue(sampleRun(1))
        let raw = RawSQLite(dir.file())
        #expect(raw.exec("UPDATE runs SET exit_code = 99999999999 WHERE id = \(run.id)") == 0)
        #expect(throws: ServeStoreError.corruptRow(id: run.id, reason: "exit code 99999999999 is out of range")) {
            try store.run(run.id)
        }
    }

    @Test func closedStoreRefusesEveryCall() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        store.close()
        store.close()
        #expect(throws: ServeStoreError.closed) { try store.enqueue(sampleRun(1)) }
        #expect(throws: ServeStoreError.closed) { try store.claim(limits: ConcurrencyLimits(host: 1), now: 1) }
        #expect(throws: ServeStoreError.closed) { try store.recordDelivery("x", source: "github", at: 1) }
        #expect(throws: ServeStoreError.closed) { try store.counts() }
        #expect(throws: ServeStoreError.closed) { try store.recoverInterrupted(now: 1) }
    }
}
