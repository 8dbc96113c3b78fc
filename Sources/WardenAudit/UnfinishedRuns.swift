/// Finds runs that started near the end of a log but never wrote `run.exit` and whose writer
/// is gone, so the next writer can say so with an `interrupted` record.
///
/// A live writer holds a lock on the first byte of its `run.start` line (`LogFile.holdRunLock`);
/// the kernel releases it when that writer's process dies. Only the last `window` bytes are
/// searched: a run whose `run.start` lies further back is not reported.
enum UnfinishedRuns {
    static let window: Int64 = 4 << 20

    struct Run: Equatable {
        var run: String
        var startSeq: Int64
        var offset: Int64
    }

    /// Runs in the last `window` bytes before `end` with `run.start` and neither `run.exit`
    /// nor an `interrupted` record naming them, whose run lock nobody holds; in log order.
    static func find(_ file: LogFile, end: Int64) throws(AuditError) -> [Run] {
        guard end > 0 else { return [] }
        let start = max(0, end - window)
        let buf = try file.read(offset: start, count: Int(end - start))
        var open: [String: Run] = [:]
        buf.withUnsafeBytes { b in
            var pos = 0
            if start > 0 {
                // Skip the partial first line.
                guard let nl = b.firstIndex(of: UInt8(ascii: "\n")) else { return }
                pos = nl + 1
            }
            while pos < b.count, let nl = b[pos...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = UnsafeRawBufferPointer(rebasing: b[pos..<nl])
                defer { pos = nl + 1 }
                guard let h = RecordHeader.scan(line) else { continue }
                if RecordHeader.equals(line, h.kind, "run.start") {
                    let run = RecordHeader.string(line, h.run)
                    open[run] = Run(run: run, startSeq: h.seq, offset: start + Int64(pos))
                } else if RecordHeader.equals(line, h.kind, "run.exit") {
                    open[RecordHeader.string(line, h.run)] = nil
                } else if RecordHeader.equals(line, h.kind, "interrupted"),
                    let rec = try? AuditRecord.parse(line: Array(line)), let run = rec.fields["run"]?.stringValue
                {
                    open[run] = nil
                }
            }
        }
        return open.values.filter { !file.runLockIsHeld(at: $0.offset) }.sorted { $0.startSeq < $1.startSeq }
    }

    /// The `interrupted` record for `run`.
    static func event(_ run: Run) -> AuditEvent {
        AuditEvent(
            kind: AuditKind.interrupted,
            fields: [
                "run": .string(run.run), "start_seq": .int(run.startSeq),
                "reason": .string("no run.exit, and the writer of the run is gone"),
            ])
    }
}
