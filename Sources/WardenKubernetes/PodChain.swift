import WardenAudit
import WardenServe

/// A pod's audit chain, verified on arrival with the same verifier as `warden audit verify`
/// and held to what the server asked for:
///
/// - the hash chain is intact from its first record (seq 0, genesis `prev`): no record
///   altered, inserted, reordered or missing, no torn last line;
/// - exactly one run: every record belongs to the same run id, which starts with
///   `run.start` and, when complete, ends with `run.exit` (writer records such as
///   `checkpoint` allowed in between);
/// - `run.start` names the queued run's identity, trigger and decision, and the SHA-256 of
///   the event document the server sent.
///
/// A chain that fails any check is refused (`PodChain.Refusal`), never recorded as verified.
public struct PodChain: Sendable, Equatable {
    public var runID: String
    /// SHA-256 (hex) of the last record's line: the chain's head.
    public var headHash: String
    public var records: Int
    /// SHA-256 (hex) of the chain's bytes as received.
    public var sha256: String
    /// The run ended with `run.exit` (else it was cut short: deadline, stop).
    public var complete: Bool
    /// From `run.exit`: `status`, or 128 + `signal`.
    public var exitCode: Int32?
    /// The records, parsed (canonical objects).
    public var values: [AuditValue]

    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
        init(_ reason: String) { self.reason = reason }
    }

    /// Verifies `bytes` as the chain of `run`, whose event document is `event`.
    public static func verify(_ bytes: [UInt8], run: QueuedRun) throws(Refusal) -> PodChain {
        guard !bytes.isEmpty else { throw Refusal("the pod returned an empty audit log") }
        let report: VerifyReport
        do { report = try AuditVerifier().verify(bytes: bytes) } catch { throw Refusal("cannot verify: \(error)") }
        if let f = report.failure {
            throw Refusal("the chain does not verify: line \(f.line): \(f.code): \(f.message)")
        }
        if let w = report.warnings.first(where: { $0.code == "torn-tail" || $0.code == "empty" }) {
            throw Refusal("the chain does not verify: \(w.code): \(w.message)")
        }
        guard let head = report.headHash else { throw Refusal("the chain has no records") }
        var values: [AuditValue] = []
        var runID: String?
        var start: AuditRecord?
        var exit: AuditRecord?
        var seq: Int64 = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let record: AuditRecord
            do { record = try AuditRecord.parse(line: Array(line)) } catch { throw Refusal("a record cannot be read: \(error)") }
            guard record.seq == seq else { throw Refusal("the chain does not start at seq 0 or has a gap (seq \(record.seq), expected \(seq))") }
            if seq == 0, record.prev != AuditRecord.genesisHash { throw Refusal("the chain's first record does not start a log (prev is not the genesis hash)") }
            seq += 1
            if case .success(let v) = AuditValue.parseJSON(Array(line)) { values.append(v) }
            if AuditKind.reserved.contains(record.kind) && record.kind != AuditKind.interrupted { continue }
            if exit != nil { throw Refusal("a record follows run.exit (seq \(record.seq))") }
            guard record.run == (runID ?? record.run) else { throw Refusal("the chain holds more than one run (\(runID ?? "") and \(record.run))") }
            if runID == nil {
                guard record.kind == AuditKind.runStart else { throw Refusal("the chain does not begin with run.start (\(record.kind))") }
                runID = record.run
                start = record
                continue
            }
            if record.kind == AuditKind.runStart { throw Refusal("the chain holds a second run.start") }
            if record.kind == AuditKind.interrupted { throw Refusal("the chain records an interrupted run") }
            if record.kind == AuditKind.runExit { exit = record }
        }
        guard let runID, let start else { throw Refusal("the chain has no run.start") }
        let f = start.fields
        let expected: [(String, String)] = [("identity", run.identity), ("trigger", run.trigger), ("trigger_decision", run.decision),
                                            ("event_sha256", Digest.sha256Hex(run.eventDocument))]
        for (key, want) in expected where f[key]?.stringValue != want {
            throw Refusal("run.start's \(key) is \(f[key]?.jsonText ?? "missing"), not the queued run's \(want)")
        }
        var exitCode: Int32?
        if let e = exit?.fields {
            if let s = e["status"]?.intValue { exitCode = Int32(truncatingIfNeeded: s) }
            else if let sig = e["signal"]?.intValue { exitCode = Int32(truncatingIfNeeded: 128 + sig) }
        }
        return PodChain(runID: runID, headHash: head, records: report.records, sha256: Digest.sha256Hex(bytes),
                        complete: exit != nil, exitCode: exitCode, values: values)
    }
}
