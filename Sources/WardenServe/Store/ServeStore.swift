import Synchronization
import WardenRuntime

/// The durable state of `warden serve`: the run queue, what became of each run, and the
/// delivery ids already seen. One SQLite file (WAL, synchronous=FULL): a committed enqueue
/// survives a crash or power loss, and a restart resumes the queue (`recoverInterrupted`
/// first, then `claim`).
///
/// Safe to share between threads: every call holds one lock around the connection, and every
/// change is one `BEGIN IMMEDIATE` transaction, so several processes on one file are also
/// serialized (SQLite's lock, waited on for `SQLiteDatabase.busyTimeoutMilliseconds`).
///
/// A server's life: `init`; `recoverInterrupted` (takes the serving lock: `.inUse` means
/// another server has this store); per delivery `hasDelivery` (early out), `usage(budgets:)`
/// for the authorizer, then `enqueue(_:delivery:)` (nil: a redelivery); workers loop on
/// `claim`, `setRunID`, `finish`; the kill switch is `cancelQueued`.
public final class ServeStore: Sendable {
    /// The absolute path of the store's file.
    public let path: String
    /// The most runs `queued` at once; `enqueue` refuses more (`.queueFull`).
    public let maxQueued: Int
    /// How long a delivery id is remembered (milliseconds).
    public let deliveryRetention: Int64

    private let connection: Mutex<Connection>

    /// The connection and, once taken, the serving lock (both dropped by `close`).
    private struct Connection: ~Copyable {
        var db: SQLiteDatabase?
        var servingLock: ServingLock?
    }

    /// Opens the store at `path`, creating it (parents 0700, file 0600) when absent. Refuses a
    /// symbolic link, a non-regular file, a file or directory others can write, a file that is
    /// not a serve store, and a store of a newer schema, each with a typed error.
    public init(path: String, maxQueued: Int = StoreBounds.defaultMaxQueued,
                deliveryRetention: Int64 = StoreBounds.defaultDeliveryRetentionMilliseconds) throws(ServeStoreError) {
        guard maxQueued > 0 else { throw .invalidArgument("the queue limit must be positive, not \(maxQueued)") }
        guard deliveryRetention > 0 else { throw .invalidArgument("the delivery retention must be positive, not \(deliveryRetention)") }
        let absolute = try StoreFile.prepare(path)
        let db = try SQLiteDatabase(path: absolute)
        try StoreSchema.open(db)
        self.path = absolute
        self.maxQueued = maxQueued
        self.deliveryRetention = deliveryRetention
        self.connection = Mutex(Connection(db: db, servingLock: nil))
    }

    /// Closes the connection and releases the serving lock (later calls throw `.closed`).
    /// Dropping the store also closes it.
    public func close() {
        connection.withLock {
            $0.db = nil
            $0.servingLock = nil
        }
    }

    /// Takes the store's serving lock (an exclusive `flock` on `<path>.lock`, held until
    /// `close`): one `warden serve` per store. `recoverInterrupted` takes it itself; a second
    /// server gets `.inUse` naming the first one's pid. Taking it again is a no-op.
    public func acquireServingLock() throws(ServeStoreError) {
        let path = self.path
        try connection.withLock { (c) throws(ServeStoreError) in
            guard c.db != nil else { throw .closed }
            if c.servingLock == nil { c.servingLock = try ServingLock.acquire(storePath: path) }
        }
    }

    /// Runs `body` with the connection under the lock.
    func locked<T: Sendable>(_ body: (SQLiteDatabase) throws(ServeStoreError) -> T) throws(ServeStoreError) -> T {
        try connection.withLock { (c) throws(ServeStoreError) -> T in
            guard let db = c.db else { throw .closed }
            return try body(db)
        }
    }

    // MARK: deliveries

    /// Records a delivery id; false when it was already recorded (a redelivery, never queued
    /// twice). Ids received more than `deliveryRetention` before `at` are forgotten.
    public func recordDelivery(_ id: String, source: String, at: Int64) throws(ServeStoreError) -> Bool {
        let key = DeliveryKey(id: id, source: source, receivedAt: at)
        return try enqueue([], delivery: key) != nil
    }

    /// Whether a delivery id is recorded (a cheap early check; `enqueue(_:delivery:)` decides).
    public func hasDelivery(_ id: String, source: String) throws(ServeStoreError) -> Bool {
        try StoreBounds.field(id, "delivery id")
        return try locked { (db) throws(ServeStoreError) -> Bool in
            try db.queryOne("SELECT 1 FROM deliveries WHERE source = ? AND id = ?", [.text(source), .text(id)]) { _ in true } ?? false
        }
    }

    // MARK: enqueue

    /// Queues one run.
    public func enqueue(_ run: NewRun) throws(ServeStoreError) -> QueuedRun {
        guard let queued = try enqueue([run], delivery: nil)?.first else { throw .invalidArgument("internal: nothing was queued") }
        return queued
    }

    /// Records `delivery` (when given) and queues `runs` in one transaction: either both are
    /// durable or neither, so a crash between them never loses a delivery that a redelivery
    /// would then be refused for. Nil (nothing queued) when the delivery was already recorded.
    /// The whole batch is refused with `.queueFull` when it would pass `maxQueued`.
    public func enqueue(_ runs: [NewRun], delivery: DeliveryKey?) throws(ServeStoreError) -> [QueuedRun]? {
        try enqueue(runs, deliveries: delivery.map { [$0] } ?? [])
    }

    /// `enqueue(_:delivery:)` for a delivery known by several keys (its id and what its
    /// credential signs): nil, and nothing recorded, when any of them was already recorded.
    public func enqueue(_ runs: [NewRun], deliveries: [DeliveryKey]) throws(ServeStoreError) -> [QueuedRun]? {
        try enqueue(runs, deliveries: deliveries, fleet: nil)
    }

    /// Queues a fleet: its record and one run per repository, in one transaction (all of
    /// them durable, or none). Every run must carry `fleet.id`; a repository may appear once.
    public func enqueueFleet(_ fleet: FleetRecord, runs: [NewRun]) throws(ServeStoreError) -> [QueuedRun] {
        guard FleetMembership.isValidID(fleet.id) else { throw .invalidArgument("the fleet id must be 16 lowercase hex digits") }
        try StoreBounds.name(fleet.trigger, "trigger name")
        try StoreBounds.name(fleet.identity, "identity name")
        try StoreBounds.field(fleet.listPath, "fleet list path")
        try StoreBounds.name(fleet.decision, "decision")
        guard !runs.isEmpty, runs.count == fleet.repositories else {
            throw .invalidArgument("a fleet of \(fleet.repositories) repositories needs as many runs, not \(runs.count)")
        }
        guard runs.allSatisfy({ $0.fleetID == fleet.id && $0.repository != nil }) else {
            throw .invalidArgument("every run of fleet \(fleet.id) must carry its id and a repository")
        }
        guard Set(runs.compactMap(\.repository)).count == runs.count else { throw .invalidArgument("a repository appears twice in the fleet") }
        guard let queued = try enqueue(runs, deliveries: [], fleet: fleet) else { throw .invalidArgument("internal: nothing was queued") }
        return queued
    }

    private func enqueue(_ runs: [NewRun], deliveries: [DeliveryKey], fleet: FleetRecord?) throws(ServeStoreError) -> [QueuedRun]? {
        for run in runs { try StoreBounds.newRun(run) }
        for delivery in deliveries {
            guard !delivery.id.isEmpty else { throw .invalidArgument("the delivery id is empty") }
            try StoreBounds.field(delivery.id, "delivery id")
            try StoreBounds.source(delivery.source)
        }
        let maxQueued = self.maxQueued, retention = deliveryRetention
        return try locked { (db) throws(ServeStoreError) -> [QueuedRun]? in
            try db.transaction { () throws(ServeStoreError) -> [QueuedRun]? in
                if let newest = deliveries.map(\.receivedAt).max() {
                    try db.execute("DELETE FROM deliveries WHERE received_at < ?", [.integer(StoreBounds.minus(newest, retention))])
                }
                for delivery in deliveries {
                    let seen = try db.queryOne("SELECT 1 FROM deliveries WHERE source = ? AND id = ?",
                                               [.text(delivery.source), .text(delivery.id)]) { _ in true } ?? false
                    if seen { return nil }
                }
                for delivery in deliveries {
                    let added = try db.execute("INSERT OR IGNORE INTO deliveries (source, id, received_at) VALUES (?, ?, ?)",
                                               [.text(delivery.source), .text(delivery.id), .integer(delivery.receivedAt)])
                    guard added == 1 else { throw .invalidArgument("delivery key given twice: \(delivery.id)") }
                }
                guard !runs.isEmpty else { return [] }
                let queued = try db.queryOne("SELECT count(*) FROM runs WHERE state = 'queued'") { $0.int64(0) } ?? 0
                guard queued + Int64(runs.count) <= Int64(maxQueued) else { throw .queueFull(limit: maxQueued) }
                if let fleet {
                    try db.execute("""
                        INSERT INTO fleets (id, trigger_name, identity, list_path, decision, repositories, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, [.text(fleet.id), .text(fleet.trigger), .text(fleet.identity), .text(fleet.listPath),
                              .text(fleet.decision), .integer(Int64(fleet.repositories)), .integer(fleet.createdAt)])
                }
                var out: [QueuedRun] = []
                for run in runs {
                    try db.execute("""
                        INSERT INTO runs (trigger_name, identity, source, repository, delivery_id, decision, commit_sha,
                                          clone_url, event, state, enqueued_at, fleet_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                        """, [.text(run.trigger), .text(run.identity), .text(run.source), .text(run.repository),
                              .text(run.deliveryID), .text(run.decision), .text(run.commit), .text(run.cloneURL),
                              .blob(run.eventDocument), .integer(run.enqueuedAt), .text(run.fleetID)])
                    let id = try db.queryOne("SELECT last_insert_rowid()") { $0.int64(0) } ?? 0
                    out.append(QueuedRun(id: id, trigger: run.trigger, identity: run.identity, source: run.source,
                                         repository: run.repository, deliveryID: run.deliveryID, decision: run.decision,
                                         commit: run.commit, cloneURL: run.cloneURL, eventDocument: run.eventDocument,
                                         state: .queued, enqueuedAt: run.enqueuedAt, startedAt: nil, finishedAt: nil,
                                         runID: nil, exitCode: nil, error: nil, workspace: nil, fleetID: run.fleetID))
                }
                return out
            }
        }
    }
}

extension ServeStore {
    /// The connection's settings as SQLite reports them (journal mode, synchronous level
    /// (2 = FULL), foreign keys, trusted schema), for tests and diagnostics.
    func connectionSettings() throws(ServeStoreError) -> (journalMode: String, synchronous: Int64, foreignKeys: Int64, trustedSchema: Int64) {
        try locked { (db) throws(ServeStoreError) in
            (try db.queryOne("PRAGMA journal_mode") { $0.text(0) } ?? "",
             try db.queryOne("PRAGMA synchronous") { $0.int64(0) } ?? -1,
             try db.queryOne("PRAGMA foreign_keys") { $0.int64(0) } ?? -1,
             try db.queryOne("PRAGMA trusted_schema") { $0.int64(0) } ?? -1)
        }
    }
}
