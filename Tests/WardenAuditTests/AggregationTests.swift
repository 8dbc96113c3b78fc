import Foundation
import Testing

@testable import WardenAudit

@Suite struct AggregationTests {
    /// 1,000,000 identical denials over a simulated 50 s (event times advance 50 µs each):
    /// with a 5 s window the log gets about one record per window, holding the true total.
    @Test func millionIdenticalDenialsGiveBoundedRecordsWithTrueCount() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        let log = try AuditLog(path: path, signingKey: key)
        let run = try AuditRun(log: log, runID: "looper", aggregationWindowNanos: 5_000_000_000, maxAggregateEvents: .max)
        try run.start(startInfo(0))
        var t = AuditTime(seconds: 1_790_000_000, nanoseconds: 0)
        let args: [UInt64] = [0, 0, 0, 0, 0, 0]
        for _ in 0..<1_000_000 {
            t.nanoseconds += 50_000
            if t.nanoseconds >= 1_000_000_000 { t.seconds += 1; t.nanoseconds -= 1_000_000_000 }
            try run.denySyscall(nr: 101, name: "ptrace", args: args, pid: 4242, errno: 1, at: t)
        }
        try run.finish(RunExitInfo(status: 1))
        let timeline = try AuditTimeline.load(path: path, kind: AuditKind.denySyscall)
        let records = timeline.runs.first?.records ?? []
        #expect(records.count >= 10 && records.count <= 12)
        let total = records.compactMap { $0.fields["count"]?.intValue }.reduce(0, +)
        #expect(total == 1_000_000)
        let exit = try AuditTimeline.load(path: path, kind: AuditKind.runExit).runs.first?.records.first
        #expect(exit?.fields["denials"]?["deny.syscall"]?.intValue == 1_000_000)
        #expect(try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path).status == .intact)
    }

    @Test func distinctKeysAreKeptApartAndTableFullFlushes() {
        var agg = DenialAggregator(windowNanos: 1_000_000_000_000, maxKeys: 3)
        let t = AuditTime(seconds: 1, nanoseconds: 0)
        let due1 = agg.addSyscall(nr: 1, name: "a", args: [], pid: 1, at: t)
        let due2 = agg.addSyscall(nr: 1, name: "a", args: [], pid: 1, at: t)
        let due3 = agg.addSyscall(nr: 2, name: "b", args: [], pid: 1, at: t)
        let due4 = agg.addNetwork(denied: true, destination: "10.0.0.1", port: 22, proto: "tcp", domain: nil, pid: 1, rule: nil, at: t)
        #expect(!due1 && !due2 && !due3)
        #expect(due4)  // three distinct keys fill the table
        let out = agg.drain()
        #expect(out.map(\.kind) == ["deny.syscall", "deny.syscall", "deny.net"])
        #expect(out.first?.fields["count"] == 2)
        #expect(out.first?.fields["first"] == .string(t.rfc3339))
        #expect(agg.pendingKeys == 0)
        #expect(agg.totals == ["deny.syscall": 3, "deny.net": 1])
    }
}
