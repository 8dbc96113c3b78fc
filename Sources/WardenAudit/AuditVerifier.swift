#if canImport(Glibc)
import Glibc
#endif

/// Verifies a log: chain, sequence, checkpoints, recoveries, trusted checkpoint.
///
/// Streams the file once. Every line is hashed over its raw bytes; the header (seq, prev,
/// kind) is read without decoding `fields`; checkpoint and recovery records are parsed fully
/// and must be canonical. On a hash mismatch between line k and line k+1 the verifier looks
/// one line further to tell which of the two was altered, so the report names the first bad
/// record by line and seq.
public struct AuditVerifier: Sendable {
    public var publicKeys: [AuditPublicKey]
    /// A checkpoint line saved earlier; the log must contain it byte for byte at its seq.
    public var trustedCheckpoint: [UInt8]?

    public init(publicKeys: [AuditPublicKey] = [], trustedCheckpoint: [UInt8]? = nil) {
        self.publicKeys = publicKeys
        self.trustedCheckpoint = trustedCheckpoint
    }

    /// Verifies the log at `path`. Throws only for I/O errors, an unusable trusted checkpoint,
    /// and a path that is not a regular file (symbolic link, FIFO, device, directory).
    public func verify(path: String) throws(AuditError) -> VerifyReport {
        let fd = try FileIO.openRegular(path, flags: O_RDONLY, what: "audit log")
        defer { close(fd) }
        // Writers hold an exclusive lock while appending: a shared lock for a moment gives
        // a size at which every batch is complete. Records appended later are not read.
        while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
        var st = stat()
        let ok = fstat(fd, &st) == 0
        _ = flock(fd, LOCK_UN)
        guard ok else { throw .io(path: path, operation: "stat", message: FileIO.errnoText(errno)) }
        var reader = LineReader(fd: fd, path: path, limit: Int64(st.st_size))
        defer { reader.deallocate() }
        var run = try VerifyRun(keys: publicKeys, trusted: try parseTrusted())
        while !run.done {
            let more = try reader.next { (line, offset, newline) throws(AuditError) in
                run.consume(line, offset: offset, newline: newline)
            }
            if !more { break }
        }
        return run.finish(endOffset: reader.offset)
    }

    /// Verifies a log held in memory (same rules as `verify(path:)`).
    public func verify(bytes: [UInt8]) throws(AuditError) -> VerifyReport {
        var run = try VerifyRun(keys: publicKeys, trusted: try parseTrusted())
        bytes.withUnsafeBytes { b in
            var start = 0
            while start < b.count, !run.done {
                if let hit = memchr(b.baseAddress! + start, 0x0A, b.count - start) {
                    let nl = UnsafeRawPointer(hit) - b.baseAddress!
                    run.consume(UnsafeRawBufferPointer(rebasing: b[start..<nl]), offset: Int64(start), newline: true)
                    start = nl + 1
                } else {
                    run.consume(UnsafeRawBufferPointer(rebasing: b[start...]), offset: Int64(start), newline: false)
                    start = b.count
                }
            }
        }
        return run.finish(endOffset: Int64(bytes.count))
    }

    func parseTrusted() throws(AuditError) -> TrustedCheckpoint? {
        guard var bytes = trustedCheckpoint else { return nil }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        let rec: AuditRecord
        do throws(AuditFormatError) { rec = try AuditRecord.parse(line: bytes) } catch {
            throw .invalidArgument("trusted checkpoint: \(error)")
        }
        guard rec.kind == AuditKind.checkpoint, let origin = rec.fields[CheckpointNote.logField]?.stringValue else {
            throw .invalidArgument("trusted checkpoint: the line is a \(rec.kind) record, not a checkpoint")
        }
        switch CheckpointCheck.check(rec, origin: origin, keys: publicKeys) {
        case .invalid(let why): throw .invalidArgument("trusted checkpoint: \(why)")
        default: break
        }
        let prevRange = bytes.withUnsafeBytes { RecordHeader.scan($0)?.prev }
        guard let prevRange else { throw .invalidArgument("trusted checkpoint: not a canonical record line") }
        return TrustedCheckpoint(seq: rec.seq, line: bytes, prevHex: Array(bytes[prevRange]))
    }
}

struct TrustedCheckpoint {
    var seq: Int64
    var line: [UInt8]
    /// Its prev: the hex hash of record seq-1.
    var prevHex: [UInt8]
}

/// Signature checks for checkpoint records.
enum CheckpointCheck {
    enum Result: Equatable {
        case verified(String)
        case unknownKey(String)
        case unchecked
        case invalid(String)
    }

    static func check(_ rec: AuditRecord, origin: String, keys: [AuditPublicKey]) -> Result {
        guard Set(rec.fields.keys) == [CheckpointNote.keyField, CheckpointNote.logField, CheckpointNote.sigField],
            let keyID = rec.fields[CheckpointNote.keyField]?.stringValue,
            let log = rec.fields[CheckpointNote.logField]?.stringValue,
            let sigText = rec.fields[CheckpointNote.sigField]?.stringValue
        else { return .invalid("checkpoint fields must be exactly key, log and sig (strings)") }
        guard log == origin else { return .invalid("checkpoint names log \(log), this log is \(origin)") }
        guard keyID.utf8.count == 16, keyID.utf8.allSatisfy({ Hex.value($0) != nil }) else {
            return .invalid("checkpoint key id is not 16 hex digits")
        }
        guard let sig = Base64.decode(sigText), sig.count == 64 else {
            return .invalid("checkpoint signature is not 64 bytes of base64")
        }
        guard rec.seq > 0,
            let body = CheckpointNote.body(
                origin: origin, seq: rec.seq, headHex: rec.prev, ts: rec.ts, run: rec.run, version: rec.version)
        else { return .invalid("checkpoint cannot be the first record") }
        if keys.isEmpty { return .unchecked }
        if let key = keys.first(where: { $0.keyID == keyID }) {
            return key.isValidSignature(sig, for: body) ? .verified(keyID) : .invalid("signature by key \(keyID) does not verify")
        }
        if keys.contains(where: { $0.isValidSignature(sig, for: body) }) {
            return .invalid("key id \(keyID) was altered (the signature is by another known key)")
        }
        return .unknownKey(keyID)
    }
}
