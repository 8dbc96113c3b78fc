import Foundation
import Testing

@testable import WardenAudit

/// Logs, keys and checkpoints are opened without following a symbolic link, without
/// blocking, and only when they are regular files of a bounded size.
@Suite struct SafeInputTests {
    func isUnsafeFile(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let e as AuditError {
            if case .unsafeFile = e { return true }
            return false
        } catch { return false }
    }

    @Test func symlinkedLogIsRefusedAndItsTargetUntouched() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let target = dir.file("target.jsonl")
        try AuditLog(path: target).append([AuditEvent(kind: "note", fields: [:])], run: "r")
        let before = try readBytes(target)
        let link = dir.file("link.jsonl")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(isUnsafeFile { _ = try AuditLog(path: link) })
        #expect(try readBytes(target) == before)
        #expect(isUnsafeFile { _ = try AuditVerifier().verify(path: link) })
        #expect(isUnsafeFile { _ = try AuditTimeline.load(path: link) })
    }

    @Test func danglingSymlinkIsRefusedAndNothingIsCreated() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let link = dir.file("dangling.jsonl")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir.file("created.jsonl"))
        #expect(isUnsafeFile { _ = try AuditLog(path: link) })
        #expect(!FileManager.default.fileExists(atPath: dir.file("created.jsonl")))
    }

    @Test func fifoDirectoryAndDeviceAreRefusedAtOnce() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let fifo = dir.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // Nobody opens the other end: a blocking open would hang here.
        #expect(isUnsafeFile { _ = try AuditLog(path: fifo) })
        #expect(isUnsafeFile { _ = try AuditVerifier().verify(path: fifo) })
        #expect(isUnsafeFile { _ = try AuditTimeline.load(path: fifo) })
        #expect(isUnsafeFile { _ = try AuditPublicKey.load(path: fifo) })
        #expect(isUnsafeFile { _ = try AuditInputFile.readCheckpoint(path: fifo) })
        #expect(isUnsafeFile { _ = try AuditLog(path: dir.path) })
        #expect(isUnsafeFile { _ = try AuditVerifier().verify(path: dir.path) })
        #expect(isUnsafeFile { _ = try AuditVerifier().verify(path: "/dev/zero") })
        #expect(isUnsafeFile { _ = try AuditSigningKey.load(path: "/dev/zero") })
        #expect(isUnsafeFile { _ = try AuditInputFile.readCheckpoint(path: "/dev/zero") })
    }

    @Test func keysAndCheckpointsHaveASizeLimit() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let big = dir.file("big")
        try writeBytes(big, [UInt8](repeating: UInt8(ascii: "a"), count: AuditInputFile.smallFileLimit + 1))
        #expect(isUnsafeFile { _ = try AuditInputFile.readCheckpoint(path: big) })
        #expect(isUnsafeFile { _ = try AuditPublicKey.load(path: big) })
        let key = AuditSigningKey.generate()
        try AuditKeyFiles.write(key, privatePath: dir.file("k.key"), publicPath: dir.file("k.pub"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.pub"), withDestinationPath: dir.file("k.pub"))
        #expect(isUnsafeFile { _ = try AuditPublicKey.load(path: dir.file("link.pub")) })
        #expect(try AuditPublicKey.load(path: dir.file("k.pub")) == key.publicKey)
    }

    @Test func emptyPathsAreRefused() throws {
        #expect(throws: AuditError.invalidArgument("the audit log path is empty")) { try AuditLog(path: "") }
        #expect(throws: AuditError.self) { try AuditSigningKey.load(path: "") }
        #expect(AuditLocation.resolve(explicit: "", environment: ["WARDEN_AUDIT_LOG": "/y"], uid: 0) == "")
        #expect(AuditLocation.signingKeyPath(explicit: "") == "")
    }

    @Test func aFileThatIsNotAWardenLogIsNotWritten() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("notes.txt")
        try writeBytes(path, Array("my notes\nmore notes\n".utf8))
        #expect(throws: AuditError.notAuditLog(path: path)) { try AuditLog(path: path) }
        #expect(try readBytes(path) == Array("my notes\nmore notes\n".utf8))
    }

    /// A line far longer than any record is read in bounded memory and reported as tampering.
    @Test func overlongLineIsTamperingNotUnboundedMemory() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        try AuditLog(path: path).append([AuditEvent(kind: "note", fields: [:])], run: "r")
        try appendBytes(path, Array(#"{"fields":{"#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 17 << 20) + [0x0A])
        let r = try AuditVerifier().verify(path: path)
        #expect(r.status == .tampered)
        #expect(r.failure?.line == 2)
        #expect(r.lines == 2)
    }
}
