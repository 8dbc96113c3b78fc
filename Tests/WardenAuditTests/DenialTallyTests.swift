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

/// `audit show` renders `deny.fs` and `run.digest` records, escaping what the agent chose.
@Suite struct DenialRecordTimelineTests {
    let t0 = AuditTime(seconds: 1_700_000_000, nanoseconds: 0)

    func line(_ e: AuditEvent) -> String {
        TimelineText.line(AuditRecord(seq: 1, ts: "2026-01-01T00:00:00Z", kind: e.kind, run: "r", fields: e.fields,
                                      prev: AuditRecord.genesisHash))
    }

    @Test func aFilesystemDenialShowsPathOperationRuleAndSource() {
        let text = line(.denyFs(path: "/ws/\u{1B}]0;owned\u{07}x", operation: "fs.read_dir", access: "read", errno: 13, pid: 9,
                                rule: "no rule allows read / (default deny)", source: "landlock", count: 4, first: t0, last: t0))
        #expect(text.contains("deny       fs fs.read_dir /ws/"), "\(text)")
        #expect(text.contains("×4, pid 9, errno 13, rule no rule allows read / (default deny), via landlock"), "\(text)")
        #expect(!text.unicodeScalars.contains("\u{1B}") && !text.unicodeScalars.contains("\u{07}"), "escaped: \(text)")
    }

    @Test func theDigestShowsEachDenialItsCommandAndTheUnobservedLayers() {
        let e = AuditEvent(kind: AuditKind.runDigest, fields: [
            "denials": .array([.object([
                "layer": .string("syscall"), "action": .string("syscall unshare"), "count": .int(2),
                "decided_by": .string("no rule allows syscall unshare (default deny)"),
                "explain": .string("warden explain p --identity a --syscall unshare"),
                "suggestion": .string("suggestion: allow syscall unshare because \"…\""),
            ])]),
            "more_distinct": .int(3), "overflow_events": .int(0),
            "unobserved": .object([
                "filesystem": .object(["reason": .string("mount world"), "explain": .string("warden explain p --fs read|write|exec PATH"),
                                       "partly": .bool(true)]),
                "network": .object(["reason": .string("no net rules"), "explain": .string("warden explain p --connect tcp HOST:PORT")]),
            ]),
        ])
        let text = line(e)
        #expect(text.contains("1. syscall unshare ×2: no rule allows syscall unshare (default deny)"), "\(text)")
        #expect(text.contains("explain: warden explain p --identity a --syscall unshare"), "\(text)")
        #expect(text.contains("… 3 more distinct denials"), "\(text)")
        #expect(text.contains("filesystem partly observed; check: warden explain p --fs"), "\(text)")
        #expect(text.contains("network not observed; check:"), "\(text)")
    }
}
