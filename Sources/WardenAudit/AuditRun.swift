import Synchronization

/// One run's view of the audit log: what the runtime calls.
///
/// `start` writes `run.start` durably; `record` buffers other records (group commit: a
/// batch is written with one `write` + `fdatasync` when `maxBatch` records are pending or the
/// oldest is `maxDelayNanos` old, checked on each call and by `flushIfDue`); the `deny*`
/// and `network` calls feed the aggregator; `finish` drains everything, writes `run.exit`
/// and a signed checkpoint, durably. Thread-safe.
public final class AuditRun: Sendable {
    public let log: AuditLog
    public let runID: String
    public let maxBatch: Int
    public let maxDelayNanos: Int64

    private struct State {
        var buffer: [AuditEvent] = []
        var oldestBuffered: Int64 = 0
        var aggregator: DenialAggregator
        var startedMono: Int64?
        var finished = false
    }

    private let state: Mutex<State>

    public init(
        log: AuditLog, runID: String = AuditRun.newRunID(), maxBatch: Int = 256,
        maxDelayNanos: Int64 = 200_000_000, aggregationWindowNanos: Int64 = 5_000_000_000, maxAggregateKeys: Int = 1024
    ) throws(AuditError) {
        guard RecordSyntax.isValidRunID(runID) else {
            throw .invalidArgument("run id \"\(runID)\" must be 1–128 of A-Z a-z 0-9 . _ : -")
        }
        self.log = log
        self.runID = runID
        self.maxBatch = max(1, maxBatch)
        self.maxDelayNanos = maxDelayNanos
        self.state = Mutex(
            State(aggregator: DenialAggregator(windowNanos: aggregationWindowNanos, maxKeys: maxAggregateKeys)))
    }

    /// 16 random lowercase hex digits.
    public static func newRunID() -> String {
        var g = SystemRandomNumberGenerator()
        let v = g.next() as UInt64
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Writes `run.start` (durably). Returns the records written (run.start last).
    @discardableResult
    public func start(_ info: RunStartInfo) throws(AuditError) -> [AppendedRecord] {
        try state.withLock { (s: inout State) throws(AuditError) -> [AppendedRecord] in
            s.startedMono = monotonicNanos()
            return try flushLocked(&s, extra: [.runStart(info)], sync: true)
        }
    }

    /// Buffers any record (group commit).
    public func record(_ event: AuditEvent) throws(AuditError) {
        try state.withLock { (s: inout State) throws(AuditError) in
            if s.buffer.isEmpty { s.oldestBuffered = monotonicNanos() }
            s.buffer.append(event)
            try flushIfDueLocked(&s, now: .now())
        }
    }

    /// Counts a denied syscall (aggregated; cheap).
    public func denySyscall(
        nr: Int32, name: String, args: [UInt64], pid: Int32, errno: Int32? = nil, rule: String? = nil,
        at: AuditTime = .now()
    ) throws(AuditError) {
        try state.withLock { (s: inout State) throws(AuditError) in
            if s.aggregator.addSyscall(nr: nr, name: name, args: args, pid: pid, errno: errno, rule: rule, at: at) {
                try flushIfDueLocked(&s, now: at)
            }
        }
    }

    /// Counts a network connection attempt, allowed or denied (aggregated).
    public func network(
        denied: Bool, destination: String, port: Int32, proto: String, domain: String? = nil, pid: Int32,
        rule: String? = nil, at: AuditTime = .now()
    ) throws(AuditError) {
        try state.withLock { (s: inout State) throws(AuditError) in
            if s.aggregator.addNetwork(
                denied: denied, destination: destination, port: port, proto: proto, domain: domain, pid: pid,
                rule: rule, at: at)
            {
                try flushIfDueLocked(&s, now: at)
            }
        }
    }

    /// Writes pending records when a batch or aggregation window is due. Call it from the
    /// supervisor loop at least once a second (e.g. on its poll timeout).
    public func flushIfDue() throws(AuditError) {
        try state.withLock { (s: inout State) throws(AuditError) in try flushIfDueLocked(&s, now: .now()) }
    }

    /// Writes everything pending now (buffer and aggregates).
    public func flush() throws(AuditError) {
        try state.withLock { (s: inout State) throws(AuditError) in
            let agg = s.aggregator.drain()
            try flushLocked(&s, extra: agg, sync: true)
        }
    }

    /// Denial totals so far, by kind.
    public var denialTotals: [String: Int64] { state.withLock { $0.aggregator.totals } }

    /// Drains aggregates, writes `run.exit` and a checkpoint (with a key), durably. Returns
    /// the records of that final batch.
    @discardableResult
    public func finish(_ info: RunExitInfo) throws(AuditError) -> [AppendedRecord] {
        try state.withLock { (s: inout State) throws(AuditError) -> [AppendedRecord] in
            guard !s.finished else { throw .invalidArgument("run \(runID) already finished") }
            var exit = info
            if exit.durationMilliseconds == nil, let t0 = s.startedMono {
                exit.durationMilliseconds = (monotonicNanos() - t0) / 1_000_000
            }
            if exit.denials == nil {
                exit.denials = s.aggregator.totals.filter { $0.key != AuditKind.netConnect }
            }
            var events = s.buffer
            events.append(contentsOf: s.aggregator.drain())
            events.append(.runExit(exit))
            let written = try log.append(events, run: runID, sync: true, checkpoint: true)
            s.buffer.removeAll()
            s.finished = true
            return written
        }
    }

    private func flushIfDueLocked(_ s: inout State, now: AuditTime) throws(AuditError) {
        let aggDue = s.aggregator.isDue(at: now)
        let bufDue = s.buffer.count >= maxBatch || (!s.buffer.isEmpty && monotonicNanos() - s.oldestBuffered >= maxDelayNanos)
        guard aggDue || bufDue else { return }
        let agg = aggDue ? s.aggregator.drain() : []
        try flushLocked(&s, extra: agg, sync: true)
    }

    @discardableResult
    private func flushLocked(_ s: inout State, extra: [AuditEvent], sync: Bool) throws(AuditError) -> [AppendedRecord] {
        var events = s.buffer
        events.append(contentsOf: extra)
        guard !events.isEmpty else { return [] }
        let written = try log.append(events, run: runID, sync: sync)
        s.buffer.removeAll(keepingCapacity: true)
        return written
    }
}
