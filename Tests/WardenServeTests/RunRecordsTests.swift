import Foundation
import Testing
import WardenAudit
@testable import WardenServe

/// `GET /api/runs/ID/records` reads the log backwards from its end to the run's decision,
/// never the whole log.
@Suite struct RunRecordsTests {
    static func log(_ body: (AuditLog) throws -> Void) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runrecords-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/audit.jsonl"
        try body(try AuditLog(path: path))
        return path
    }

    static func note(_ text: String) -> AuditEvent { AuditEvent(kind: "note", fields: ["text": .string(text)]) }

    @Test func theRunsRecordsComeInLogOrderAndTheScanStopsAtItsDecision() throws {
        let path = try Self.log { log in
            // A record of the run's id before its decision cannot be one of its records: the
            // backward scan must have stopped at the decision and so never sees it.
            _ = try log.append([Self.note("before")], run: "aaaaaaaaaaaaaaaa", sync: false)
            _ = try log.append([Self.note("noise")], run: "cccccccccccccccc", sync: false)
            _ = try log.append([AuditEvent(kind: AuditKind.triggerAllow, fields: ["trigger": "t"])], run: "dddddddddddddddd", sync: false)
            _ = try log.append([Self.note("noise")], run: "cccccccccccccccc", sync: false)
            _ = try log.append([Self.note("one"), Self.note("two")], run: "aaaaaaaaaaaaaaaa", sync: false)
            _ = try log.append([Self.note("noise")], run: "cccccccccccccccc", sync: true)
        }
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let found = try RunRecords.scan(path, ids: ["dddddddddddddddd", "aaaaaaaaaaaaaaaa"], decision: "dddddddddddddddd", scanLimit: 1 << 20).get()
        #expect(found.reachedDecision && !found.truncated)
        let texts = found.records.map { $0["kind"]?.stringValue == "note" ? $0["fields"]?["text"]?.stringValue ?? "?" : $0["kind"]?.stringValue ?? "?" }
        #expect(texts == [AuditKind.triggerAllow, "one", "two"], "\(texts)")
    }

    @Test func aDecisionBeyondTheScanLimitIsReportedNotSearchedFor() throws {
        let path = try Self.log { log in
            _ = try log.append([AuditEvent(kind: AuditKind.triggerAllow, fields: [:])], run: "dddddddddddddddd", sync: false)
            let filler = String(repeating: "x", count: 4000)
            for _ in 0..<600 { _ = try log.append([Self.note(filler)], run: "cccccccccccccccc", sync: false) }
            _ = try log.append([Self.note("late")], run: "aaaaaaaaaaaaaaaa", sync: true)
        }
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let found = try RunRecords.scan(path, ids: ["dddddddddddddddd", "aaaaaaaaaaaaaaaa"], decision: "dddddddddddddddd", scanLimit: 1 << 20).get()
        #expect(!found.reachedDecision && found.truncated)
        #expect(found.records.count == 1 && found.records.first?["fields"]?["text"]?.stringValue == "late")
        // With room enough, the same log gives the decision too.
        let all = try RunRecords.scan(path, ids: ["dddddddddddddddd", "aaaaaaaaaaaaaaaa"], decision: "dddddddddddddddd", scanLimit: 8 << 20).get()
        #expect(all.reachedDecision && all.records.count == 2)
    }

    @Test func aMissingLogIsAnErrorNotACrash() {
        guard case .failure(let error) = RunRecords.scan("/nonexistent/audit.jsonl", ids: ["d"], decision: "d", scanLimit: 1 << 20) else {
            Issue.record("a missing log was read")
            return
        }
        #expect(error.description.contains("cannot open"))
    }
}
