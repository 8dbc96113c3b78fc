import Synchronization
import WardenAudit
#if canImport(Glibc)
import Glibc
#endif

/// `GET /api/runs/ID/records`: a queued run's audit records, read from the server's log: the
/// decision that allowed it (its `decision` run id) and the records of the `warden run`
/// (its run id), in log order.
///
/// The log is read backwards from its end, and only until the decision record: a run's
/// records all come after its decision, so the cost is what was appended since the run was
/// decided, not the whole log. At most `scanLimit` bytes are read and one request reads at
/// a time (another gets 503), so the endpoint cannot tie up the handler threads that
/// deliveries share. At most `limit` records (the last ones); `truncated` says when there
/// were more, or when the decision lies beyond `scanLimit` (`warden audit show --run` reads
/// the whole log).
enum RunRecords {
    static let limit = 2000
    static let scanLimit: Int64 = 256 << 20
    static let chunk = 1 << 20
    private static let reading = Atomic<Bool>(false)

    /// The JSON answer, or nil when another request is reading the log (answer 503).
    static func json(_ run: QueuedRun, logPath: String) -> String? {
        guard reading.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return nil }
        defer { reading.store(false, ordering: .releasing) }
        var ids = [run.decision]
        if let runID = run.runID, runID != run.decision { ids.append(runID) }
        var out: [String: AuditValue] = ["run": .int(run.id)]
        switch scan(logPath, ids: ids, decision: run.decision, scanLimit: scanLimit) {
        case .success(let found):
            out["records"] = .array(found.records)
            out["truncated"] = .bool(found.truncated)
            if !found.reachedDecision {
                out["error"] = .string("the run's decision was not found in the last \(scanLimit >> 20) MiB of the log; `warden audit show --run \(run.runID ?? run.decision)` reads all of it")
            }
        case .failure(let error):
            out["records"] = .array([])
            out["truncated"] = .bool(false)
            out["error"] = .string(error.description)
        }
        return AuditValue.object(out).jsonText
    }

    struct Found {
        var records: [AuditValue] = []
        var truncated = false
        var reachedDecision = false
    }

    struct ReadError: Error, CustomStringConvertible { let description: String }

    /// The records whose run id is one of `ids`, from the end of the log at `path` back to
    /// the record of run `decision` that comes first (`trigger.allow`), in log order.
    static func scan(_ path: String, ids: [String], decision: String, scanLimit: Int64) -> Result<Found, ReadError> {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadError(description: "cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return .failure(ReadError(description: "\(path) is not a regular file"))
        }
        let needles = ids.map { Array("\"run\":\"\($0)\"".utf8) }
        let decisionKinds: Set<String> = [AuditKind.triggerAllow, AuditKind.triggerRefuse]
        var found = Found()
        var newestFirst: [AuditValue] = []
        var position = Int64(st.st_size)
        var carry: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        // Lines, newest first; true once the decision record was met.
        func take(_ line: ArraySlice<UInt8>) -> Bool {
            guard needles.contains(where: { line.firstRange(of: $0) != nil }),
                  case .success(let value) = AuditValue.parseJSON(Array(line)),
                  let run = value["run"]?.stringValue, ids.contains(run) else { return false }
            if newestFirst.count < limit { newestFirst.append(value) } else { found.truncated = true }
            return run == decision && decisionKinds.contains(value["kind"]?.stringValue ?? "")
        }
        scanning: while position > 0, Int64(st.st_size) - position < scanLimit {
            let n = Int(min(Int64(chunk), position))
            position -= Int64(n)
            var got = 0
            while got < n {
                let r = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, n - got, off_t(position) + off_t(got)) }
                if r < 0, errno == EINTR { continue }
                guard r > 0 else { return .failure(ReadError(description: "cannot read \(path): \(r < 0 ? String(cString: strerror(errno)) : "it shrank")")) }
                got += r
            }
            let data = Array(buffer[0..<n]) + carry
            var end = data.count
            var i = data.count - 1
            while i >= 0 {
                if data[i] == 0x0A {
                    if end > i + 1, take(data[(i + 1)..<end]) { found.reachedDecision = true; break scanning }
                    end = i
                }
                i -= 1
            }
            // A line longer than any record can be is no record: skip it rather than hold it.
            carry = end > LogTail.maxRecordBytes ? [] : Array(data[0..<end])
            if position == 0, !carry.isEmpty, take(carry[...]) { found.reachedDecision = true }
        }
        found.records = newestFirst.reversed()
        if !found.reachedDecision { found.truncated = found.truncated || position > 0 }
        return .success(found)
    }
}
