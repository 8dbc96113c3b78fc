#if canImport(Glibc)
import Glibc
#endif

/// Records a run could not make durable in its log, kept next to the log until they are.
///
/// Each run owns `<log>.spill-<run>`: created with `O_EXCL | O_NOFOLLOW` (mode 0600) when the
/// run starts, with a little space reserved (`posix_fallocate`: the file starts as that many
/// NUL bytes, so a full filesystem still takes the records of the failing batch; records are
/// written over them from the start, and a reader stops at the first NUL), and `flock`ed
/// for the run's life. The first line, `#warden-spill v1 run=RUN`, is written once the
/// lock is held; then come records with `seq` 0, a zero `prev` and the time they were
/// spilled: the writer assigns all three when it appends them to the log after a
/// `recovery.spill` record. The file is removed when the run finishes with everything
/// written; so a spill file whose lock can be taken belongs to a run that ended with records
/// unwritten (or died): the next writer (`recoverAbandoned`) appends the records. (A run that
/// died without `run.exit` is reported by `AuditLog` itself, with an `interrupted` record.)
final class AuditSpill: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let reserve: Int
    private let header: [UInt8]
    /// Bytes in the file (header and records).
    private(set) var size = 0

    static let marker = ".spill-"

    static func path(log: String, run: String) -> String { log + marker + run }

    private init(path: String, fd: Int32, reserve: Int, run: String) {
        self.path = path
        self.fd = fd
        self.reserve = reserve
        self.header = Array("\(Self.headerPrefix)\(run)\n".utf8)
    }

    static let headerPrefix = "#warden-spill v1 run="

    /// Creates this run's spill file; nil when it cannot be created (the records then stay
    /// in memory only).
    static func create(log: String, run: String, reserve: Int) -> AuditSpill? {
        let p = path(log: log, run: run)
        for _ in 0..<3 {
            let fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return nil }
            // Another writer's `recoverAbandoned` may have taken (and removed) the empty file
            // before this lock: keep it only if the name still names what we locked.
            var mine = stat(), named = stat()
            if flock(fd, LOCK_EX | LOCK_NB) == 0, fstat(fd, &mine) == 0, lstat(p, &named) == 0,
               mine.st_ino == named.st_ino, mine.st_dev == named.st_dev {
                let spill = AuditSpill(path: p, fd: fd, reserve: reserve, run: run)
                spill.reset()
                return spill
            }
            _ = Glibc.close(fd)
            var stillThere = stat()
            if lstat(p, &stillThere) == 0 { return nil }  // held by someone else: no spill file
        }
        return nil
    }

    private func reserveSpace() {
        if reserve > 0 { _ = posix_fallocate(fd, 0, off_t(reserve)) }
    }

    /// Appends `events` of run `run` as spill lines and syncs. False when they could not be
    /// written completely (the caller keeps them in memory).
    func append(_ events: [AuditEvent], run: String) -> Bool {
        var out: [UInt8] = []
        for e in events {
            let rec = AuditRecord(seq: 0, ts: AuditTime.now().rfc3339, kind: e.kind, run: run, fields: e.fields,
                                  prev: AuditRecord.genesisHash)
            out.append(contentsOf: rec.lineBytes())
            out.append(UInt8(ascii: "\n"))
        }
        guard pwriteAll(out, at: size) else { return false }  // the next append overwrites a partial line
        guard fdatasync(fd) == 0 else { return false }
        size += out.count
        return true
    }

    private func pwriteAll(_ bytes: [UInt8], at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Empties the file (after its records reached the log): the header only, and the
    /// reservation.
    func reset() {
        _ = ftruncate(fd, 0)
        reserveSpace()
        size = pwriteAll(header, at: 0) ? header.count : 0
    }

    /// True when the file holds no record.
    var isEmpty: Bool { size <= header.count }

    /// Closes the file at the end of the run: removed when it holds no record, else left
    /// (unlocked) for the next writer.
    func close() {
        if isEmpty { unlink(path) }
        _ = Glibc.close(fd)
    }

    /// Appends, for every abandoned spill file of `log`, a `recovery.spill` record and the
    /// records it holds (as their own run), then removes the file. Spill files still locked
    /// by a live run are left alone. Returns the number of records recovered.
    @discardableResult
    static func recoverAbandoned(log: AuditLog, by run: String) throws(AuditError) -> Int {
        let slash = log.path.lastIndex(of: "/")
        let dir = slash.map { String(log.path[..<$0]) } ?? "."
        let base = slash.map { String(log.path[log.path.index(after: $0)...]) } ?? log.path
        let prefix = Array((base + marker).utf8)
        guard let d = opendir(dir.isEmpty ? "/" : dir) else { return 0 }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name.starts(with: prefix) { names.append(String(decoding: name, as: UTF8.self)) }
        }
        closedir(d)
        var total = 0
        for name in names.sorted() {
            total += try recover(spillPath: (dir.isEmpty ? "" : dir + "/") + name, log: log, by: run)
        }
        return total
    }

    private static func recover(spillPath: String, log: AuditLog, by run: String) throws(AuditError) -> Int {
        let fd = open(spillPath, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(),
              flock(fd, LOCK_EX | LOCK_NB) == 0 else { return 0 }
        // Someone else recovered and removed it while we waited for the lock.
        guard fstat(fd, &st) == 0, st.st_nlink > 0 else { return 0 }
        guard let file = readAll(fd, limit: 64 << 20) else {
            throw .io(path: spillPath, operation: "read", message: "unreadable or larger than 64 MiB")
        }
        let bytes = Array(file.prefix { $0 != 0 })  // the reserved space after the records
        // No header yet: its run is creating it (the header follows the lock at once).
        guard !bytes.isEmpty else { return 0 }
        var events: [AuditEvent] = []
        var spilledRun: String?
        var unreadable = 0
        let headerPrefix = Array(headerPrefix.utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if line.starts(with: headerPrefix) {
                let named = String(decoding: line.dropFirst(headerPrefix.count), as: UTF8.self)
                if spilledRun == nil, RecordSyntax.isValidRunID(named) { spilledRun = named }
                continue
            }
            guard let rec = try? AuditRecord.parse(line: Array(line)), rec.seq == 0,
                  rec.kind != AuditKind.checkpoint, rec.kind != AuditKind.recovery,
                  spilledRun == nil || spilledRun == rec.run else { unreadable += 1; continue }
            spilledRun = rec.run
            events.append(AuditEvent(kind: rec.kind, fields: rec.fields))
        }
        var batch: [AuditEvent] = []
        if !events.isEmpty || unreadable > 0 {
            var fields: [String: AuditValue] = [
                "records": .int(Int64(events.count)), "sha256": .string(AuditHash.sha256Hex(bytes)),
                "recovered_by": .string(run), "spill": .string(spillPath),
            ]
            if unreadable > 0 { fields["unreadable_lines"] = .int(Int64(unreadable)) }
            batch.append(AuditEvent(kind: AuditKind.recoverySpill, fields: fields))
            batch.append(contentsOf: events)
        }
        if !batch.isEmpty { try log.append(batch, run: spilledRun ?? run, sync: true) }
        unlink(spillPath)
        return events.count
    }
}

/// The whole file open as `fd`, or nil on error or when larger than `limit`.
private func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { return out }
        out.append(contentsOf: chunk[0..<n])
        if out.count > limit { return nil }
    }
}

extension AuditKind {
    /// Precedes records that a run could not write at the time and that were appended later
    /// from its spill file or memory: `records` (how many follow), `sha256` (of the spill
    /// bytes, when read from a file), `recovered_by`, and `error` when known.
    public static let recoverySpill = "recovery.spill"
}
