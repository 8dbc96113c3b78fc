/// Where the next record goes: the last good record and any torn bytes after it.
struct LogHead: Equatable {
    /// Seq for the next record.
    var nextSeq: Int64
    /// Hash (hex) of the last good record, or the genesis value.
    var prevHex: String
    /// File offset just after the last good record's newline.
    var goodEnd: Int64
    /// File size when read; bytes in goodEnd..<size are torn.
    var size: Int64
    /// The last record is complete but its newline never reached the disk.
    var needsNewline = false
    /// ts of the last good record ("" when there is none).
    var lastTs = ""

    var hasTornBytes: Bool { size > goodEnd }

    static let empty = LogHead(nextSeq: 0, prevHex: AuditRecord.genesisHash, goodEnd: 0, size: 0)
}

/// Reads the end of a log before a writer appends, and refuses to chain onto anything but
/// intact records followed, at most, by what a crashed write leaves (`TornWrite`).
///
/// The last record is checked against the record before it with the verifier's own rules
/// (`VerifyRun`): sequence, chain, recovery records, and checkpoint signatures when the
/// writer's key signed them. Earlier records are `warden audit verify`'s job.
package enum LogTail {
    /// Most torn bytes a writer will cover with a recovery record (a few maximal records).
    static let maxTornBytes: Int64 = 32 << 20
    /// Longest record line the writer produces.
    package static let maxRecordBytes = 8 << 20
    /// Longest line a reader buffers; longer lines cannot be records.
    static let maxLineBytes = 64 << 20

    static func readHead(_ file: LogFile, size: Int64, keys: [AuditPublicKey] = [], logID: String? = nil)
        throws(AuditError) -> LogHead
    {
        if size == 0 { return .empty }
        let searchLimit = maxTornBytes + 2 * Int64(maxRecordBytes)
        var window: Int64 = 65536
        while true {
            let start = max(0, size - window)
            let buf = try file.read(offset: start, count: Int(size - start))
            guard buf.count == Int(size - start) else {
                throw .io(path: file.path, operation: "read", message: "file shrank while reading")
            }
            // The last two newline-terminated lines that have a record's shape: the last
            // record and the anchor before it.
            var anchor: Range<Int>?
            var found = 0
            var reachedFileStart = false
            buf.withUnsafeBytes { b in
                var end = b.lastIndex(of: UInt8(ascii: "\n"))
                while found < 2 {
                    guard let lineEnd = end else {
                        reachedFileStart = start == 0
                        return
                    }
                    let lineStart: Int
                    if let i = b[..<lineEnd].lastIndex(of: UInt8(ascii: "\n")) {
                        lineStart = i + 1
                    } else if start == 0 {
                        lineStart = 0
                    } else {
                        return  // the line starts before the window
                    }
                    if RecordHeader.scan(UnsafeRawBufferPointer(rebasing: b[lineStart..<lineEnd])) != nil {
                        found += 1
                        if found == 2 { anchor = lineStart..<lineEnd }
                    }
                    end = lineStart == 0 ? nil : lineStart - 1
                }
            }
            if found == 2 || reachedFileStart {
                return try checkTail(file, buf, start: start, size: size, anchor: anchor, keys: keys, logID: logID)
            }
            guard window < searchLimit else {
                throw .damagedLog(
                    path: file.path, reason: "the last \(window) bytes hold fewer than two records (not a torn write)")
            }
            window = min(window * 2, searchLimit)
        }
    }

    /// Runs the verifier's state machine from `anchor` (or from the start of the file) to the
    /// end of `buf`, which holds the file from `start` to `size`.
    private static func checkTail(
        _ file: LogFile, _ buf: [UInt8], start: Int64, size: Int64, anchor: Range<Int>?, keys: [AuditPublicKey],
        logID: String?
    ) throws(AuditError) -> LogHead {
        guard anchor != nil || start == 0 else {
            throw .damagedLog(path: file.path, reason: "no record found to continue from")
        }
        return try buf.withUnsafeBytes { (b) -> Result<LogHead, AuditError> in
            var run: VerifyRun
            var from = 0
            if let anchor {
                run = VerifyRun(keys: keys, after: UnsafeRawBufferPointer(rebasing: b[anchor]), logID: logID)
                from = anchor.upperBound + 1
            } else {
                run = VerifyRun(keys: keys, after: UnsafeRawBufferPointer(start: nil, count: 0), logID: logID)
            }
            // The state before an unterminated last line, to try adopting that line.
            var beforeLast: (run: VerifyRun, line: Range<Int>)?
            var pos = from
            while pos < b.count, !run.done {
                let nl = b[pos...].firstIndex(of: UInt8(ascii: "\n"))
                let end = nl ?? b.count
                if nl == nil { beforeLast = (run, pos..<end) }
                run.consume(UnsafeRawBufferPointer(rebasing: b[pos..<end]), offset: start + Int64(pos), newline: nl != nil)
                pos = end + 1
            }
            let report = run.finish(endOffset: size)
            if let f = report.failure {
                let at = f.seq.map { " (seq \($0))" } ?? " (where seq \(f.expectedSeq.map(String.init) ?? "?") belongs)"
                return .failure(
                    .damagedLog(
                        path: file.path,
                        reason: "the end of the log does not verify at byte offset \(f.offset)\(at): \(f.message) [\(f.code)]"))
            }
            var head = LogHead(
                nextSeq: run.expectedSeq, prevHex: String(decoding: run.headHex, as: UTF8.self), goodEnd: size,
                size: size, lastTs: String(decoding: run.headTs, as: UTF8.self))
            guard let torn = run.pendingTorn else { return .success(head) }
            head.goodEnd = torn.offset
            // A crash can persist a whole record but not its newline: adopt it when it is a
            // valid next record (the writer completes the line).
            if torn.singleLine, let last = beforeLast {
                var probe = last.run
                let line = last.line
                let bytes = UnsafeRawBufferPointer(rebasing: b[line])
                probe.consume(bytes, offset: start + Int64(line.lowerBound), newline: true)
                let adopted = probe.finish(endOffset: size)
                if adopted.failure == nil, probe.expectedSeq == head.nextSeq + 1 {
                    head = LogHead(
                        nextSeq: probe.expectedSeq, prevHex: String(decoding: probe.headHex, as: UTF8.self),
                        goodEnd: size, size: size, needsNewline: true,
                        lastTs: String(decoding: probe.headTs, as: UTF8.self))
                }
            }
            return .success(head)
        }.get()
    }

    /// Refuses a non-empty file whose first line is not a Warden record (or the start of one),
    /// or whose first record is not the first of a log.
    static func checkIsAuditLog(_ file: LogFile, size: Int64) throws(AuditError) {
        guard size > 0 else { return }
        let buf = try file.read(offset: 0, count: Int(min(size, 65536)))
        // Whether it is a record (or a torn first write), its seq, and whether prev is genesis.
        let first = buf.withUnsafeBytes { b -> (isLog: Bool, seq: Int64, genesis: Bool) in
            guard let nl = b.firstIndex(of: UInt8(ascii: "\n")) else {
                // No complete line in the first 64 KiB: a record's start, or a torn first write.
                return (TornWrite.isFragment(buf[...]), 0, true)
            }
            let line = UnsafeRawBufferPointer(rebasing: b[..<nl])
            guard let h = RecordHeader.scan(line) else { return (false, 0, false) }
            return (true, h.seq, RecordHeader.string(line, h.prev) == AuditRecord.genesisHash)
        }
        guard first.isLog else { throw .notAuditLog(path: file.path) }
        guard first.seq == 0, first.genesis else {
            throw .damagedLog(
                path: file.path,
                reason: "its first record has seq \(first.seq)\(first.genesis ? "" : " and is chained to another record"), not the start of a log: records were removed from the beginning")
        }
    }

    /// The log id: SHA-256 (hex) of the first record line whose prev is the genesis value.
    static func readLogID(_ file: LogFile, size: Int64) throws(AuditError) -> String? {
        var window = 65536
        while true {
            let count = Int(min(size, Int64(window)))
            let buf = try file.read(offset: 0, count: count)
            var needMore = false
            let id: String? = buf.withUnsafeBytes { b in
                var lineStart = 0
                while lineStart < b.count {
                    guard let nl = b[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else {
                        needMore = count < Int(size)
                        return nil
                    }
                    let line = UnsafeRawBufferPointer(rebasing: b[lineStart..<nl])
                    if let h = RecordHeader.scan(line), h.seq == 0,
                        RecordHeader.string(line, h.prev) == AuditRecord.genesisHash
                    {
                        return AuditHash.sha256Hex(line)
                    }
                    lineStart = nl + 1
                }
                needMore = count < Int(size)
                return nil
            }
            if let id { return id }
            guard needMore, window < maxLineBytes else { return nil }
            window *= 2
        }
    }
}
