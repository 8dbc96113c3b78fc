import Foundation
import Testing

@testable import WardenAudit

/// A run whose writer died before `run.exit` is named by the next writer in an
/// `interrupted` record; a run that is still going is not.
@Suite struct InterruptedRunTests {
    @Test func nextWriterRecordsARunThatEndedWithoutExit() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        do {
            // The supervisor "dies": run.start and a denial, then the log is closed.
            let log = try AuditLog(path: path, signingKey: key)
            let run = try AuditRun(log: log, runID: "crashed-run", maxBatch: 1)
            try run.start(startInfo(1))
            try run.record(AuditEvent(kind: "note", fields: ["before": "crash"]))
        }
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 2)
        let records = splitLines(try readBytes(path)).map { try! AuditRecord.parse(line: Array($0.dropLast())) }
        let interrupted = records.filter { $0.kind == AuditKind.interrupted }
        #expect(interrupted.count == 1)
        #expect(interrupted.first?.fields["run"] == .string("crashed-run"))
        #expect(interrupted.first?.fields["start_seq"] == .int(0))
        // Written before the new run's own records.
        let i = try #require(records.firstIndex { $0.kind == AuditKind.interrupted })
        #expect(records[i + 1].kind == AuditKind.runStart && records[i + 1].run == "run-0")

        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")  // informative, not a warning
        #expect(r.interruptions.map(\.run) == ["crashed-run"])
        #expect(r.text(path: path).contains("interrupted: run crashed-run (run.start at seq 0) ended without run.exit"))

        // Recorded once: a third writer does not repeat it.
        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 1)
        let again = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(again.interruptions.count == 1)
    }

    @Test func aRunThatIsStillGoingIsNotInterrupted() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let live = try AuditLog(path: path)
        let run = try AuditRun(log: live, runID: "live-run")
        try run.start(startInfo(1))
        // Another writer (its own descriptor, as another process would have) appends meanwhile.
        try AuditLog(path: path).append([AuditEvent(kind: "note", fields: [:])], run: "other")
        try run.finish(RunExitInfo(status: 0))
        let t = try AuditTimeline.load(path: path, kind: AuditKind.interrupted)
        #expect(t.runs.isEmpty)
        withExtendedLifetime(live) {}
    }
}
