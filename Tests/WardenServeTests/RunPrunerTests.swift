import Synchronization
import Foundation
import Testing
import WardenAudit
@testable import WardenServe

/// `warden serve --keep-runs`: runs that ended long ago lose their queue rows and their
/// directories; live and recent runs, other names, and anything a link points at stay.
@Suite struct RunPrunerTests {
    @Test func oldEndedRunsGoAndEverythingElseStays() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let runs = dir.path + "/runs"
        let day: Int64 = 24 * 3600 * 1000
        let old = try store.enqueue(sampleRun(1)), recent = try store.enqueue(sampleRun(2)), live = try store.enqueue(sampleRun(3))
        for _ in 0..<3 { _ = try store.claim(limits: ConcurrencyLimits(host: 3), now: 10) }
        try store.finish(old.id, state: .failed, exitCode: 1, error: nil, now: 20)
        try store.finish(recent.id, state: .finished, exitCode: 0, error: nil, now: 20 + day)
        // Directories: each run's, one whose row is already gone, and one that is not a run's.
        let outside = dir.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "keep".write(toFile: outside + "/file", atomically: true, encoding: .utf8)
        for name in [String(old.id), String(recent.id), String(live.id), "99", "notes"] {
            try FileManager.default.createDirectory(atPath: runs + "/" + name + "/workspace", withIntermediateDirectories: true)
            try "x".write(toFile: runs + "/" + name + "/workspace/f", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: runs + "/\(old.id)/workspace/link", withDestinationPath: outside)

        let log = dir.path + "/audit.jsonl"
        let reports = ReportLines()
        let pruner = RunPruner(store: store, runsDirectory: runs, keepMilliseconds: day, recorder: DecisionRecorder(logPath: log, signingKeyPath: nil),
                               report: { reports.append($0) })
        #expect(pruner.prune(now: 21 + day) == [old.id])
        #expect(try store.run(old.id) == nil && store.run(recent.id) != nil && store.run(live.id)?.state == .running)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: runs))
        #expect(left == [String(recent.id), String(live.id), "notes"], "\(left)")
        #expect(try String(contentsOfFile: outside + "/file", encoding: .utf8) == "keep", "a link is removed, never followed")
        let records = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(records.count == 1 && records[0].contains("\"kind\":\"serve.prune\"") && records[0].contains("\"runs\":[\(old.id)]"), "\(records)")
        // Nothing more to do: no record.
        #expect(pruner.prune(now: 22 + day).isEmpty)
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func theKeepIsAtLeastADay() {
        let dir = StoreTempDir()
        let store = try! ServeStore(path: dir.file())
        let pruner = RunPruner(store: store, runsDirectory: dir.path + "/runs", keepMilliseconds: 1000,
                               recorder: DecisionRecorder(logPath: dir.path + "/audit.jsonl", signingKeyPath: nil), report: { _ in })
        #expect(pruner.keepMilliseconds == RunPruner.minimumKeepMilliseconds)
    }
}

/// Lines a component reported, collected across threads.
final class ReportLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
