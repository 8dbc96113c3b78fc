import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A record as written: its seq, hash and exact line.
public struct AppendedRecord: Sendable, Equatable {
    public let seq: Int64
    public let kind: String
    /// SHA-256 (hex) of `line`.
    public let hash: String
    /// The line bytes without the newline.
    public let line: [UInt8]
}

/// The serialised writer for one log file.
///
/// Opening checks the file: a regular file reached without a symbolic link, empty or
/// starting with a Warden record, whose end verifies (`LogTail`); anything else is refused
/// with a typed error and nothing is written. Every `append` is one batch: take an exclusive
/// `flock`, re-read and re-check the tail when another process appended, cover torn bytes
/// (and only torn bytes) with a `recovery` record, assign seq/prev/ts, write all lines with a
/// single `write` on an `O_APPEND` descriptor, then `fdatasync` when asked. The first batch
/// also records runs that ended without `run.exit` (`interrupted`), and any batch whose clock
/// reads earlier than the last record starts with a `clock` record. With a signing key, a
/// `checkpoint` record is inserted at every seq that is a positive multiple of
/// `checkpointInterval`, and `checkpoint(run:)` adds one now. Safe to share between
/// threads; separate processes coordinate through the file lock.
public final class AuditLog: Sendable {
    public let path: String
    public let signingKey: AuditSigningKey?
    public let checkpointInterval: Int64
    private let file: LogFile
    private let state = Mutex(CachedHead())

    private struct CachedHead {
        var head: LogHead?
        var logID: String?
        /// Whether this writer has looked for interrupted runs (done once, with its first batch).
        var checkedInterrupted = false
    }

    /// Opens (creating if needed, with parent directories mode 0700 and the file mode 0600).
    /// Throws `.unsafeFile` for a symbolic link, FIFO, device or directory, `.notAuditLog` for
    /// a file that is not a Warden log, `.damagedLog` when the end of the log does not verify.
    public init(path: String, signingKey: AuditSigningKey? = nil, checkpointInterval: Int64 = 1000)
        throws(AuditError)
    {
        guard checkpointInterval > 0 else { throw .invalidArgument("checkpoint interval must be positive") }
        guard !path.isEmpty else { throw .invalidArgument("the audit log path is empty") }
        try AuditLocation.createParentDirectories(of: path)
        self.path = path
        self.signingKey = signingKey
        self.checkpointInterval = checkpointInterval
        let file = try LogFile.open(path: path)
        self.file = file
        do {
            try file.lock()
            defer { file.unlock() }
            let size = try file.size()
            try LogTail.checkIsAuditLog(file, size: size)
            let logID = signingKey != nil && size > 0 ? try LogTail.readLogID(file, size: size) : nil
            let head = try LogTail.readHead(file, size: size, keys: verificationKeys, logID: logID)
            state.withLock {
                $0.head = head
                $0.logID = logID
            }
        } catch {
            file.close()
            throw error
        }
    }

    deinit { file.close() }

    /// Appends `events` as one batch for run `run`; returns every record written (including
    /// any recovery and checkpoint records). `sync` makes the batch durable before returning.
    /// `checkpoint` appends a signed checkpoint after the events (ignored without a key).
    @discardableResult
    public func append(_ events: [AuditEvent], run: String, sync: Bool = true, checkpoint: Bool = false)
        throws(AuditError) -> [AppendedRecord]
    {
        guard RecordSyntax.isValidRunID(run) else {
            throw .invalidArgument("run id \"\(run)\" must be 1–128 of A-Z a-z 0-9 . _ : -")
        }
        for e in events {
            guard RecordSyntax.isValidKind(e.kind) else {
                throw .invalidArgument("record kind \"\(e.kind)\" must be 1–64 of a-z 0-9 . _ -")
            }
            guard !AuditKind.reserved.contains(e.kind) else {
                throw .invalidArgument("record kind \"\(e.kind)\" is reserved for the writer")
            }
        }
        return try state.withLock { (cache: inout CachedHead) throws(AuditError) -> [AppendedRecord] in
            try file.lock()
            defer { file.unlock() }
            return try appendLocked(events, run: run, sync: sync, checkpoint: checkpoint, cache: &cache)
        }
    }

    /// Appends a signed checkpoint now. Returns nil when there is no key or the log is empty.
    @discardableResult
    public func checkpoint(run: String) throws(AuditError) -> AppendedRecord? {
        guard signingKey != nil else { return nil }
        return try append([], run: run, sync: true, checkpoint: true).last { $0.kind == AuditKind.checkpoint }
    }

    /// The public key checkpoints at the end of the log are checked with before appending.
    private var verificationKeys: [AuditPublicKey] { signingKey.map { [$0.publicKey] } ?? [] }

    private func appendLocked(
        _ events: [AuditEvent], run: String, sync: Bool, checkpoint: Bool, cache: inout CachedHead
    ) throws(AuditError) -> [AppendedRecord] {
        let size = try file.size()
        var head: LogHead
        if let cached = cache.head, cached.size == size, !cached.hasTornBytes, !cached.needsNewline {
            head = cached
        } else {
            if cache.head == nil || cache.head!.size > size || (cache.head!.nextSeq == 0 && size > 0) { cache.logID = nil }
            if cache.logID == nil, signingKey != nil, size > 0 { cache.logID = try LogTail.readLogID(file, size: size) }
            head = try LogTail.readHead(file, size: size, keys: verificationKeys, logID: cache.logID)
        }
        let clock = AuditTime.now()
        guard let now = clock.rfc3339IfRepresentable else {
            throw .clock(
                "the system clock reads \(clock.seconds) s since 1970, outside the years 0001–9999 a record can hold; set the clock and retry")
        }
        var out: [UInt8] = []
        var written: [AppendedRecord] = []
        var runStarts: [Int64] = []
        var seq = head.nextSeq
        var prev = head.prevHex

        func emit(_ kind: String, _ fields: [String: AuditValue], _ ts: String) throws(AuditError) {
            guard seq <= RecordSyntax.maxSeq else {
                throw .invalidArgument("the log holds 2^53-1 records, the most RFC 8785 numbers can count: start a new log")
            }
            let rec = AuditRecord(seq: seq, ts: ts, kind: kind, run: run, fields: fields, prev: prev)
            let line = rec.lineBytes()
            guard line.count <= LogTail.maxRecordBytes else {
                throw .invalidArgument("a \(kind) record of \(line.count) bytes exceeds the \(LogTail.maxRecordBytes)-byte limit")
            }
            let hash = AuditHash.sha256Hex(line)
            if seq == 0 { cache.logID = hash }
            if kind == AuditKind.runStart { runStarts.append(Int64(out.count)) }
            out.append(contentsOf: line)
            out.append(UInt8(ascii: "\n"))
            written.append(AppendedRecord(seq: seq, kind: kind, hash: hash, line: line))
            prev = hash
            seq += 1
        }
        func emitCheckpoint() throws(AuditError) {
            guard let key = signingKey, seq > 0 else { return }
            if cache.logID == nil { cache.logID = try LogTail.readLogID(file, size: size) }
            guard let logID = cache.logID else { throw .checkpoint("cannot find the log's first record") }
            let origin = CheckpointNote.origin(logID: logID)
            guard let body = CheckpointNote.body(
                origin: origin, seq: seq, headHex: prev, ts: now, run: run, version: AuditRecord.formatVersion)
            else {
                throw .checkpoint("bad head hash")
            }
            let sig = try key.sign(body)
            try emit(
                AuditKind.checkpoint,
                [
                    CheckpointNote.keyField: .string(key.publicKey.keyID), CheckpointNote.logField: .string(origin),
                    CheckpointNote.sigField: .string(Base64.encode(sig)),
                ], now)
        }

        // A clock that reads earlier than the last record: the step is recorded by a `clock`
        // record (after the recovery record, which must follow the torn bytes and keeps the
        // last record's time).
        let steppedBack = !head.lastTs.isEmpty && now < head.lastTs
        let writes = !events.isEmpty || head.hasTornBytes || (checkpoint && signingKey != nil && head.nextSeq > 0)
        if head.needsNewline { out.append(UInt8(ascii: "\n")) }
        if head.hasTornBytes {
            let torn = try file.read(offset: head.goodEnd, count: Int(size - head.goodEnd))
            if torn.last != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")) }
            try emit(
                AuditKind.recovery,
                [
                    "offset": .int(head.goodEnd), "length": .int(Int64(torn.count)),
                    "sha256": .string(AuditHash.sha256Hex(torn)),
                ], steppedBack ? head.lastTs : now)
        }
        if steppedBack && writes {
            let back = AuditTime(rfc3339: head.lastTs).map { AuditTime(rfc3339: now)?.nanoseconds(until: $0) ?? 0 } ?? 0
            try emit(AuditKind.clock, ["previous_ts": .string(head.lastTs), "stepped_back_us": .int(back / 1000)], now)
        }
        var pending = events
        if !cache.checkedInterrupted, !events.isEmpty {
            pending = try UnfinishedRuns.find(file, end: head.goodEnd).map(UnfinishedRuns.event) + events
        }
        for e in pending {
            if seq > 0 && seq % checkpointInterval == 0 { try emitCheckpoint() }
            try emit(e.kind, e.fields, now)
        }
        if checkpoint || (seq > 0 && seq % checkpointInterval == 0 && !events.isEmpty) { try emitCheckpoint() }
        guard !out.isEmpty else { return [] }
        do {
            try file.checkLinked()
            try file.append(out)
            if sync || checkpoint { try file.sync() }
        } catch {
            // All or nothing: a batch that did not become durable leaves no partial lines.
            file.truncate(to: size)
            cache.head = nil
            throw error
        }
        if !events.isEmpty { cache.checkedInterrupted = true }
        for offset in runStarts { file.holdRunLock(at: size + offset) }
        cache.head = LogHead(
            nextSeq: seq, prevHex: prev, goodEnd: size + Int64(out.count), size: size + Int64(out.count), lastTs: now)
        return written
    }
}

extension AuditLog {
    /// The log a run uses: path from `--audit-log`/`$WARDEN_AUDIT_LOG`/default, key from
    /// `--signing-key`/`$WARDEN_AUDIT_KEY` (none configured: no checkpoints are signed).
    public static func configured(logPath: String?, signingKeyPath: String?) throws(AuditError) -> AuditLog {
        let key = try AuditLocation.signingKeyPath(explicit: signingKeyPath).map { (p) throws(AuditError) in
            try AuditSigningKey.load(path: p)
        }
        return try AuditLog(path: AuditLocation.resolve(explicit: logPath), signingKey: key)
    }
}
