import Foundation
import Testing

@testable import WardenAudit

/// Crash safety: a torn last line never hides earlier records and is recovered cleanly.
@Suite struct TornTailTests {
    func tornLog(cutFromEnd: Int) throws -> (TempDir, String, AuditSigningKey, Int) {
        let dir = try TempDir()
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: key, runs: 2, denialsPerRun: 10)
        let bytes = try readBytes(path)
        // Cut into the last line (a checkpoint) as a power loss would.
        let cut = bytes.count - cutFromEnd
        try writeBytes(path, Array(bytes[..<cut]))
        return (dir, path, key, cut)
    }

    @Test(arguments: [1, 2, 40, 150])
    func tornTailIsAWarningThenRecovered(cutFromEnd: Int) throws {
        let (dir, path, key, cut) = try tornLog(cutFromEnd: cutFromEnd)
        defer { dir.cleanup() }
        let before = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(before.status == .warnings)
        #expect(before.warnings.contains { $0.code == "torn-tail" })
        #expect(before.failure == nil)
        let original = try readBytes(path)
        let tornStart = original.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0

        // The next run appends: it must not edit the torn bytes and must chain past them.
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 3)
        let after = try readBytes(path)
        #expect(original.count == cut)
        #expect(Array(after[..<cut]) == original)  // nothing edited in place
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")
        if cutFromEnd == 1 {
            // Only the newline was lost: the complete record is adopted, no recovery needed.
            #expect(r.recoveries.isEmpty)
            #expect(after[cut] == UInt8(ascii: "\n"))
            return
        }
        #expect(r.recoveries.count == 1)
        #expect(r.recoveries.first?.offset == Int64(tornStart))
        #expect(r.recoveries.first?.length == Int64(cut - tornStart))
        let timeline = try AuditTimeline.load(path: path, kind: AuditKind.recovery)
        #expect(timeline.runs.first?.records.count == 1)
    }

    @Test func tornAtEveryOffsetOfTheLastLineRecovers() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let key = AuditSigningKey.generate()
        let path = dir.file("base.jsonl")
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 2)
        let bytes = try readBytes(path)
        let lastStart = (bytes.dropLast().lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        for cut in lastStart..<(bytes.count - 1) {
            let p = dir.file("t\(cut).jsonl")
            try writeBytes(p, Array(bytes[..<cut]))
            let log = try AuditLog(path: p, signingKey: key)
            try log.append([AuditEvent(kind: "note", fields: ["after": "crash"])], run: "next", checkpoint: true)
            let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: p)
            #expect(r.status == .intact, "cut \(cut): \(r.text(path: p))")
            #expect(r.recoveries.count == (cut == lastStart ? 0 : 1), "cut \(cut)")
        }
        do {
            // Only the final newline lost: adopted without a recovery record.
            let p = dir.file("nl.jsonl")
            try writeBytes(p, Array(bytes.dropLast()))
            try AuditLog(path: p, signingKey: key).append([AuditEvent(kind: "note", fields: [:])], run: "next", checkpoint: true)
            let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: p)
            #expect(r.status == .intact && r.recoveries.isEmpty)
        }
    }

    @Test func doubleCrashLeavesTwoTornPiecesThatOneRecoveryCovers() throws {
        let (dir, path, key, _) = try tornLog(cutFromEnd: 30)
        defer { dir.cleanup() }
        // A second writer crashed after writing only the separating newline and the start of
        // its recovery record (which begins with the `length` field).
        try appendBytes(path, Array("\n{\"fields\":{\"len".utf8))
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 1)
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")
        #expect(r.recoveries.count == 1)
    }

    /// Records and a torn piece larger than the writer's first look at the tail (64 KiB).
    @Test func largeRecordsAndALargeTornPieceRecover() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        let big = String(repeating: "x", count: 100_000)
        try AuditLog(path: path, signingKey: key).append(
            [AuditEvent(kind: "note", fields: ["pad": .string(big)]), AuditEvent(kind: "note", fields: ["pad": .string(big)])],
            run: "big", checkpoint: true)
        let whole = try AuditRecord(seq: 9, ts: "2026-01-01T00:00:00.000000Z", kind: "note", run: "big", fields: ["pad": .string(big + big)], prev: AuditRecord.genesisHash).lineBytes()
        try appendBytes(path, Array(whole.prefix(150_000)))
        try AuditLog(path: path, signingKey: key).append([AuditEvent(kind: "note", fields: [:])], run: "next", checkpoint: true)
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")
        #expect(r.recoveries.first?.length == 150_000)
    }

    @Test func garbageInTheMiddleWithoutRecoveryIsTampering() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 3)
        var lines = splitLines(try readBytes(path))
        lines.insert(Array("not a record\n".utf8), at: 2)
        try writeBytes(path, lines.flatMap { $0 })
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .tampered)
        #expect(r.failure?.line == 3)
    }

    @Test func fabricatedRecoveryForRemovedRecordsIsCaught() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 3)
        // Someone cuts the signed tail at a line boundary, the next run continues; a trusted
        // checkpoint saved earlier exposes the loss.
        let trusted = try #require(try AuditLogFile.lastCheckpointLine(path: path))
        var lines = splitLines(try readBytes(path))
        lines.removeLast(2)
        try writeBytes(path, lines.flatMap { $0 })
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 3)
        let r = try AuditVerifier(publicKeys: [key.publicKey], trustedCheckpoint: trusted).verify(path: path)
        #expect(r.status == .tampered)
        #expect(r.failure?.code == "trusted-checkpoint")
        #expect(r.failure?.line == lines.count + 1)
    }
}
