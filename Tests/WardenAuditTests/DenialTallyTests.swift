import Testing
@testable import WardenAudit

/// The tally behind the failure digest: counts what the log took, by denial, bounded.
@Suite struct DenialTallyTests {
    let t0 = AuditTime(seconds: 1_700_000_000, nanoseconds: 0)

    @Test func aggregatedRecordsAddTheirCountsAndRankByCount() {
        var tally = DenialTally()
        tally.add(.denySyscall(name: "unshare", nr: 272, args: [], pid: 1, count: 2, first: t0, last: t0))
        tally.add(.denySyscall(name: "ptrace", nr: 101, args: [], pid: 1, count: 1, first: t0, last: t0))
        tally.add(.network(denied: true, destination: "10.0.0.1", port: 9, proto: "tcp", domain: nil, pid: 1, rule: nil,
                           count: 5, first: t0, last: t0))
        tally.add(.denySyscall(name: "unshare", nr: 272, args: [], pid: 2, count: 4, first: t0, last: t0))
        tally.add(.network(denied: false, destination: "10.0.0.1", port: 9, proto: "tcp", domain: nil, pid: 1, rule: nil,
                           count: 50, first: t0, last: t0))
        tally.add(AuditEvent(kind: "run.exit", fields: [:]))
        let top = tally.top(5)
        #expect(top.map(\.count) == [6, 5, 1], "allowed connections and other records are not denials")
        #expect(top.first?.fields["name"]?.stringValue == "unshare")
        #expect(tally.distinct == 3)
    }

    @Test func equalCountsKeepTheirFirstRecordedOrder() {
        var tally = DenialTally()
        for name in ["b", "a", "c"] { tally.add(.denySyscall(name: name, nr: 0, args: [], pid: 1, first: t0, last: t0)) }
        #expect(tally.top(2).compactMap { $0.fields["name"]?.stringValue } == ["b", "a"])
    }

    @Test func memoryIsBoundedAndOverflowIsCounted() {
        var tally = DenialTally(maxKeys: 4)
        for i in 0..<100 {
            tally.add(.denyFs(path: "/p/\(i)", operation: "fs.write_file", access: "write", errno: 13, pid: 1, rule: nil,
                              source: "landlock", count: 2, first: t0, last: t0))
        }
        #expect(tally.distinct == 4)
        #expect(tally.overflowEvents == 192)
        #expect(tally.top(10).count == 4)
    }
}

/// `deny.fs` records go through the aggregator like the other denials.
@Suite struct FsAggregationTests {
    @Test func repeatsOfOnePathAndOperationBecomeOneCountedRecord() {
        var agg = DenialAggregator(windowNanos: 1_000_000_000_000)
        let t = AuditTime(seconds: 1_700_000_000, nanoseconds: 0)
        for _ in 0..<1000 {
            _ = agg.addFs(path: "/", operation: "fs.read_dir", access: "read", errno: 13, pid: 7, rule: nil, source: "landlock", at: t)
        }
        _ = agg.addFs(path: "/", operation: "fs.read_dir", access: "read", errno: 2, pid: 7, rule: nil, source: "landlock", at: t)
        let out = agg.drain()
        #expect(out.count == 2)
        #expect(out.first?.kind == AuditKind.denyFs && out.first?.fields["count"]?.intValue == 1000)
        #expect(agg.totals[AuditKind.denyFs] == 1001)
    }
}
