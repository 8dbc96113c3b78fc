/// What `ChainReader` yields for each complete line.
public enum ChainEntry: Sendable {
    /// A valid record that chains to the record before it: its 1-based line number and its
    /// hash (SHA-256 of the line without the newline, hex), which the next record's `prev` names.
    case record(AuditRecord, line: Int, hash: String)
    /// A line that is not shown as good: not a record, a record that does not chain to the
    /// one before it, or an overlong or unfinished line. `message` says which (log text in it
    /// is not escaped: escape it before printing on a terminal).
    case problem(line: Int, message: String)
    /// The last line has no newline at the end of the data: a torn write, or a write still
    /// in progress (`verify` tells which). Not exported, but not evidence of tampering.
    case unfinished(line: Int, bytes: Int)
}

/// Splits bytes into lines as they arrive and checks each record against the chain: `seq`
/// one more than the last record's and `prev` the last record's hash (genesis for the
/// first). A record that breaks the chain is reported, never yielded as a record; the chain
/// then continues from it, so one edit is reported once and not every record after it.
/// Lines that are not records (a torn write's remains) leave the chain where it was.
///
/// Memory is bounded: a line longer than `maxLine` is reported and skipped to its newline.
public struct ChainReader: Sendable {
    private var pending: [UInt8] = []
    private var skipping = false
    private var lineNo = 0
    private var nextSeq: Int64 = 0
    private var prevHash = AuditRecord.genesisHash
    /// Highest record version so far (records never go back to the legacy form).
    private var version = AuditRecord.legacyVersion
    private let maxLine: Int

    public init(maxLine: Int = 16 << 20) { self.maxLine = maxLine }

    /// Lines handed over so far.
    public var lines: Int { lineNo }

    /// Bytes of an unfinished line held back (a write in progress, or a torn write).
    public var pendingBytes: Int { pending.count }

    /// Feeds the next bytes of the log; calls `emit` for each complete line.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, _ emit: (ChainEntry) -> Void) {
        var start = 0
        while start < bytes.count {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                if !skipping {
                    pending.append(contentsOf: bytes[start...])
                    if pending.count > maxLine {
                        lineNo += 1
                        emit(.problem(line: lineNo, message: "line longer than \(maxLine) bytes: not a record"))
                        pending.removeAll()
                        skipping = true
                    }
                }
                return
            }
            if skipping {
                skipping = false
            } else if pending.isEmpty {
                line(UnsafeRawBufferPointer(rebasing: bytes[start..<nl]), emit)
            } else {
                pending.append(contentsOf: bytes[start..<nl])
                let l = pending
                pending.removeAll(keepingCapacity: true)
                l.withUnsafeBytes { line($0, emit) }
            }
            start = nl + 1
        }
    }

    /// End of the data: an unfinished last line is reported (a torn write, or a write still
    /// in progress).
    public mutating func finish(_ emit: (ChainEntry) -> Void) {
        guard !pending.isEmpty || skipping else { return }
        if !skipping {
            lineNo += 1
            emit(.unfinished(line: lineNo, bytes: pending.count))
        }
        pending.removeAll()
        skipping = false
    }

    private mutating func line(_ l: UnsafeRawBufferPointer, _ emit: (ChainEntry) -> Void) {
        lineNo += 1
        guard RecordHeader.scan(l) != nil else {
            emit(.problem(line: lineNo, message: "not a valid record (damaged or torn; run `warden audit verify`)"))
            return
        }
        let rec: AuditRecord
        do throws(AuditFormatError) { rec = try AuditRecord.parse(line: Array(l)) } catch {
            emit(.problem(line: lineNo, message: "not a valid record: \(error)"))
            return
        }
        let hash = AuditHash.sha256Hex(l)
        defer {
            nextSeq = rec.seq &+ 1
            prevHash = hash
            version = max(version, rec.version)
        }
        guard rec.seq == nextSeq, rec.prev == prevHash, rec.version >= version else {
            let why =
                rec.seq != nextSeq
                ? "seq \(rec.seq) where \(nextSeq) was expected"
                : rec.prev != prevHash ? "prev does not match the record before it" : "version \(rec.version) after version \(version)"
            emit(.problem(line: lineNo, message: "record seq \(rec.seq) breaks the hash chain (\(why)); run `warden audit verify`"))
            return
        }
        emit(.record(rec, line: lineNo, hash: hash))
    }
}
