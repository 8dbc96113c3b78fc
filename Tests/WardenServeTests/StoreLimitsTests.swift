import Foundation
import Synchronization
import Testing
@testable import WardenServe

/// `claim` honours the host, identity, repository and trigger caps, keeps FIFO order among
/// what may start, and under many concurrent claimers never exceeds a cap or hands a run out
/// twice.
@Suite struct StoreLimitsTests {
    @Test func hostCapStopsClaims() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        for n in 0..<5 { _ = try store.enqueue(sampleRun(n, repository: "acme/r\(n)")) }
        let limits = ConcurrencyLimits(host: 2)
        let a = try #require(try store.claim(limits: limits, now: 1))
        _ = try #require(try store.claim(limits: limits, now: 2))
        #expect(try store.claim(limits: limits, now: 3) == nil)
        try store.finish(a.id, state: .finished, exitCode: 0, error: nil, now: 4)
        #expect(try store.claim(limits: limits, now: 5) != nil)
        #expect(try store.claim(limits: limits, now: 6) == nil)
        #expect(try store.claim(limits: ConcurrencyLimits(host: 0), now: 7) == nil)
        #expect(try store.counts()[.running] == 2)
    }

    @Test func identityCapSkipsToAnotherIdentity() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let a1 = try store.enqueue(sampleRun(1, identity: "alpha", repository: nil))
        let a2 = try store.enqueue(sampleRun(2, identity: "alpha", repository: nil))
        let b1 = try store.enqueue(sampleRun(3, identity: "beta", repository: nil))
        let limits = ConcurrencyLimits(host: 10, perIdentity: 1)
        #expect(try store.claim(limits: limits, now: 1)?.id == a1.id)
        // alpha is at its cap: the later beta run starts, alpha's second waits (not skipped for good).
        #expect(try store.claim(limits: limits, now: 2)?.id == b1.id)
        #expect(try store.claim(limits: limits, now: 3) == nil)
        try store.finish(a1.id, state: .finished, exitCode: 0, error: nil, now: 4)
        #expect(try store.claim(limits: limits, now: 5)?.id == a2.id)
    }

    @Test func aStoppedIdentityWaitsAndOthersGoOn() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let a1 = try store.enqueue(sampleRun(1, identity: "alpha", repository: nil))
        let b1 = try store.enqueue(sampleRun(2, identity: "beta", repository: nil))
        let limits = ConcurrencyLimits(host: 10)
        #expect(try store.claim(limits: limits, skipping: ["alpha"], now: 1)?.id == b1.id)
        #expect(try store.claim(limits: limits, skipping: ["alpha"], now: 2) == nil)
        // Released: alpha's run was only waiting.
        #expect(try store.claim(limits: limits, now: 3)?.id == a1.id)
    }

    @Test func repositoryCapCountsOnlyRunsWithARepository() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let r1 = try store.enqueue(sampleRun(1, identity: "i1", repository: "acme/app"))
        _ = try store.enqueue(sampleRun(2, identity: "i2", repository: "acme/app"))
        let other = try store.enqueue(sampleRun(3, identity: "i3", repository: "acme/other"))
        let none1 = try store.enqueue(sampleRun(4, identity: "i4", source: "schedule", repository: nil))
        let none2 = try store.enqueue(sampleRun(5, identity: "i5", source: "schedule", repository: nil))
        let limits = ConcurrencyLimits(host: 10, perRepository: 1)
        var claimed: [Int64] = []
        while let run = try store.claim(limits: limits, now: 1) { claimed.append(run.id) }
        #expect(claimed == [r1.id, other.id, none1.id, none2.id])
        // Repository names compare exactly as stored.
        #expect(try store.counts()[.queued] == 1)
    }

    @Test func triggerCapFromBudgetConcurrent() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        for n in 0..<4 { _ = try store.enqueue(sampleRun(n, trigger: "review", identity: "i\(n)", repository: "acme/r\(n)")) }
        let nightly = try store.enqueue(sampleRun(9, trigger: "nightly", identity: "maint", source: "schedule", repository: nil))
        let limits = ConcurrencyLimits(host: 10)
        let caps = ["review": 2, "unrelated": 0]
        var claimed: [QueuedRun] = []
        while let run = try store.claim(limits: limits, triggerConcurrency: caps, now: 1) { claimed.append(run) }
        #expect(claimed.filter { $0.trigger == "review" }.count == 2)
        #expect(claimed.contains { $0.id == nightly.id })
        // A cap of 0 lets nothing of that trigger start.
        let blocked = try store.enqueue(sampleRun(10, trigger: "unrelated", identity: "x", repository: nil))
        #expect(try store.claim(limits: limits, triggerConcurrency: caps, now: 2) == nil)
        #expect(try store.run(blocked.id)?.state == .queued)
    }

    @Test func allLimitsTogether() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        // (trigger, identity, repository)
        let plan: [(String, String, String?)] = [
            ("t1", "alice", "acme/a"), ("t1", "alice", "acme/b"), ("t2", "bob", "acme/a"),
            ("t2", "bob", "acme/c"), ("t3", "carol", nil), ("t1", "dave", "acme/d"),
        ]
        var ids: [Int64] = []
        for (n, p) in plan.enumerated() {
            ids.append(try store.enqueue(sampleRun(n, trigger: p.0, identity: p.1, source: p.2 == nil ? "manual" : "github", repository: p.2)).id)
        }
        let limits = ConcurrencyLimits(host: 4, perIdentity: 1, perRepository: 1)
        var claimed: [Int64] = []
        while let run = try store.claim(limits: limits, triggerConcurrency: ["t1": 1], now: 1) { claimed.append(run.id) }
        // #0 starts (t1, alice, acme/a); #1 alice busy; #2 acme/a busy; #3 bob/acme/c; #4 carol;
        // #5 t1 busy. Host cap 4 not reached.
        #expect(claimed == [ids[0], ids[3], ids[4]])
    }

    /// A full queue whose runs are all held back by one identity's cap: finding the one run
    /// that may start (the last) scans the queue once and stays quick.
    @Test func claimOverAFullBlockedQueueStaysQuick() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let busy = try store.enqueue(sampleRun(0, identity: "busy", repository: nil))
        _ = try #require(try store.claim(limits: ConcurrencyLimits(host: 10, perIdentity: 1), now: 1))
        let blocked = (1..<StoreBounds.defaultMaxQueued).map { sampleRun($0, identity: "busy", repository: nil) }
        _ = try store.enqueue(blocked, delivery: nil)
        #expect(throws: ServeStoreError.queueFull(limit: StoreBounds.defaultMaxQueued)) {
            try store.enqueue([sampleRun(1), sampleRun(2)], delivery: nil)
        }
        let free = try store.enqueue(sampleRun(99_999, identity: "free", repository: nil))
        let clock = ContinuousClock()
        var claimed: QueuedRun?
        let elapsed = try clock.measure {
            claimed = try store.claim(limits: ConcurrencyLimits(host: 10, perIdentity: 1), now: 2)
        }
        #expect(claimed?.id == free.id)
        #expect(elapsed < .seconds(2), "claim took \(elapsed)")
        #expect(try store.run(busy.id)?.state == .running)
    }

    /// 8 threads on two stores sharing one file claim and finish 2,000 runs: an atomic count
    /// of what is running (incremented after claim returns, decremented before finish) never
    /// passes a cap, and each run is claimed exactly once.
    @Test func concurrentClaimersNeverExceedACap() throws {
        let dir = StoreTempDir()
        let first = try ServeStore(path: dir.file())
        let second = try ServeStore(path: dir.file())
        let total = 2_000
        let triggers = ["t0", "t1", "t2", "t3"], identities = ["i0", "i1", "i2"]
        let repositories: [String?] = ["r0", "r1", "r2", "r3", nil]
        var batch: [NewRun] = []
        for n in 0..<total {
            let repository = repositories[n % repositories.count]
            batch.append(sampleRun(n, trigger: triggers[n % triggers.count], identity: identities[n % identities.count],
                                   source: repository == nil ? "schedule" : "github", repository: repository))
        }
        let stores = [first, second]
        let queued = try #require(try first.enqueue(batch, delivery: nil))
        #expect(queued.count == total)

        let limits = ConcurrencyLimits(host: 5, perIdentity: 3, perRepository: 2)
        let caps = ["t0": 1, "t1": 2]
        let running = Atomic<Int>(0), maxRunning = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        struct Shared { var byKey: [String: Int] = [:]; var maxByKey: [String: Int] = [:]; var claims: [Int64: Int] = [:]; var errors: [String] = [] }
        let shared = Mutex(Shared())

        onThreads(8) { thread in
            let store = stores[thread % 2]
            var rng = SystemRandomNumberGenerator()
            while finished.load(ordering: .acquiring) < total {
                let run: QueuedRun?
                do { run = try store.claim(limits: limits, triggerConcurrency: caps, now: 1) } catch {
                    shared.withLock { $0.errors.append("claim: \(error)") }
                    return
                }
                guard let run else { usleep(50); continue }
                let now = running.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                raiseToAtLeast(maxRunning, now)
                let keys = ["trigger:" + run.trigger, "identity:" + run.identity] + (run.repository.map { ["repository:" + $0] } ?? [])
                shared.withLock { s in
                    s.claims[run.id, default: 0] += 1
                    for k in keys {
                        s.byKey[k, default: 0] += 1
                        s.maxByKey[k] = max(s.maxByKey[k] ?? 0, s.byKey[k] ?? 0)
                    }
                }
                usleep(UInt32.random(in: 500...4_000, using: &rng))
                shared.withLock { s in for k in keys { s.byKey[k, default: 0] -= 1 } }
                running.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                do { try store.finish(run.id, state: .finished, exitCode: 0, error: nil, now: 2) } catch {
                    shared.withLock { $0.errors.append("finish: \(error)") }
                    return
                }
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }

        let s = shared.withLock { $0 }
        #expect(s.errors.isEmpty, "\(s.errors.prefix(3))")
        #expect(maxRunning.load(ordering: .sequentiallyConsistent) <= 5)
        #expect(maxRunning.load(ordering: .sequentiallyConsistent) > 1, "the claimers never overlapped: the test proved nothing")
        #expect(s.claims.count == total)
        #expect(s.claims.values.allSatisfy { $0 == 1 })
        for i in identities { #expect((s.maxByKey["identity:" + i] ?? 0) <= 3) }
        for r in repositories.compactMap({ $0 }) { #expect((s.maxByKey["repository:" + r] ?? 0) <= 2) }
        #expect((s.maxByKey["trigger:t0"] ?? 0) <= 1)
        #expect((s.maxByKey["trigger:t1"] ?? 0) <= 2)
        #expect(try first.counts()[.finished] == total)
        #expect(try second.counts()[.running] == 0)
    }
}

/// Raises `atomic` to `candidate` when it holds less.
func raiseToAtLeast(_ atomic: borrowing Atomic<Int>, _ candidate: Int) {
    var current = atomic.load(ordering: .sequentiallyConsistent)
    while current < candidate {
        let (exchanged, original) = atomic.compareExchange(expected: current, desired: candidate, ordering: .sequentiallyConsistent)
        if exchanged { return }
        current = original
    }
}
