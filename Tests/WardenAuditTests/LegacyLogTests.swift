import Foundation
import Testing

@testable import WardenAudit

/// Logs of both record versions: a version 1 log written by Warden before RFC 8785
/// (Fixtures/legacy-v1, generated with that code and kept byte for byte), the same log
/// continued by this writer (version 1 records, then version 2), and format markers flipped.
@Suite struct LegacyLogTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/legacy-v1"

    private func fixture() throws -> (log: [UInt8], key: AuditPublicKey) {
        let log = try readBytes(Self.fixtures + "/audit.jsonl")
        let key = try AuditPublicKey.load(path: Self.fixtures + "/audit.pub")
        return (log, key)
    }

    private func lines(_ bytes: [UInt8]) -> [[UInt8]] { splitLines(bytes).map { Array($0.dropLast()) } }

    /// Replaces the final `"version":N}` of line `index` (0-based).
    private func flipVersion(_ bytes: [UInt8], line index: Int, to version: Int) -> [UInt8] {
        var ls = lines(bytes)
        var l = ls[index]
        l[l.count - 2] = UInt8(ascii: "0") + UInt8(version)
        ls[index] = l
        return ls.flatMap { $0 + [0x0A] }
    }

    @Test func theVersionOneFixtureStillVerifies() throws {
        let (log, key) = try fixture()
        let report = try AuditVerifier(publicKeys: [key]).verify(bytes: log)
        #expect(report.status == .intact, "\(report.failure?.message ?? "") \(report.warnings)")
        #expect(report.verifiedCheckpoints >= 2)
        for l in lines(log) {
            let rec = try AuditRecord.parse(line: l)
            #expect(rec.version == 1)
        }
    }

    @Test func theFixtureExercisesEveryDifferenceBetweenTheForms() throws {
        let (log, _) = try fixture()
        let first = try AuditRecord.parse(line: lines(log)[0])
        let text = String(decoding: lines(log)[0], as: UTF8.self)
        #expect(text.contains(#"\u007f"#))
        // Version 1 puts U+E000 before U+1F600; JCS the other way round.
        let e000 = try #require(text.range(of: "\"\u{E000}\""))
        let emoji = try #require(text.range(of: "\"\u{1F600}\""))
        #expect(e000.lowerBound < emoji.lowerBound)
        var asJCS = first
        asJCS.version = AuditRecord.formatVersion
        let jcs = String(decoding: asJCS.lineBytes(), as: UTF8.self)
        #expect(!jcs.contains(#"\u007f"#) && jcs.contains("\u{7F}"))
        #expect(try #require(jcs.range(of: "\"\u{1F600}\"")).lowerBound < (try #require(jcs.range(of: "\"\u{E000}\""))).lowerBound)
    }

    /// The fixture continued by this writer: its records keep their bytes, new ones are version 2.
    private func mixedLog(_ dir: TempDir, key: AuditSigningKey) throws -> String {
        let path = dir.file("mixed.jsonl")
        try writeBytes(path, try fixture().log)
        let log = try AuditLog(path: path, signingKey: key)
        try log.append(
            [AuditEvent(kind: "note", fields: ["\u{E000}": "a\u{7F}", "\u{1F600}": .int(Int64.max), "n": 1])], run: "new-1")
        let run = try AuditRun(log: log, runID: "new-run")
        try run.start(startInfo(2))
        try run.finish(RunExitInfo(status: 0))
        return path
    }

    @Test func aLogContinuedInVersionTwoVerifies() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (old, oldKey) = try fixture()
        let key = AuditSigningKey.generate()
        let path = try mixedLog(dir, key: key)
        let bytes = try readBytes(path)
        #expect(Array(bytes.prefix(old.count)) == old)
        let all = lines(bytes)
        let versions = try all.map { try AuditRecord.parse(line: $0).version }
        let oldCount = lines(old).count
        #expect(versions[..<oldCount].allSatisfy { $0 == 1 })
        #expect(versions[oldCount...].allSatisfy { $0 == 2 } && versions.count > oldCount + 3)
        let report = try AuditVerifier(publicKeys: [oldKey, key.publicKey]).verify(path: path)
        #expect(report.status == .intact, "\(report.failure?.message ?? "") \(report.warnings)")
        // show/export's reader takes every line as a good record too.
        var reader = ChainReader()
        var problems: [String] = []
        var records = 0
        bytes.withUnsafeBytes { b in
            reader.consume(b) { e in
                switch e {
                case .record: records += 1
                case .problem(_, let m): problems.append(m)
                case .unfinished: problems.append("unfinished")
                }
            }
        }
        #expect(problems.isEmpty && records == all.count, "\(problems)")
    }

    @Test func aVersionOneRecordAfterVersionTwoIsTampering() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (_, oldKey) = try fixture()
        let key = AuditSigningKey.generate()
        let bytes = try readBytes(try mixedLog(dir, key: key))
        let all = lines(bytes)
        let firstNew = try #require(all.firstIndex { (try? AuditRecord.parse(line: $0))?.version == 2 })
        // A version 2 record in the middle, flipped back to version 1 (its fields are plain ASCII
        // strings and small integers, so the flipped line is even canonical in version 1).
        let middle = try #require(all.indices.last { $0 > firstNew && $0 < all.count - 2 })
        let flipped = flipVersion(bytes, line: middle, to: 1)
        #expect((try? AuditRecord.parse(line: lines(flipped)[middle])) != nil)
        let r1 = try AuditVerifier(publicKeys: [oldKey, key.publicKey]).verify(bytes: flipped)
        #expect(r1.status == .tampered)
        #expect(r1.failure?.line == middle + 1 && r1.failure?.code == "version", "\(String(describing: r1.failure))")
        // The last line, a version 2 checkpoint: no later prev covers it, its signature does.
        let last = all.count - 1
        #expect(try AuditRecord.parse(line: all[last]).kind == AuditKind.checkpoint)
        let r2 = try AuditVerifier(publicKeys: [oldKey, key.publicKey]).verify(bytes: flipVersion(bytes, line: last, to: 1))
        #expect(r2.status == .tampered && r2.failure?.line == last + 1, "\(String(describing: r2.failure))")
        // A writer does not continue such a log either.
        let path = dir.file("downgraded.jsonl")
        try writeBytes(path, flipVersion(bytes, line: last - 1, to: 1))
        #expect(throws: AuditError.self) { try AuditLog(path: path, signingKey: key) }
    }

    @Test func aVersionOneRecordFlippedToVersionTwoBreaksTheChainOrItsSignature() throws {
        let (log, key) = try fixture()
        let all = lines(log)
        // In the middle: the next record's prev no longer matches.
        let r1 = try AuditVerifier(publicKeys: [key]).verify(bytes: flipVersion(log, line: 1, to: 2))
        #expect(r1.status == .tampered && r1.failure?.line == 2, "\(String(describing: r1.failure))")
        // The fixture's last line is a version 1 checkpoint: as version 2 it would sign a
        // `version 2` line its signature does not cover.
        #expect(try AuditRecord.parse(line: all[all.count - 1]).kind == AuditKind.checkpoint)
        let r2 = try AuditVerifier(publicKeys: [key]).verify(bytes: flipVersion(log, line: all.count - 1, to: 2))
        #expect(r2.status == .tampered && r2.failure?.code == "signature", "\(String(describing: r2.failure))")
        // The first record, whose JCS form differs from its version 1 form: not canonical for
        // the reader, and the chain breaks for the verifier.
        #expect(throws: AuditFormatError.notCanonical) { try AuditRecord.parse(line: lines(flipVersion(log, line: 0, to: 2))[0]) }
        let r3 = try AuditVerifier(publicKeys: [key]).verify(bytes: flipVersion(log, line: 0, to: 2))
        #expect(r3.status == .tampered)
    }

    @Test func checkpointsSignTheirOwnVersionFromVersionTwoOn() throws {
        let origin = CheckpointNote.origin(logID: String(repeating: "a", count: 64))
        let head = String(repeating: "b", count: 64)
        let v1 = try #require(CheckpointNote.body(origin: origin, seq: 5, headHex: head, ts: "t", run: "r", version: 1))
        let v2 = try #require(CheckpointNote.body(origin: origin, seq: 5, headHex: head, ts: "t", run: "r", version: 2))
        #expect(String(decoding: v2, as: UTF8.self) == String(decoding: v1, as: UTF8.self) + "version 2\n")
        #expect(String(decoding: v1, as: UTF8.self).split(separator: "\n").count == 5)
    }
}
