import Foundation
import Testing

@testable import WardenAudit

/// Timestamps: monotonic within a log, years 0001–9999 only, no arithmetic trap anywhere.
@Suite struct ClockTests {
    @Test func formatsAndParsesTheWholeRange() throws {
        let cases: [(Int64, Int32, String)] = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (1_790_000_000, 123_456_789, "2026-09-21T14:13:20.123456Z"),
            (-62_135_596_800, 0, "0001-01-01T00:00:00.000000Z"),
            (253_402_300_799, 999_999_999, "9999-12-31T23:59:59.999999Z"),
            (951_782_400, 0, "2000-02-29T00:00:00.000000Z"),
            (-1, 500_000_000, "1969-12-31T23:59:59.500000Z"),
        ]
        for (s, ns, text) in cases {
            let t = AuditTime(seconds: s, nanoseconds: ns)
            #expect(t.rfc3339IfRepresentable == text)
            let back = try #require(AuditTime(rfc3339: text))
            #expect(back.seconds == s && back.nanoseconds == ns / 1000 * 1000)
        }
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let s = Int64.random(in: AuditTime.representableSeconds, using: &g)
            let t = AuditTime(seconds: s, nanoseconds: Int32.random(in: 0..<1_000_000, using: &g) * 1000)
            #expect(AuditTime(rfc3339: t.rfc3339) == t)
        }
    }

    @Test func yearsOutsideTheRangeAreRefusedNotWrapped() {
        for s in [253_402_300_800, Int64.max, Int64.min, -62_135_596_801] {
            let t = AuditTime(seconds: s, nanoseconds: 0)
            #expect(t.rfc3339IfRepresentable == nil)
            #expect(!t.rfc3339.hasPrefix("0000"))  // clamped, never year 0000
        }
        #expect(AuditTime(seconds: Int64.max, nanoseconds: Int32.max).rfc3339 == "9999-12-31T23:59:59.999999Z")
        #expect(AuditTime(seconds: Int64.min, nanoseconds: Int32.min).rfc3339 == "0001-01-01T00:00:00.000000Z")
        for bad in ["0000-01-01T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z", "2026-01-00T00:00:00.000000Z",
                    "2026-01-01T24:00:00.000000Z", "2026-01-01T00:60:00.000000Z"] {
            #expect(AuditTime(rfc3339: bad) == nil, "\(bad)")
        }
    }

    @Test func durationsSaturateForAnyClockValues() {
        let extremes: [AuditTime] = [
            .init(seconds: .max, nanoseconds: .max), .init(seconds: .min, nanoseconds: .min),
            .init(seconds: .max, nanoseconds: 0), .init(seconds: 0, nanoseconds: .min), .init(seconds: -1, nanoseconds: 999_999_999),
            .init(seconds: 9_223_372_036, nanoseconds: 999_999_999), .init(seconds: -9_223_372_036, nanoseconds: -999_999_999),
        ]
        for a in extremes {
            for b in extremes {
                let d = a.nanoseconds(until: b)  // must not trap, whatever the values
                let normal = (0..<1_000_000_000).contains(a.nanoseconds) && (0..<1_000_000_000).contains(b.nanoseconds)
                if normal && a < b { #expect(d >= 0) } else if normal && b < a { #expect(d <= 0) }
            }
        }
        #expect(AuditTime(seconds: 9_223_372_036, nanoseconds: 0).nanoseconds(until: .init(seconds: 0, nanoseconds: 0)) < 0)
        #expect(AuditTime(seconds: 0, nanoseconds: 0).nanoseconds(until: .init(seconds: 9_223_372_036, nanoseconds: 999_999_999)) == .max)
    }

    /// Writes a one-record log by hand whose record has timestamp `ts`.
    func logWithRecord(at ts: String, _ path: String) throws {
        let rec = AuditRecord(seq: 0, ts: ts, kind: "note", run: "future", fields: [:], prev: AuditRecord.genesisHash)
        try writeBytes(path, rec.lineBytes() + [0x0A])
    }

    @Test func aBackwardStepIsRecordedAndVerifyWarns() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        // The last record is "from the future": the clock has since stepped back.
        try logWithRecord(at: "9000-01-01T00:00:00.000000Z", path)
        let key = AuditSigningKey.generate()
        try AuditLog(path: path, signingKey: key).append([AuditEvent(kind: "note", fields: [:])], run: "now", checkpoint: true)
        let t = try AuditTimeline.load(path: path, kind: AuditKind.clock)
        let clock = try #require(t.runs.first?.records.first)
        #expect(clock.fields["previous_ts"] == .string("9000-01-01T00:00:00.000000Z"))
        // About 7,000 years in µs: beyond 2^53-1, so RFC 8785 form writes the decimal digits as a string.
        let back = clock.fields["stepped_back_us"]
        #expect(back?.intValue == nil)
        #expect((back?.stringValue.flatMap { Int64($0) } ?? 0) > 9_007_199_254_740_991)
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .warnings, "\(r.text(path: path))")
        let w = try #require(r.warnings.first { $0.code == "clock-step" })
        #expect(w.line == 2 && w.message.contains("recorded"))
    }

    /// A torn tail and a checkpoint-only batch after the step: still recorded, never unexplained.
    @Test func aBackwardStepWithATornTailAndOnlyACheckpoint() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        try logWithRecord(at: "9000-01-01T00:00:00.000000Z", path)
        try appendBytes(path, Array(#"{"fields":{"na"#.utf8))
        let key = AuditSigningKey.generate()
        #expect(try AuditLog(path: path, signingKey: key).checkpoint(run: "cp") != nil)
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact || r.status == .warnings, "\(r.text(path: path))")
        #expect(r.failure == nil && r.recoveries.count == 1)
        let w = try #require(r.warnings.first { $0.code == "clock-step" })
        #expect(w.message.contains("recorded") && !w.message.contains("no `clock` record"), "\(w.message)")
    }

    @Test func anUnexplainedBackwardStepWarns() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let first = AuditRecord(seq: 0, ts: "2026-06-01T00:00:00.000000Z", kind: "note", run: "a", fields: [:], prev: AuditRecord.genesisHash)
        let l0 = first.lineBytes()
        let second = AuditRecord(seq: 1, ts: "2026-05-01T00:00:00.000000Z", kind: "note", run: "a", fields: [:], prev: AuditHash.sha256Hex(l0))
        try writeBytes(path, l0 + [0x0A] + second.lineBytes() + [0x0A])
        let r = try AuditVerifier().verify(path: path)
        let w = try #require(r.warnings.first { $0.code == "clock-step" })
        #expect(w.line == 2 && w.seq == 1 && w.message.contains("no `clock` record"))
        #expect(r.status == .warnings)
    }

    @Test func timestampsOfAWriterNeverGoBackwards() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        try writeRealisticLog(path: path, key: nil, runs: 3, denialsPerRun: 20)
        let ts = splitLines(try readBytes(path)).map { try! AuditRecord.parse(line: Array($0.dropLast())).ts }
        #expect(ts == ts.sorted())
    }
}
