#if canImport(Glibc)
import Glibc
#endif

/// The line-by-line state machine behind `AuditVerifier`.
struct VerifyRun {
    let keys: [AuditPublicKey]
    let trusted: TrustedCheckpoint?
    var report = VerifyReport()
    var done = false

    private var lineNo = 0
    private var nextSeq: Int64 = 0
    private var prevHex: [UInt8] = Array(AuditRecord.genesisHash.utf8)
    private var lastGood: (line: Int, seq: Int64, offset: Int64)?
    private var logID: String?
    private var torn: Torn?
    private var tornTail: Torn?
    private var blame: Blame?
    private var trustedMatched = false
    /// ts of the last good record (27 bytes), for the monotonic-time check.
    private var lastTs: [UInt8] = []
    private var clockSteps = 0
    private var firstClockStep: (line: Int, seq: Int64, recorded: Bool)?
    /// Started after an anchor record without the log id: checkpoint signatures are not checked.
    private var resumedWithoutLogID = false
    /// Highest record version seen so far: a record may not go back to an older form.
    private var version: Int64 = AuditRecord.legacyVersion

    /// Bytes from the end of the last good record up to the next record.
    struct Torn {
        /// First and last line of the region.
        var line: Int
        var lastLine: Int
        var offset: Int64
        var expectedSeq: Int64
        var bytes: [UInt8] = []
        var overflow = false
    }

    /// Line `line` and the record before it disagree (prev vs hash, or recovery vs torn
    /// bytes): one of the two was altered. The next line decides: if it chains to `line`,
    /// `line` is authentic and the earlier one is blamed.
    struct Blame {
        var line: Int
        var seq: Int64
        var offset: Int64
        var hashHex: [UInt8]
        var previous: (line: Int, seq: Int64, offset: Int64)
        var previousCode = "modified"
        var previousMessage: String
        var code = "chain"
        var message: String
        /// At end of file, blame `line` (true) or the previous record (false).
        var blameLineAtEnd = false
    }

    init(keys: [AuditPublicKey], trusted: TrustedCheckpoint?) throws(AuditError) {
        self.keys = keys
        self.trusted = trusted
    }

    /// Continues after a record the caller takes as good (a writer checking only the end of
    /// a log): `anchor` is that record's line, `logID` the log's id when known (checkpoints
    /// after the anchor are then checked against `keys`).
    init(keys: [AuditPublicKey], after anchor: UnsafeRawBufferPointer, logID: String?) {
        self.keys = keys
        self.trusted = nil
        if let h = RecordHeader.scan(anchor) {
            nextSeq = h.seq + 1
            prevHex = AuditHash.sha256HexBytes(anchor)
            lastTs = Array(anchor[h.ts])
            lastGood = (0, h.seq, 0)
            version = h.version
            report.records = 1
        }
        self.logID = logID
        self.resumedWithoutLogID = logID == nil
    }

    /// The bytes after the last good record that look like a torn write: offset and whether
    /// they are one unterminated line.
    var pendingTorn: (offset: Int64, singleLine: Bool)? {
        guard let t = tornTail ?? torn else { return nil }
        return (t.offset, t.line == t.lastLine && tornTail != nil)
    }

    /// Seq the next record must have.
    var expectedSeq: Int64 { nextSeq }
    /// Hash (hex bytes) of the last good record, or the genesis value.
    var headHex: [UInt8] { prevHex }
    /// ts of the last good record (empty before any).
    var headTs: [UInt8] { lastTs }

    private mutating func fail(line: Int, seq: Int64?, expected: Int64?, offset: Int64, code: String, _ message: String) {
        report.failure = .init(line: line, seq: seq, expectedSeq: expected, offset: offset, code: code, message: message)
        done = true
    }

    private mutating func blamePrevious(_ b: Blame) {
        let p = b.previous
        fail(line: p.line, seq: p.seq, expected: p.seq, offset: p.offset, code: b.previousCode, b.previousMessage)
    }

    private mutating func blameCandidate(_ b: Blame) {
        fail(line: b.line, seq: b.seq, expected: b.seq, offset: b.offset, code: b.code, b.message)
    }

    private func chainBlame(_ lineNo: Int, _ seq: Int64, _ offset: Int64, _ hashHex: [UInt8], _ p: (line: Int, seq: Int64, offset: Int64)) -> Blame {
        Blame(
            line: lineNo, seq: seq, offset: offset, hashHex: hashHex, previous: p,
            previousMessage: "record was modified: its hash does not match prev of the next record (line \(lineNo))",
            message:
                "prev does not match the hash of the previous record (line \(p.line)): record modified, or records inserted or deleted before it"
        )
    }

    mutating func consume(_ line: UnsafeRawBufferPointer, offset: Int64, newline: Bool) {
        lineNo += 1
        report.lines = lineNo
        guard newline else {
            if let b = blame { if b.blameLineAtEnd { blameCandidate(b) } else { blamePrevious(b) }; return }
            // The final line has no newline: the only place a torn write can end.
            addTorn(line, offset: offset, newline: false)
            tornTail = torn
            torn = nil
            return
        }
        guard let h = RecordHeader.scan(line) else {
            if let b = blame { blameCandidate(b); return }
            addTorn(line, offset: offset, newline: true)
            return
        }
        let hashHex = AuditHash.sha256HexBytes(line)
        let prevOK = RecordHeader.equalsBytes(line, h.prev, prevHex)
        if let b = blame {
            if RecordHeader.equalsBytes(line, h.prev, b.hashHex) { blamePrevious(b) } else { blameCandidate(b) }
            return
        }
        let isRecovery = RecordHeader.equals(line, h.kind, "recovery")
        let isCheckpoint = RecordHeader.equals(line, h.kind, "checkpoint")
        if let t = torn {
            guard isRecovery else {
                if h.seq == nextSeq && prevOK {
                    // This record chains straight to the last good one, as only a recovery may:
                    // either the bytes before it were inserted, or it was a recovery record.
                    // If the next line chains to it, it is authentic and the bytes are to blame.
                    blame = Blame(
                        line: lineNo, seq: h.seq, offset: offset, hashHex: hashHex,
                        previous: (t.line, t.expectedSeq, t.offset), previousCode: "malformed",
                        previousMessage: "not a valid audit record (inserted or damaged), and no recovery record covers it",
                        code: "recovery", message: "follows bytes that are not records (from line \(t.line)) but is not a valid recovery record")
                    return
                }
                let region = t.line == t.lastLine ? "" : " (lines \(t.line)–\(t.lastLine) are not records)"
                fail(
                    line: t.line, seq: nil, expected: t.expectedSeq, offset: t.offset, code: "malformed",
                    "not a valid audit record, and no recovery record follows it\(region)")
                return
            }
            if let why = checkRecovery(line, t) {
                blame = Blame(
                    line: lineNo, seq: h.seq, offset: offset, hashHex: hashHex,
                    previous: (t.line, t.expectedSeq, t.offset), previousCode: "malformed",
                    previousMessage: "not a valid audit record, and not the torn bytes the recovery record at line \(lineNo) describes",
                    code: "recovery", message: why, blameLineAtEnd: true)
                return
            }
            torn = nil
        } else if isRecovery {
            if let why = checkRecovery(line, Torn(line: lineNo, lastLine: lineNo, offset: offset, expectedSeq: nextSeq)) {
                fail(line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "recovery", why)
                return
            }
        }
        guard h.seq == nextSeq else {
            let why =
                h.seq < nextSeq
                ? "seq \(h.seq) where \(nextSeq) was expected: record duplicated or reordered"
                : "seq \(h.seq) where \(nextSeq) was expected: records deleted or reordered"
            fail(line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "seq", why)
            return
        }
        var checkpointResult: CheckpointCheck.Result?
        if isCheckpoint { checkpointResult = checkCheckpoint(line) }
        if !prevOK {
            guard let p = lastGood, nextSeq > 0 else {
                fail(
                    line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "chain",
                    "the first record's prev is not the genesis value")
                return
            }
            var b = chainBlame(lineNo, h.seq, offset, hashHex, p)
            switch checkpointResult {
            case .verified?:
                blamePrevious(b)  // a valid signature vouches for this line's prev
                return
            case .invalid(let why)?:
                b.code = "signature"
                b.message = why
                b.blameLineAtEnd = true
            default: break
            }
            blame = b
            return
        }
        if case .invalid(let why)? = checkpointResult {
            // The signature covers this line's header (including prev), so this line is bad.
            fail(line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "signature", why)
            return
        }
        if h.version < version {
            // Writers switch from the legacy form to RFC 8785 once and never back.
            fail(
                line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "version",
                "record version \(h.version) after a version \(version) record: Warden never writes the older form after the newer one (record altered)")
            return
        }
        if let t = trusted, t.seq == h.seq + 1, t.prevHex != hashHex {
            fail(
                line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "trusted-checkpoint",
                "record differs from the one the trusted checkpoint (seq \(t.seq)) covers")
            return
        }
        if let t = trusted, t.seq == h.seq {
            guard t.line.count == line.count, t.line.withUnsafeBytes({ $0.elementsEqual(line) }) else {
                fail(
                    line: lineNo, seq: h.seq, expected: nextSeq, offset: offset, code: "trusted-checkpoint",
                    "record differs from the trusted checkpoint at seq \(t.seq)")
                return
            }
            trustedMatched = true
        }
        switch checkpointResult {
        case .verified?:
            report.verifiedCheckpoints += 1
            report.lastVerifiedCheckpoint = (lineNo, h.seq)
        case .unknownKey?: report.unknownKeyCheckpoints += 1
        case .unchecked?: report.uncheckedCheckpoints += 1
        default: break
        }
        checkTime(line, h, isClock: RecordHeader.equals(line, h.kind, "clock"))
        if RecordHeader.equals(line, h.kind, "interrupted") { noteInterrupted(line, seq: h.seq) }
        if h.seq == 0 { logID = String(decoding: hashHex, as: UTF8.self) }
        nextSeq += 1
        prevHex = hashHex
        version = h.version
        lastGood = (lineNo, h.seq, offset)
        report.records += 1
    }

    private mutating func addTorn(_ line: UnsafeRawBufferPointer, offset: Int64, newline: Bool) {
        if torn == nil { torn = Torn(line: lineNo, lastLine: lineNo, offset: offset, expectedSeq: nextSeq) }
        torn!.lastLine = lineNo
        // No record, nor any piece of one, is longer than a writer's longest record.
        if line.count > LogTail.maxRecordBytes { torn!.overflow = true }
        if torn!.overflow { return }
        if torn!.bytes.count + line.count <= Int(LogTail.maxTornBytes) {
            torn!.bytes.append(contentsOf: line)
            if newline { torn!.bytes.append(UInt8(ascii: "\n")) }
        } else {
            torn!.overflow = true
        }
    }

    /// Checks that timestamps never go backwards; a `clock` record marks a step the writer saw.
    private mutating func checkTime(_ line: UnsafeRawBufferPointer, _ h: RecordHeader, isClock: Bool) {
        let ts = UnsafeRawBufferPointer(rebasing: line[h.ts])
        guard lastTs.count == ts.count else {
            lastTs = Array(ts)
            return
        }
        let earlier = lastTs.withUnsafeMutableBytes { last in
            let before = memcmp(ts.baseAddress!, last.baseAddress!, ts.count) < 0
            last.copyMemory(from: ts)  // reuse the buffer: this runs for every record
            return before
        }
        guard earlier else { return }
        clockSteps += 1
        if firstClockStep == nil { firstClockStep = (lineNo, h.seq, isClock) }
    }

    private mutating func noteInterrupted(_ line: UnsafeRawBufferPointer, seq: Int64) {
        guard report.interruptions.count < VerifyReport.maxListedInterruptions else { return }
        let rec = try? AuditRecord.parse(line: Array(line))
        report.interruptions.append(
            .init(
                line: lineNo, seq: seq, run: rec?.fields["run"]?.stringValue ?? "?",
                startSeq: rec?.fields["start_seq"]?.intValue))
    }

    private func checkCheckpoint(_ line: UnsafeRawBufferPointer) -> CheckpointCheck.Result {
        let rec: AuditRecord
        do throws(AuditFormatError) { rec = try AuditRecord.parse(line: Array(line)) } catch {
            return .invalid("checkpoint record: \(error)")
        }
        guard let logID else { return resumedWithoutLogID ? .unchecked : .invalid("checkpoint before any record") }
        return CheckpointCheck.check(rec, origin: CheckpointNote.origin(logID: logID), keys: keys)
    }

    /// Nil when the recovery record matches the torn bytes; else why not.
    private mutating func checkRecovery(_ line: UnsafeRawBufferPointer, _ t: Torn) -> String? {
        let rec: AuditRecord
        do throws(AuditFormatError) { rec = try AuditRecord.parse(line: Array(line)) } catch {
            return "recovery record: \(error)"
        }
        guard Set(rec.fields.keys) == ["offset", "length", "sha256"], let off = rec.fields["offset"]?.intValue,
            let len = rec.fields["length"]?.intValue, let sha = rec.fields["sha256"]?.stringValue
        else { return "recovery fields must be exactly offset, length, sha256" }
        guard off == t.offset else {
            return "recovery names torn bytes at offset \(off), but the last good record ends at \(t.offset)"
        }
        let r = t.bytes
        let matches =
            !t.overflow
            && ((len == Int64(r.count) && AuditHash.sha256Hex(r) == sha)
                || (len == Int64(r.count) - 1 && len > 0 && r[r.count - 2] != UInt8(ascii: "\n")
                    && AuditHash.sha256Hex(Array(r.dropLast())) == sha))
        guard matches else {
            return "recovery record (\(len) bytes at offset \(off)) does not match the \(r.count) bytes before it"
        }
        guard TornWrite.isCrashResidue(r[..<Int(len)], offset: off, prevHex: prevHex) else {
            return "recovery record covers bytes that are not a torn write (complete lines that are not records)"
        }
        report.recoveries.append(.init(line: lineNo, seq: rec.seq, offset: off, length: len, sha256: sha))
        return nil
    }

    mutating func finish(endOffset: Int64) -> VerifyReport {
        report.bytes = endOffset
        if !done, let b = blame {
            if b.blameLineAtEnd { blameCandidate(b) } else { blamePrevious(b) }
        }
        if report.failure == nil {
            if let t = torn { tornTail = t }
            if let t = tornTail {
                if !t.overflow, TornWrite.isCrashResidue(t.bytes[...], offset: t.offset, prevHex: prevHex) {
                    report.warnings.append(
                        .init(
                            code: "torn-tail", line: t.line, seq: t.expectedSeq,
                            message:
                                "\(t.line == t.lastLine ? "line \(t.line) is" : "lines \(t.line)–\(t.lastLine) are") an incomplete record (from offset \(t.offset)) left by a write that did not finish; the next writer records a recovery"
                        ))
                } else {
                    fail(
                        line: t.line, seq: nil, expected: t.expectedSeq, offset: t.offset, code: "malformed",
                        "not a valid audit record, and not a write cut short by a crash (that leaves one unterminated piece of a record at the very end): records were replaced or damaged here\(t.line == t.lastLine ? "" : " (lines \(t.line)–\(t.lastLine))")"
                    )
                }
            }
        }
        if report.failure == nil {
            if let t = trusted, !trustedMatched {
                let line = tornTail?.line ?? lineNo + 1
                fail(
                    line: line, seq: nil, expected: nextSeq, offset: tornTail?.offset ?? endOffset,
                    code: "trusted-checkpoint",
                    "log ends at seq \(nextSeq - 1) but the trusted checkpoint is at seq \(t.seq): records were removed")
            }
        }
        if report.failure == nil {
            if let c = firstClockStep {
                let more = clockSteps > 1 ? " (\(clockSteps) backward steps in all)" : ""
                let how =
                    c.recorded
                    ? "the writer recorded a clock step backwards (a `clock` record)"
                    : "the timestamp is earlier than the record before it, and no `clock` record explains it"
                report.warnings.append(.init(code: "clock-step", line: c.line, seq: c.seq, message: how + more))
            }
            if report.records == 0 {
                report.warnings.append(.init(code: "empty", line: nil, seq: nil, message: "the log has no records"))
            } else if keys.isEmpty {
                report.warnings.append(
                    .init(
                        code: "no-public-key", line: nil, seq: nil,
                        message: "no public key given: the chain is intact but checkpoint signatures were not checked"))
            } else {
                let last = report.lastCheckpointSeq ?? -1
                if last < nextSeq - 1 {
                    let fromLine = report.lastCheckpointLine.map { $0 + 1 } ?? 1
                    var msg =
                        "records seq \(last + 1)–\(nextSeq - 1) (from line \(fromLine)) are not covered by a checkpoint signed by a given key"
                    if report.unknownKeyCheckpoints > 0 {
                        msg += "; \(report.unknownKeyCheckpoints) checkpoint(s) signed by unknown keys were ignored"
                    }
                    report.warnings.append(.init(code: "unsigned-tail", line: fromLine, seq: last + 1, message: msg))
                }
            }
        }
        if nextSeq > 0 {
            report.headSeq = nextSeq - 1
            report.headHash = String(decoding: prevHex, as: UTF8.self)
        }
        report.logID = logID
        report.status = report.failure != nil ? .tampered : (report.warnings.isEmpty ? .intact : .warnings)
        return report
    }
}

extension RecordHeader {
    static func equalsBytes(_ line: UnsafeRawBufferPointer, _ r: Range<Int>, _ bytes: [UInt8]) -> Bool {
        guard r.count == bytes.count else { return false }
        return bytes.withUnsafeBytes { b in memcmp(line.baseAddress! + r.lowerBound, b.baseAddress!, r.count) == 0 }
    }
}
