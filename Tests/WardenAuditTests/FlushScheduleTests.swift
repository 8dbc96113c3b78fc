import Foundation
import Synchronization
import Testing

@testable import WardenAudit

/// What the supervisor's flusher sleeps on: nothing pending means no deadline (no wake-ups
/// while the agent is quiet), the first pending record calls the pending handler once, and
/// the deadline is the earliest of the buffer's delay and the aggregation window.
@Suite struct FlushScheduleTests {
    @Test func aQuietRunHasNoDeadlineAndTheFirstRecordWakesTheFlusherOnce() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let run = try AuditRun(log: try AuditLog(path: dir.file("log.jsonl")), runID: "quiet",
                               maxDelayNanos: 200_000_000, aggregationWindowNanos: 750_000_000)
        try run.start(startInfo(0))
        let wakes = Mutex(0)
        run.setPendingHandler { wakes.withLock { $0 += 1 } }
        #expect(run.nanosecondsUntilDue() == nil, "nothing pending: sleep without a timeout")

        try run.denySyscall(nr: 101, name: "ptrace", args: [0, 0, 0, 0, 0, 0], pid: 1, errno: 1)
        #expect(wakes.withLock { $0 } == 1)
        let window = try #require(run.nanosecondsUntilDue())
        #expect(window > 0 && window <= 750_000_000)
        try run.denySyscall(nr: 101, name: "ptrace", args: [0, 0, 0, 0, 0, 0], pid: 1, errno: 1)
        #expect(wakes.withLock { $0 } == 1, "already pending: no second wake-up")

        try run.record(AuditEvent(kind: "note", fields: ["text": "x"]))
        let batch = try #require(run.nanosecondsUntilDue())
        #expect(batch <= 200_000_000, "the buffered record's delay comes first: \(batch)")

        try run.flush()
        #expect(run.nanosecondsUntilDue() == nil)
        try run.record(AuditEvent(kind: "note", fields: ["text": "y"]))
        #expect(wakes.withLock { $0 } == 2, "idle again, then pending: woken again")
        usleep(250_000)
        #expect(run.nanosecondsUntilDue() == 0, "overdue")
        try run.flushIfDue()
        #expect(run.nanosecondsUntilDue() == nil)
        try run.finish(RunExitInfo(status: 0))
    }
}
