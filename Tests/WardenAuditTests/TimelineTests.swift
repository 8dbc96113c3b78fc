import Foundation
import Testing

@testable import WardenAudit

@Suite struct TimelineTests {
    @Test func timelineShowsRunsDenialsAndExit() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        try writeRealisticLog(path: path, key: AuditSigningKey.generate(), runs: 2, denialsPerRun: 3)
        let t = try AuditTimeline.load(path: path)
        #expect(t.runs.map(\.runID) == ["run-0", "run-1"])
        let text = t.text()
        print(text)
        #expect(text.contains("run run-0  identity dependency-updater"))
        #expect(text.contains("argv       /bin/sh -c 'make test 0'"))
        #expect(text.contains("unobserved landlock, capabilities"))
        #expect(text.contains("deny       syscall sys2 (2) ×3, pid 4242, errno 1"))
        #expect(text.contains("deny       net tcp 93.184.216.34:443 (example.com) ×1"))
        #expect(text.contains("exit       status 1"))
        #expect(!text.contains("checkpoint"))
        let only = try AuditTimeline.load(path: path, run: "run-1", kind: AuditKind.runExit)
        #expect(only.runs.count == 1 && only.runs[0].records.count == 1)
        let json = try JSONSerialization.jsonObject(with: Data(only.json().utf8)) as? [String: Any]
        let runs = json?["runs"] as? [[String: Any]]
        #expect(runs?.first?["run"] as? String == "run-1")
    }
}
