import Foundation
import Testing

@testable import WardenAudit

@Suite struct WriterTests {
    /// 16 writers on 16 threads, each with its own `AuditLog` (its own file descriptor, so
    /// the `flock` really serialises them as it does between processes; the CLI tests do the
    /// same with 16 processes).
    @Test func sixteenConcurrentWritersLoseAndInterleaveNothing() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("shared.jsonl")
        let key = AuditSigningKey.generate()
        let perWriter = 150
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<16 {
                group.addTask {
                    let log = try AuditLog(path: path, signingKey: key)
                    let run = try AuditRun(log: log, runID: "writer-\(w)", maxBatch: 7)
                    try run.start(startInfo(w))
                    for i in 0..<perWriter {
                        try run.record(AuditEvent(kind: "note", fields: ["writer": .int(Int64(w)), "i": .int(Int64(i))]))
                    }
                    try run.finish(RunExitInfo(status: 0))
                }
            }
            try await group.waitForAll()
        }
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")
        let t = try AuditTimeline.load(path: path, kind: "note")
        #expect(t.runs.count == 16)
        for run in t.runs {
            let seen = run.records.compactMap { $0.fields["i"]?.intValue }
            #expect(seen == (0..<Int64(perWriter)).map { $0 }, "\(run.runID)")  // all present, in order
        }
        #expect(t.badLines.isEmpty)
    }

    @Test func checkpointsAppearAtLeastEveryThousandRecords() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        let log = try AuditLog(path: path, signingKey: key)
        for b in 0..<30 {
            try log.append((0..<111).map { AuditEvent(kind: "note", fields: ["b": .int(Int64(b)), "i": .int(Int64($0))]) }, run: "bulk", sync: false)
        }
        let lines = splitLines(try readBytes(path)).map { try! AuditRecord.parse(line: Array($0.dropLast())) }
        let checkpointSeqs = lines.filter { $0.kind == AuditKind.checkpoint }.map(\.seq)
        #expect(checkpointSeqs == [1000, 2000, 3000])
        var last: Int64 = 0
        for s in checkpointSeqs + [lines.last!.seq] {
            #expect(s - last <= 1000)
            last = s
        }
        // Without a key, no checkpoints and verify warns.
        let plain = dir.file("plain.jsonl")
        try AuditLog(path: plain).append([AuditEvent(kind: "note", fields: [:])], run: "r")
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: plain)
        #expect(r.status == .warnings)
    }

    @Test func rejectsReservedKindsAndBadRunIDs() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let log = try AuditLog(path: dir.file("l.jsonl"))
        #expect(throws: AuditError.self) { try log.append([AuditEvent(kind: "checkpoint", fields: [:])], run: "r") }
        #expect(throws: AuditError.self) { try log.append([AuditEvent(kind: "Bad Kind", fields: [:])], run: "r") }
        #expect(throws: AuditError.self) { try log.append([AuditEvent(kind: "note", fields: [:])], run: "bad\"run") }
        #expect(throws: AuditError.self) { try AuditRun(log: log, runID: "") }
    }

    @Test func createsDirectoriesAndFilesWithRestrictiveModes() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("state/warden/audit.jsonl")
        try AuditLog(path: path).append([AuditEvent(kind: "note", fields: [:])], run: "r")
        var st = stat()
        stat(dir.file("state/warden"), &st)
        #expect(st.st_mode & 0o777 == 0o700)
        stat(path, &st)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    @Test func refusesToChainOntoALongCorruptTail() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("l.jsonl")
        try AuditLog(path: path).append([AuditEvent(kind: "note", fields: [:])], run: "r")
        try appendBytes(path, [UInt8](repeating: UInt8(ascii: "x"), count: 33 << 20) + [UInt8(ascii: "\n")])
        #expect(throws: AuditError.self) { try AuditLog(path: path).append([AuditEvent(kind: "note", fields: [:])], run: "r") }
    }

    @Test func locationResolution() {
        #expect(AuditLocation.resolve(explicit: "/x/a.jsonl", environment: ["WARDEN_AUDIT_LOG": "/y"], uid: 0) == "/x/a.jsonl")
        #expect(AuditLocation.resolve(explicit: nil, environment: ["WARDEN_AUDIT_LOG": "/y/l.jsonl"], uid: 1000) == "/y/l.jsonl")
        #expect(AuditLocation.resolve(explicit: nil, environment: [:], uid: 0) == "/var/log/warden/audit.jsonl")
        #expect(AuditLocation.resolve(explicit: nil, environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"], uid: 1000) == "/s/warden/audit.jsonl")
        #expect(AuditLocation.resolve(explicit: nil, environment: ["HOME": "/h"], uid: 1000) == "/h/.local/state/warden/audit.jsonl")
        #expect(AuditLocation.resolve(explicit: nil, environment: ["XDG_STATE_HOME": "rel", "HOME": "/h"], uid: 1000) == "/h/.local/state/warden/audit.jsonl")
    }
}
