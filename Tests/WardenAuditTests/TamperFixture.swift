import Foundation
import Testing

@testable import WardenAudit

/// A realistic signed log of 1,000+ records with one torn write and its recovery, written
/// through the real writer, plus what an intact log has at each line.
struct TamperFixture: Sendable {
    let bytes: [UInt8]
    let lines: [[UInt8]]
    /// Seq an intact log has at each line index (the torn line gets its recovery's seq).
    let seqs: [Int64]
    let key: AuditPublicKey
    let signingKey: AuditSigningKey
    let tornIndex: Int
    let recoveryIndex: Int
    /// The final checkpoint line (without newline).
    let trusted: [UInt8]

    static let shared: Result<TamperFixture, any Error> = Result { try TamperFixture.make() }

    static func get() throws -> TamperFixture { try shared.get() }

    static func make() throws -> TamperFixture {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("audit.jsonl")
        let key = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: key, runs: 5, denialsPerRun: 100)
        // A crash mid-write: a partial line with no newline; the next writer recovers it.
        try appendBytes(path, Array(#"{"fields":{"args":["0x1","0xff"],"count":3,"na"#.utf8))
        let log = try AuditLog(path: path, signingKey: key)
        var t = AuditTime(seconds: 1_790_100_000, nanoseconds: 0)
        for r in 5..<10 {
            let run = try AuditRun(log: log, runID: "run-\(r)", maxBatch: 37, aggregationWindowNanos: 1_000_000_000_000)
            try run.start(startInfo(r))
            for d in 0..<100 {
                t.nanoseconds = Int32(d * 1000)
                try run.denySyscall(nr: Int32(d), name: "sys\(d)", args: [UInt64(d)], pid: 77, errno: 1, at: t)
            }
            try run.finish(RunExitInfo(signal: 9, timedOut: r == 7))
        }
        let bytes = try readBytes(path)
        let lines = splitLines(bytes)
        var seqs: [Int64] = []
        var tornIndex = -1
        var recoveryIndex = -1
        for (i, l) in lines.enumerated() {
            let body = Array(l.dropLast())
            if let rec = try? AuditRecord.parse(line: body) {
                seqs.append(rec.seq)
                if rec.kind == AuditKind.recovery { recoveryIndex = i }
            } else {
                tornIndex = i
                seqs.append(-1)
            }
        }
        guard tornIndex >= 0, recoveryIndex == tornIndex + 1 else { throw AuditError.invalidArgument("fixture has no recovery") }
        seqs[tornIndex] = seqs[recoveryIndex]
        let trusted = Array(lines[lines.count - 1].dropLast())
        return TamperFixture(
            bytes: bytes, lines: lines, seqs: seqs, key: key.publicKey, signingKey: key, tornIndex: tornIndex,
            recoveryIndex: recoveryIndex, trusted: trusted)
    }

    func verify(_ bytes: [UInt8], trusted: Bool = true, keys: [AuditPublicKey]? = nil) throws -> VerifyReport {
        try AuditVerifier(publicKeys: keys ?? [key], trustedCheckpoint: trusted ? self.trusted : nil).verify(bytes: bytes)
    }

    func join(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 } }

    /// Byte offset where line `i` starts.
    func offset(of i: Int) -> Int { lines[..<i].reduce(0) { $0 + $1.count } }
}
