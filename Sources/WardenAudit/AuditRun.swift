import Synchronization

/// One run's view of the audit log: what the runtime calls.
///
/// `start` writes `run.start` durably; `record` buffers other records (group commit: a
/// batch is written with one `write` + `fdatasync` when `maxBatch` records are pending or the
/// oldest is `maxDelayNanos` old, checked on each call and by `flushIfDue`); the `deny*`
/// and `network` calls feed the aggregator, whose records are written when its window
/// (`aggregationWindowNanos`, checked by `flushIfDue`) or its event count
/// (`maxAggregateEvents`) is reached; `finish` drains everything, writes `run.exit` and a
/// signed checkpoint, durably. Thread-safe.
///
/// Nothing is dropped when the log cannot take a batch (ENOSPC, EIO, EDQUOT, a vanished
/// file): the records are kept in memory and in the run's spill file next to the log
/// (`AuditSpill`), the run enters the failing state (`failure`, and the loss handler is
/// told), and every later call retries at most every `retryIntervalNanos`. Once the log
/// takes them again, they are appended after a `recovery.spill` record; if the run ends
/// first, the next writer of the log appends them from the spill file.
public final class AuditRun: Sendable {
    public let log: AuditLog
    public let runID: String
    public let maxBatch: Int
    public let maxDelayNanos: Int64
    public let retryIntervalNanos: Int64

    /// A change in the log's ability to take this run's records.
    public enum LossChange: Sendable, Equatable {
        /// A batch could not be made durable; it is kept (memory and spill file).
        case failed(AuditError)
        /// Every kept record has now been written.
        case recovered
    }

    /// What was still unwritten when the run finished.
    public struct Unsaved: Sendable, Equatable {
        /// Why the log did not take them.
        public var error: AuditError
        /// How many records of this run are not in the log.
        public var records: Int
        /// The spill file holding them, for the next writer (nil when it could not be written).
        public var spillPath: String?
        /// Records neither in the log nor in the spill file, as spill lines (the last copy).
        public var unspilledLines: [[UInt8]]
    }

    private struct State {
        var buffer: [AuditEvent] = []
        var oldestBuffered: Int64 = 0
        var aggregator: DenialAggregator
        var startedMono: Int64?
        var finished = false
        /// Records the log did not take yet, in order.
        var unwritten: [AuditEvent] = []
        /// The subset of `unwritten` that is not in the spill file either.
        var unspilled: [AuditEvent] = []
        var failure: AuditError?
        var lastAttempt: Int64 = 0
        /// Events durably recorded, by kind (aggregated records count their `count`).
        var recorded: [String: Int64] = [:]
        /// The denials durably recorded, by what was denied (for the closing digest).
        var tally = DenialTally()
        var spill: AuditSpill?
        var unsaved: Unsaved?
        var handler: (@Sendable (LossChange) -> Void)?
        var pendingHandler: (@Sendable () -> Void)?

        /// Nothing waits to be written: no buffered record, no open aggregation window, no
        /// kept record to retry.
        var isIdle: Bool { buffer.isEmpty && aggregator.pendingSince == nil && (failure == nil || unwritten.isEmpty) }
    }

    private let state: Mutex<State>
    private let spillReserveBytes: Int

    /// - Parameters:
    ///   - aggregationWindowNanos, maxAggregateEvents: aggregated denials reach the log at
    ///     the latest when the window is this old (on the next `flushIfDue`) or when this
    ///     many events were counted in it: a killed supervisor loses at most that much.
    ///   - spillReserveBytes: space reserved for the spill file when the run starts.
    public init(
        log: AuditLog, runID: String = AuditRun.newRunID(), maxBatch: Int = 256,
        maxDelayNanos: Int64 = 200_000_000, aggregationWindowNanos: Int64 = 750_000_000, maxAggregateKeys: Int = 1024,
        maxAggregateEvents: Int = 1000, retryIntervalNanos: Int64 = 500_000_000, spillReserveBytes: Int = 16384
    ) throws(AuditError) {
        guard RecordSyntax.isValidRunID(runID) else {
            throw .invalidArgument("run id \"\(runID)\" must be 1–128 of A-Z a-z 0-9 . _ : -")
        }
        self.log = log
        self.runID = runID
        self.maxBatch = max(1, maxBatch)
        self.maxDelayNanos = maxDelayNanos
        self.retryIntervalNanos = max(retryIntervalNanos, 0)
        self.spillReserveBytes = max(spillReserveBytes, 0)
        self.state = Mutex(
            State(aggregator: DenialAggregator(windowNanos: aggregationWindowNanos, maxKeys: maxAggregateKeys,
                                               maxEvents: maxAggregateEvents)))
    }

    /// 16 random lowercase hex digits.
    public static func newRunID() -> String {
        var g = SystemRandomNumberGenerator()
        let v = g.next() as UInt64
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Called (outside any lock) whenever the log stops or resumes taking this run's records.
    public func setLossHandler(_ handler: @escaping @Sendable (LossChange) -> Void) {
        state.withLock { $0.handler = handler }
    }

    /// Called (outside any lock) when the run goes from nothing pending to something pending,
    /// so a flusher can sleep without a timeout while the agent is quiet (`nanosecondsUntilDue`).
    public func setPendingHandler(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.pendingHandler = handler }
    }

    /// How long until `flushIfDue` has something to do: a buffered batch's delay, an
    /// aggregation window, a retry of kept records (0 when already due); nil when nothing is
    /// pending at all.
    public func nanosecondsUntilDue() -> Int64? {
        state.withLock { s -> Int64? in
            if s.isIdle { return nil }
            let mono = monotonicNanos()
            var due: [Int64] = []
            if !s.buffer.isEmpty { due.append(maxDelayNanos - (mono - s.oldestBuffered)) }
            if let start = s.aggregator.pendingSince { due.append(s.aggregator.windowNanos - start.nanoseconds(until: .now())) }
            if s.failure != nil, !s.unwritten.isEmpty { due.append(retryIntervalNanos - (mono - s.lastAttempt)) }
            return max(due.min() ?? 0, 0)
        }
    }

    /// The error that keeps records out of the log now; nil while every record is written.
    public var failure: AuditError? { state.withLock { $0.failure } }

    /// Set once the run finished with records the log did not take.
    public var unsaved: Unsaved? { state.withLock { $0.unsaved } }

    /// Appends the records of earlier runs that ended with some unwritten (their spill files),
    /// reserves this run's spill file, then writes `run.start` durably. Throws when
    /// `run.start` cannot be written (nothing of this run is kept then). Returns the records
    /// written (run.start, then `along`). `along`: records that belong right after
    /// `run.start` (the run's identity token), made durable with it by the same `fdatasync`.
    @discardableResult
    public func start(_ info: RunStartInfo, along: [AuditEvent] = []) throws(AuditError) -> [AppendedRecord] {
        _ = try? AuditSpill.recoverAbandoned(log: log, by: runID)
        return try state.withLock { (s: inout State) throws(AuditError) -> [AppendedRecord] in
            s.startedMono = monotonicNanos()
            s.spill = AuditSpill.create(log: log.path, run: runID, reserve: spillReserveBytes)
            do throws(AuditError) {
                return try log.append([.runStart(info)] + along, run: runID, sync: true)
            } catch {
                s.spill?.close()
                s.spill = nil
                throw error
            }
        }
    }

    /// Buffers any record (group commit).
    public func record(_ event: AuditEvent) throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            if s.buffer.isEmpty { s.oldestBuffered = monotonicNanos() }
            s.buffer.append(event)
            return flushIfDueLocked(&s, now: .now())
        }
    }

    /// Counts a denied syscall (aggregated; cheap).
    public func denySyscall(
        nr: Int32, name: String, args: [UInt64], pid: Int32, errno: Int32? = nil, rule: String? = nil,
        at: AuditTime = .now()
    ) throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            guard s.aggregator.addSyscall(nr: nr, name: name, args: args, pid: pid, errno: errno, rule: rule, at: at)
            else { return nil }
            return flushIfDueLocked(&s, now: at)
        }
    }

    /// Counts a mediated network call, allowed or denied (aggregated by destination and
    /// `detail`).
    public func network(
        denied: Bool, destination: String, port: Int32, proto: String, domain: String? = nil, pid: Int32,
        rule: String? = nil, detail: NetworkDetail? = nil, at: AuditTime = .now()
    ) throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            guard s.aggregator.addNetwork(denied: denied, destination: destination, port: port, proto: proto,
                                          domain: domain, pid: pid, rule: rule, detail: detail, at: at)
            else { return nil }
            return flushIfDueLocked(&s, now: at)
        }
    }

    /// Counts a filesystem denial the supervisor observed (aggregated).
    public func denyFs(
        path: String, operation: String, access: String?, errno: Int32?, pid: Int32, rule: String?, source: String,
        at: AuditTime = .now()
    ) throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            guard s.aggregator.addFs(path: path, operation: operation, access: access, errno: errno, pid: pid,
                                     rule: rule, source: source, at: at)
            else { return nil }
            return flushIfDueLocked(&s, now: at)
        }
    }

    /// Writes pending records when a batch or aggregation window is due, and retries kept
    /// records while the log is failing. Call it from the supervisor loop several times a
    /// second: the aggregation window is only as precise as these calls.
    public func flushIfDue() throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            let change = flushIfDueLocked(&s, now: .now())
            return change ?? retryLocked(&s, force: false)
        }
    }

    /// Writes everything pending now (buffer and aggregates).
    public func flush() throws(AuditError) {
        try locked { (s: inout State) -> LossChange? in
            let events = s.buffer + s.aggregator.drain()
            s.buffer.removeAll(keepingCapacity: true)
            return writeLocked(&s, events).change
        }
    }

    /// Denial totals so far, by kind (every event counted, written or not).
    public var denialTotals: [String: Int64] { state.withLock { $0.aggregator.totals } }

    /// Events durably in the log, by kind (aggregated records count their `count`).
    public var recordedTotals: [String: Int64] { state.withLock { $0.recorded } }

    /// The denials durably in the log, by what was denied (bounded; see `DenialTally`).
    public var recordedDenials: DenialTally { state.withLock { $0.tally } }

    /// Drains aggregates, writes `run.exit` and a checkpoint (with a key), durably, then
    /// closes the spill file. Throws when the log did not take everything (see `unsaved`).
    /// Returns the records of that final batch.
    @discardableResult
    public func finish(_ info: RunExitInfo) throws(AuditError) -> [AppendedRecord] {
        var change: LossChange?
        let result = state.withLock { (s: inout State) -> Result<[AppendedRecord], AuditError> in
            guard !s.finished else { return .failure(.invalidArgument("run \(runID) already finished")) }
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
            s.buffer.removeAll()
            s.finished = true
            let (written, c) = writeLocked(&s, events, checkpoint: true)
            change = c
            if s.failure != nil, case .recovered? = retryLocked(&s, force: true) { change = .recovered }
            defer { s.spill?.close(); s.spill = nil }
            guard let failure = s.failure else { return .success(written) }
            s.unsaved = Unsaved(error: failure, records: s.unwritten.count,
                                spillPath: s.spill != nil && s.unspilled.count < s.unwritten.count
                                    ? AuditSpill.path(log: log.path, run: runID) : nil,
                                unspilledLines: s.unspilled.map { spillLine($0) })
            return .failure(failure)
        }
        if let change, let handler = state.withLock({ $0.handler }) { handler(change) }
        return try result.get()
    }

    // MARK: - Writing

    /// Runs `body` under the lock, tells the handler about a change, and throws the current
    /// failure when `body`'s records could not be written.
    private func locked(_ body: (inout State) -> LossChange?) throws(AuditError) {
        let (change, failure, handler, woke) = state.withLock {
            s -> (LossChange?, AuditError?, (@Sendable (LossChange) -> Void)?, (@Sendable () -> Void)?) in
            let wasIdle = s.isIdle
            let c = body(&s)
            return (c, s.failure, s.handler, wasIdle && !s.isIdle ? s.pendingHandler : nil)
        }
        woke?()
        if let change, let handler { handler(change) }
        if let failure { throw failure }
    }

    private func flushIfDueLocked(_ s: inout State, now: AuditTime) -> LossChange? {
        let aggDue = s.aggregator.isDue(at: now)
        let bufDue = s.buffer.count >= maxBatch || (!s.buffer.isEmpty && monotonicNanos() - s.oldestBuffered >= maxDelayNanos)
        guard aggDue || bufDue else { return nil }
        var events = s.buffer
        s.buffer.removeAll(keepingCapacity: true)
        if aggDue { events.append(contentsOf: s.aggregator.drain()) }
        return writeLocked(&s, events).change
    }

    /// Appends `events` durably, or keeps them (memory and spill file) when the log fails.
    private func writeLocked(_ s: inout State, _ events: [AuditEvent], checkpoint: Bool = false)
        -> (written: [AppendedRecord], change: LossChange?)
    {
        guard !events.isEmpty else { return ([], nil) }
        if s.failure != nil {
            keep(&s, events)
            return ([], retryLocked(&s, force: false))
        }
        do throws(AuditError) {
            let written = try log.append(events, run: runID, sync: true, checkpoint: checkpoint)
            count(&s, events)
            return (written, nil)
        } catch {
            s.failure = error
            s.lastAttempt = monotonicNanos()
            keep(&s, events)
            return ([], .failed(error))
        }
    }

    private func keep(_ s: inout State, _ events: [AuditEvent]) {
        s.unwritten.append(contentsOf: events)
        if s.spill?.append(events, run: runID) != true { s.unspilled.append(contentsOf: events) }
    }

    /// While failing: appends every kept record after a `recovery.spill` record.
    private func retryLocked(_ s: inout State, force: Bool) -> LossChange? {
        guard let failure = s.failure, !s.unwritten.isEmpty else { return nil }
        let now = monotonicNanos()
        guard force || now - s.lastAttempt >= retryIntervalNanos else { return nil }
        s.lastAttempt = now
        let marker = AuditEvent(kind: AuditKind.recoverySpill, fields: [
            "records": .int(Int64(s.unwritten.count)), "recovered_by": .string(runID), "error": .string(failure.description),
        ])
        do throws(AuditError) {
            try log.append([marker] + s.unwritten, run: runID, sync: true, checkpoint: s.finished)
        } catch {
            s.failure = error
            return nil
        }
        count(&s, s.unwritten)
        s.unwritten.removeAll()
        s.unspilled.removeAll()
        s.failure = nil
        s.spill?.reset()
        return .recovered
    }

    private func count(_ s: inout State, _ events: [AuditEvent]) {
        for e in events where e.kind.hasPrefix("deny") || e.kind == AuditKind.netConnect {
            s.recorded[e.kind, default: 0] &+= e.fields["count"]?.intValue ?? 1
            s.tally.add(e)
        }
    }

    private func spillLine(_ e: AuditEvent) -> [UInt8] {
        AuditRecord(seq: 0, ts: AuditTime.now().rfc3339, kind: e.kind, run: runID, fields: e.fields,
                    prev: AuditRecord.genesisHash).lineBytes()
    }
}
