import Foundation
import Synchronization
import Testing

@testable import WardenAudit

/// A small real filesystem for the log: a size-limited tmpfs mounted for one test.
struct SmallFilesystem {
    let path: String

    /// nil (with the reason printed) when this process may not mount.
    static func mount(size: String = "64k") throws -> SmallFilesystem? {
        let dir = try TempDir().path
        let (status, out) = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", dir])
        guard status == 0 else {
            print("skip: cannot mount a tmpfs here (\(out.trimmingCharacters(in: .whitespacesAndNewlines)))")
            try? FileManager.default.removeItem(atPath: dir)
            return nil
        }
        return SmallFilesystem(path: dir)
    }

    /// Fills the filesystem with `filler` until no block is left.
    func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        let chunk = [UInt8](repeating: 0x2e, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
    }

    func free() { unlink(path + "/filler") }

    func unmount() {
        _ = Self.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        guard (try? p.run()) != nil else { return (-1, "\(tool) not found") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Collects what the loss handler is told.
final class LossLog: Sendable {
    let changes = Mutex<[AuditRun.LossChange]>([])
    func add(_ c: AuditRun.LossChange) { changes.withLock { $0.append(c) } }
    var all: [AuditRun.LossChange] { changes.withLock { $0 } }
}

@Suite(.serialized) struct AuditFailureTests {
    private func kinds(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let r = try? AuditRecord.parse(line: Array(line.utf8)) else { return nil }
            return r.kind
        }
    }

    /// Disk full mid-run: nothing is dropped; the records wait in the spill file, and the
    /// run appends them after a `recovery.spill` record once the disk has room again.
    @Test func fullDiskKeepsRecordsAndTheRunRecoversThem() throws {
        guard let fs = try SmallFilesystem.mount() else { return }
        defer { fs.unmount() }
        let path = fs.path + "/audit.jsonl"
        let run = try AuditRun(log: AuditLog(path: path), runID: "filler", maxBatch: 1, retryIntervalNanos: 0,
                               spillReserveBytes: 16384)
        let losses = LossLog()
        run.setLossHandler { losses.add($0) }
        try run.start(startInfo(0))
        fs.fill()
        // Each record is bigger than what is left of the log's last page.
        for i in 0..<4 {
            #expect(throws: AuditError.self) { try run.record(Self.big(i)) }
        }
        #expect(run.failure != nil)
        guard case .failed? = losses.all.first else { Issue.record("no loss reported: \(losses.all)"); return }
        #expect(try kinds(path) == ["run.start"], "no partial batch in the log")
        let spill = AuditSpill.path(log: path, run: "filler")
        let spilled = try String(contentsOfFile: spill, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(spilled.count == 4)

        fs.free()
        try run.flushIfDue()
        #expect(run.failure == nil)
        #expect(losses.all.last == .recovered)
        try run.finish(RunExitInfo(status: 0))
        let written = try kinds(path)
        #expect(written == ["run.start", "recovery.spill"] + Array(repeating: "test.big", count: 4) + ["run.exit"])
        #expect(access(spill, F_OK) != 0, "the spill file is removed once empty")
        #expect(try AuditVerifier().verify(path: path).status != .tampered)
    }

    /// The run ends while the disk is still full: its records (run.exit too) stay in the
    /// spill file, and the next writer of the log appends them.
    @Test func theNextWriterAppendsWhatADeadRunSpilled() throws {
        guard let fs = try SmallFilesystem.mount() else { return }
        defer { fs.unmount() }
        let path = fs.path + "/audit.jsonl"
        let first = try AuditRun(log: AuditLog(path: path), runID: "first", maxBatch: 1, retryIntervalNanos: 0,
                                 spillReserveBytes: 16384)
        try first.start(startInfo(1))
        fs.fill()
        #expect(throws: AuditError.self) { try first.record(Self.big(0)) }
        for nr in 0..<5 { try? first.denySyscall(nr: Int32(nr), name: "sys\(nr)", args: [], pid: 7) }
        #expect(throws: AuditError.self) { try first.finish(RunExitInfo(status: 0)) }
        let unsaved = try #require(first.unsaved)
        #expect(unsaved.records == 7 && unsaved.unspilledLines.isEmpty)
        #expect(unsaved.spillPath == AuditSpill.path(log: path, run: "first"))
        #expect(first.recordedTotals.isEmpty, "nothing claimed as recorded")

        fs.free()
        let next = try AuditRun(log: AuditLog(path: path), runID: "next")
        try next.start(startInfo(2))
        try next.finish(RunExitInfo(status: 0))
        let records = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .compactMap { try? AuditRecord.parse(line: Array($0.utf8)) }
        #expect(records.map(\.kind) == ["run.start", "recovery.spill", "test.big"] + Array(repeating: "deny.syscall", count: 5)
            + ["run.exit", "run.start", "run.exit"])
        #expect(records[1].run == "first" && records[1].fields["recovered_by"] == .string("next"))
        #expect(records[1].fields["records"] == .int(7))
        #expect(records[8].run == "first")
        #expect(access(AuditSpill.path(log: path, run: "first"), F_OK) != 0)
        #expect(try AuditVerifier().verify(path: path).status != .tampered)
    }

    /// A record of about 3.6 KB: more than the rest of the log's last 4 KiB page.
    static func big(_ i: Int) -> AuditEvent {
        AuditEvent(kind: "test.big", fields: ["i": .int(Int64(i)), "pad": .string(String(repeating: "x", count: 3600))])
    }

    /// A run's spill file is locked while the run lives and left alone by other writers; a
    /// dead run's file holding no record is removed by the next writer, nothing appended.
    @Test func liveSpillFilesAreLeftAloneAndEmptyDeadOnesRemoved() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("audit.jsonl")
        let live = try AuditRun(log: AuditLog(path: path), runID: "live")
        try live.start(startInfo(5))
        let liveSpill = AuditSpill.path(log: path, run: "live")
        #expect(try readBytes(liveSpill).starts(with: Array("#warden-spill v1 run=live\n".utf8)))
        // What a SIGKILLed supervisor that had nothing to spill leaves: the header, no lock.
        let killedSpill = AuditSpill.path(log: path, run: "killed")
        try writeBytes(killedSpill, Array("#warden-spill v1 run=killed\n".utf8))

        let next = try AuditRun(log: AuditLog(path: path), runID: "next")
        try next.start(startInfo(6))
        try next.finish(RunExitInfo(status: 0))
        #expect(try !kinds(path).contains(AuditKind.recoverySpill))
        #expect(access(killedSpill, F_OK) != 0)
        #expect(access(liveSpill, F_OK) == 0, "the live run's file is untouched")
        try live.finish(RunExitInfo(status: 0))
        #expect(access(liveSpill, F_OK) != 0, "removed when its run ends with everything written")
    }

    /// A log removed during the run is a failure too (appends would reach no file).
    @Test func aRemovedLogIsAFailure() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("audit.jsonl")
        let run = try AuditRun(log: AuditLog(path: path), runID: "vanish", maxBatch: 1)
        try run.start(startInfo(3))
        unlink(path)
        #expect(throws: AuditError.self) { try run.record(AuditEvent(kind: "test.event", fields: [:])) }
        #expect(run.failure != nil)
    }

    /// Aggregated denials reach the log once 1,000 have been counted, without waiting for
    /// the window: a killed supervisor loses at most that many.
    @Test func aggregatesAreWrittenEveryThousandEvents() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("audit.jsonl")
        let run = try AuditRun(log: AuditLog(path: path), runID: "count", aggregationWindowNanos: .max)
        try run.start(startInfo(4))
        for _ in 0..<999 { try run.denySyscall(nr: 101, name: "ptrace", args: [], pid: 1) }
        #expect(run.recordedTotals[AuditKind.denySyscall] == nil)
        try run.denySyscall(nr: 101, name: "ptrace", args: [], pid: 1)
        #expect(run.recordedTotals[AuditKind.denySyscall] == 1000)
        #expect(try kinds(path).last == "deny.syscall")
    }
}
