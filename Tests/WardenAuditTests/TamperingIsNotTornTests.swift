import Foundation
import Testing

@testable import WardenAudit

/// Only one unterminated last line (a write that did not finish) is a torn tail. Every other
/// shape of bytes that are not records is tampering: verify exits 1 at the first bad line,
/// and writers refuse to append instead of covering it with a `recovery` record.
@Suite struct TamperingIsNotTornTests {
    /// A signed log of two runs, its bytes and lines (each with its newline).
    func signedLog() throws -> (TempDir, String, AuditSigningKey, [[UInt8]]) {
        let dir = try TempDir()
        let path = dir.file("log.jsonl")
        let key = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: key, runs: 2, denialsPerRun: 5)
        return (dir, path, key, splitLines(try readBytes(path)))
    }

    /// Asserts verify says tampered at `line`, a writer refuses the log, and the log still
    /// says tampered after the refused append.
    func expectTamperedAndRefused(_ path: String, key: AuditSigningKey, line: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .tampered, "\(r.text(path: path))", sourceLocation: sourceLocation)
        #expect(r.failure?.line == line, "\(r.text(path: path))", sourceLocation: sourceLocation)
        let before = try readBytes(path)
        #expect(throws: AuditError.self, sourceLocation: sourceLocation) {
            let log = try AuditLog(path: path, signingKey: key)
            try log.append([AuditEvent(kind: "note", fields: ["after": "edit"])], run: "next", checkpoint: true)
        }
        #expect(try readBytes(path) == before, "a refused writer must not write", sourceLocation: sourceLocation)
        let again = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(again.status == .tampered, sourceLocation: sourceLocation)
    }

    @Test func editingTheLastThreeRecordsIsTampering() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        var edited = lines
        for i in (lines.count - 3)..<lines.count {
            // Break each line's JSON, keep its newline: complete lines that are not records.
            var l = edited[i]
            l[l.count - 2] = UInt8(ascii: "]")
            edited[i] = l
        }
        try writeBytes(path, edited.flatMap { $0 })
        try expectTamperedAndRefused(path, key: key, line: lines.count - 2)
    }

    @Test func deletingRecordsBehindOneTextLineIsTampering() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        try writeBytes(path, lines.dropLast(3).flatMap { $0 } + Array("all good here\n".utf8))
        try expectTamperedAndRefused(path, key: key, line: lines.count - 2)
    }

    @Test func carriageReturnOnEveryLineIsTampering() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        try writeBytes(path, lines.flatMap { Array($0.dropLast()) + [0x0D, 0x0A] })
        try expectTamperedAndRefused(path, key: key, line: 1)
    }

    @Test(arguments: ["nothing to see\n", "nothing to see", "\n", "{}\n"])
    func wholeLogReplacedByTextIsTampering(text: String) throws {
        let (dir, path, key, _) = try signedLog()
        defer { dir.cleanup() }
        try writeBytes(path, Array(text.utf8))
        try expectTamperedAndRefused(path, key: key, line: 1)
        #expect(throws: AuditError.notAuditLog(path: path)) { try AuditLog(path: path) }
    }

    @Test func cuttingTheStartOfTheLogIsRefused() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        try writeBytes(path, lines.dropFirst(2).flatMap { $0 })
        try expectTamperedAndRefused(path, key: key, line: 1)
        #expect(throws: AuditError.self) { try AuditLog(path: path) }
    }

    @Test func severalBadLinesInTheMiddleOfTheTailAreTampering() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        try appendBytes(path, Array("{\"fields\":{\"a\n{\"fields\":{\"b\n".utf8))
        try expectTamperedAndRefused(path, key: key, line: lines.count + 1)
    }

    /// A recovery record chained correctly but covering complete lines of text: a writer
    /// never makes one, so the verifier does not accept it.
    @Test func recoveryCoveringTextIsTampering() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        let last = try AuditRecord.parse(line: Array(lines[lines.count - 1].dropLast()))
        let junk = Array("replaced records\n".utf8)
        let offset = lines.reduce(0) { $0 + $1.count }
        let recovery = AuditRecord(
            seq: last.seq + 1, ts: last.ts, kind: AuditKind.recovery, run: "forger",
            fields: ["offset": .int(Int64(offset)), "length": .int(Int64(junk.count)), "sha256": .string(AuditHash.sha256Hex(junk))],
            prev: AuditHash.sha256Hex(Array(lines[lines.count - 1].dropLast())))
        try appendBytes(path, junk + recovery.lineBytes() + [0x0A])
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .tampered, "\(r.text(path: path))")
        #expect(r.failure?.line == lines.count + 1 || r.failure?.line == lines.count + 2, "\(r.text(path: path))")
    }

    /// The torn write itself: one unterminated piece of a record; a second crash of the
    /// recovering writer adds a newline and a piece of exactly its recovery record.
    @Test func genuineTornTailsStillRecover() throws {
        let (dir, path, key, lines) = try signedLog()
        defer { dir.cleanup() }
        let cut = Array(lines[lines.count - 1].prefix(40))
        try writeBytes(path, lines.dropLast().flatMap { $0 } + cut)
        let torn = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(torn.status == .warnings && torn.warnings.contains { $0.code == "torn-tail" }, "\(torn.text(path: path))")

        // The recovering writer crashed after its newline and part of its recovery record.
        let goodEnd = lines.dropLast().reduce(0) { $0 + $1.count }
        let prev = Array(AuditHash.sha256Hex(Array(lines[lines.count - 2].dropLast())).utf8)
        let prefix = TornWrite.recoveryPrefix(covering: cut[...], offset: Int64(goodEnd), prevHex: prev)
        try appendBytes(path, [0x0A] + Array(prefix.prefix(70)))
        let twice = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(twice.status == .warnings, "\(twice.text(path: path))")

        try writeRealisticLog(path: path, key: key, runs: 1, denialsPerRun: 2)
        let r = try AuditVerifier(publicKeys: [key.publicKey]).verify(path: path)
        #expect(r.status == .intact, "\(r.text(path: path))")
        #expect(r.recoveries.count == 1)
    }

    @Test func residueRules() {
        let prev = Array(String(repeating: "a", count: 64).utf8)
        func ok(_ s: String) -> Bool { TornWrite.isCrashResidue(Array(s.utf8)[...], offset: 10, prevHex: prev) }
        #expect(ok(""))
        #expect(ok("{"))
        #expect(ok(#"{"fields":{"name":"x"#))
        #expect(ok(#"{"fields":{"#) && ok("{\"fie\0\0\0"))
        #expect(ok(#"{"fields":{"n"# + "\n"))  // the recovering writer wrote only its newline
        #expect(!ok("hello"))
        #expect(!ok("\0\0x"))
        #expect(!ok("{\"fields\":{\"a\n{\"fields\":{\"b"))  // second piece is not its recovery
        #expect(!ok("{\"fields\":{\"a\n\n"))
        #expect(!ok("\r"))
        #expect(ok("{\"fields\":{\"a\n{\"fields\":{\"length\":13,\"off"))
        #expect(ok("{\"fields\":{\"a\n{\"fields\":{\"length\":14,\"off"))  // it covered the newline too
        #expect(!ok("{\"fields\":{\"a\n{\"fields\":{\"length\":15,\"off"))
    }
}
