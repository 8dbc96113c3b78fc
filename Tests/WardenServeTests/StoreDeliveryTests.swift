import Foundation
import Synchronization
import Testing
@testable import WardenServe

/// A delivery id is accepted once: redeliveries (the same id again, from any number of threads
/// or connections) are refused, old ids are forgotten after the retention, and recording a
/// delivery with its runs is all or nothing.
@Suite struct StoreDeliveryTests {
    static let day: Int64 = 24 * 3600 * 1000

    @Test func sameDeliveryTwiceIsRefused() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        #expect(try store.recordDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958", source: "github", at: 1_000))
        #expect(try !store.recordDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958", source: "github", at: 2_000))
        #expect(try store.hasDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958", source: "github"))
        // The key is (source, id): another source's identical id is a different delivery.
        #expect(try store.recordDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958", source: "gitlab", at: 2_000))
        #expect(try !store.hasDelivery("never-seen", source: "github"))
    }

    @Test func deliveryIsRememberedAcrossRestart() throws {
        let dir = StoreTempDir()
        do {
            let store = try ServeStore(path: dir.file())
            #expect(try store.recordDelivery("abc", source: "webhook", at: 1_000))
        }
        let store = try ServeStore(path: dir.file())
        #expect(try !store.recordDelivery("abc", source: "webhook", at: 5_000))
    }

    @Test func idsOlderThanTheRetentionAreForgotten() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        #expect(try store.recordDelivery("old", source: "github", at: 0))
        #expect(try store.recordDelivery("recent", source: "github", at: 6 * Self.day))
        // Recording at 7 days + 1 ms prunes `old` (7 days + 1 ms old), keeps `recent`.
        #expect(try store.recordDelivery("new", source: "github", at: 7 * Self.day + 1))
        #expect(try !store.hasDelivery("old", source: "github"))
        #expect(try store.hasDelivery("recent", source: "github"))
        #expect(try store.recordDelivery("old", source: "github", at: 7 * Self.day + 2))
        #expect(try !store.recordDelivery("recent", source: "github", at: 7 * Self.day + 3))
        // Clock values at the ends of the range neither wrap nor wipe the ledger.
        #expect(try store.recordDelivery("early", source: "github", at: Int64.min))
        #expect(try store.hasDelivery("recent", source: "github"))
        #expect(try !store.recordDelivery("recent", source: "github", at: Int64.min))
    }

    /// 16 threads on two connections record the same id at once, 40 times over: exactly one
    /// true per id.
    @Test func concurrentRecordingOfOneIdHasOneWinner() throws {
        let dir = StoreTempDir()
        let stores = [try ServeStore(path: dir.file()), try ServeStore(path: dir.file())]
        for round in 0..<40 {
            let wins = Atomic<Int>(0), failures = Atomic<Int>(0)
            onThreads(16) { i in
                do {
                    if try stores[i % 2].recordDelivery("id-\(round)", source: "github", at: Int64(round)) {
                        wins.wrappingAdd(1, ordering: .relaxed)
                    }
                } catch {
                    failures.wrappingAdd(1, ordering: .relaxed)
                }
            }
            #expect(wins.load(ordering: .relaxed) == 1, "round \(round)")
            #expect(failures.load(ordering: .relaxed) == 0, "round \(round)")
        }
    }

    /// A delivery and its runs commit together; a redelivery queues nothing.
    @Test func deliveryWithRunsIsAtomic() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let key = DeliveryKey(id: "d-1", source: "github", receivedAt: 10)
        let runs = [sampleRun(1, trigger: "review"), sampleRun(2, trigger: "triage")]
        let queued = try #require(try store.enqueue(runs, delivery: key))
        #expect(queued.map(\.trigger) == ["review", "triage"])
        #expect(try store.enqueue(runs, delivery: key) == nil)
        #expect(try store.counts()[.queued] == 2)
        // A refused event is still recorded (no runs), so its redelivery is refused too.
        #expect(try store.enqueue([], delivery: DeliveryKey(id: "d-2", source: "github", receivedAt: 11)) == [])
        #expect(try store.enqueue([sampleRun(3)], delivery: DeliveryKey(id: "d-2", source: "github", receivedAt: 12)) == nil)
        #expect(try store.counts()[.queued] == 2)
    }

    /// A full queue refuses the whole batch and does not record the delivery, so the sender's
    /// redelivery can succeed once workers catch up.
    @Test func fullQueueRefusesBatchAndLeavesDeliveryUnrecorded() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file(), maxQueued: 3)
        _ = try store.enqueue(sampleRun(1))
        _ = try store.enqueue(sampleRun(2))
        let key = DeliveryKey(id: "burst", source: "github", receivedAt: 5)
        #expect(throws: ServeStoreError.queueFull(limit: 3)) {
            try store.enqueue([sampleRun(3), sampleRun(4)], delivery: key)
        }
        #expect(try !store.hasDelivery("burst", source: "github"))
        #expect(try store.counts()[.queued] == 2)
        let one = try store.claim(limits: ConcurrencyLimits(host: 1), now: 6)
        #expect(one != nil)
        #expect(try store.enqueue([sampleRun(3), sampleRun(4)], delivery: key)?.count == 2)
        #expect(throws: ServeStoreError.queueFull(limit: 3)) { try store.enqueue(sampleRun(5)) }
        #expect("\(ServeStoreError.queueFull(limit: 3))".contains("full"))
    }

    @Test func badDeliveryIdsAreRefused() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        #expect(throws: ServeStoreError.invalidArgument("the delivery id is empty")) {
            try store.recordDelivery("", source: "github", at: 1)
        }
        #expect(throws: ServeStoreError.self) {
            try store.recordDelivery(String(repeating: "x", count: StoreBounds.maxFieldBytes + 1), source: "github", at: 1)
        }
        #expect(throws: ServeStoreError.self) { try store.recordDelivery("abc", source: "ftp", at: 1) }
        // Hostile but in-bounds ids are stored exactly and compared exactly.
        let hostile = "a'; DELETE FROM deliveries; --\u{0}\u{1b}[2J"
        #expect(try store.recordDelivery(hostile, source: "webhook", at: 1))
        #expect(try !store.recordDelivery(hostile, source: "webhook", at: 2))
        #expect(try store.recordDelivery("a'; DELETE FROM deliveries; --", source: "webhook", at: 3))
    }
}
