/// Finds where the next record goes: the last good record and any torn bytes after it.
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

    var hasTornBytes: Bool { size > goodEnd }
}

enum LogTail {
    /// Most torn bytes a writer will cover with a recovery record (a few maximal records).
    static let maxTornBytes: Int64 = 32 << 20
    /// Longest record line the writer produces.
    static let maxRecordBytes = 8 << 20
    /// Longest record line a writer will search back through.
    static let maxLineBytes = 64 << 20

    static func readHead(_ file: LogFile, size: Int64) throws(AuditError) -> LogHead {
        let head = try readHeadByLines(file, size: size)
        // A crash can persist a whole record but not its newline. If that record chains to
        // the head, adopt it (the writer completes the line) instead of calling it torn.
        if head.hasTornBytes && size - head.goodEnd < Int64(maxLineBytes) {
            let frag = try file.read(offset: head.goodEnd, count: Int(size - head.goodEnd))
            if !frag.contains(UInt8(ascii: "\n")) {
                let adopted: LogHead? = frag.withUnsafeBytes { b in
                    guard let h = RecordHeader.scan(b), h.seq == head.nextSeq,
                        Array(frag[h.prev]) == Array(head.prevHex.utf8)
                    else { return nil }
                    return LogHead(
                        nextSeq: h.seq + 1, prevHex: AuditHash.sha256Hex(b), goodEnd: size, size: size, needsNewline: true)
                }
                if let adopted { return adopted }
            }
        }
        return head
    }

    static func readHeadByLines(_ file: LogFile, size: Int64) throws(AuditError) -> LogHead {
        if size == 0 { return LogHead(nextSeq: 0, prevHex: AuditRecord.genesisHash, goodEnd: 0, size: 0) }
        var window = 65536
        while true {
            let start = max(0, size - Int64(window))
            let buf = try file.read(offset: start, count: Int(size - start))
            guard buf.count == Int(size - start) else {
                throw .io(path: file.path, operation: "read", message: "file shrank while reading")
            }
            var needMore = false
            var tooMuchTorn = false
            let found: LogHead? = buf.withUnsafeBytes { (b) -> LogHead? in
                // lineEnd: index of the '\n' that ends the line under consideration.
                guard var lineEnd = b.lastIndex(of: UInt8(ascii: "\n")) else {
                    if start == 0 { return LogHead(nextSeq: 0, prevHex: AuditRecord.genesisHash, goodEnd: 0, size: size) }
                    needMore = true
                    return nil
                }
                while true {
                    let lineStart: Int
                    if let i = b[..<lineEnd].lastIndex(of: UInt8(ascii: "\n")) {
                        lineStart = i + 1
                    } else if start == 0 {
                        lineStart = 0
                    } else {
                        needMore = true
                        return nil
                    }
                    let line = UnsafeRawBufferPointer(rebasing: b[lineStart..<lineEnd])
                    if let h = RecordHeader.scan(line) {
                        return LogHead(
                            nextSeq: h.seq + 1, prevHex: AuditHash.sha256Hex(line),
                            goodEnd: start + Int64(lineEnd) + 1, size: size)
                    }
                    if size - (start + Int64(lineStart)) > maxTornBytes {
                        tooMuchTorn = true
                        return nil
                    }
                    if lineStart == 0 {
                        return LogHead(nextSeq: 0, prevHex: AuditRecord.genesisHash, goodEnd: 0, size: size)
                    }
                    lineEnd = lineStart - 1
                }
            }
            if let found { return found }
            if tooMuchTorn {
                throw .corruptTail(path: file.path, reason: "more than \(maxTornBytes) bytes at the end are not records")
            }
            guard needMore, window < maxLineBytes else {
                throw .corruptTail(path: file.path, reason: "no complete record in the last \(window) bytes")
            }
            window *= 2
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
