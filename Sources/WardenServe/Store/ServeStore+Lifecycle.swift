/// Moving runs through their states: claim, run id, finish, recovery, kill switch.
extension ServeStore {
    /// The oldest queued run the limits let start now, marked `running` (with `startedAt =
    /// now`) in the same transaction; nil when none may start. Limits count the runs
    /// `running` in the store (across processes sharing the file), so concurrent callers never
    /// exceed one. A run blocked by its identity, repository or trigger does not hold back
    /// later runs that are not.
    ///
    /// `triggerConcurrency` maps a trigger name to its `budget concurrent N`; runs of the
    /// identities in `stopped` (the kill switch) are not started.
    public func claim(limits: ConcurrencyLimits, triggerConcurrency: [String: Int] = [:], skipping stopped: Set<String> = [],
                      now: Int64) throws(ServeStoreError) -> QueuedRun? {
        guard limits.host > 0 else { return nil }
        return try locked { (db) throws(ServeStoreError) -> QueuedRun? in
            try db.transaction { () throws(ServeStoreError) -> QueuedRun? in
                var host = 0
                var byIdentity: [String: Int] = [:], byRepository: [String: Int] = [:], byTrigger: [String: Int] = [:]
                _ = try db.query("SELECT trigger_name, identity, repository FROM runs WHERE state = 'running'") { (row) -> Bool? in
                    host += 1
                    byTrigger[row.text(0), default: 0] += 1
                    byIdentity[row.text(1), default: 0] += 1
                    if let repository = row.optionalText(2) { byRepository[repository, default: 0] += 1 }
                    return true
                }
                guard host < limits.host else { return nil }
                func allowed(_ trigger: String, _ identity: String, _ repository: String?) -> Bool {
                    if stopped.contains(identity) { return false }
                    if let cap = triggerConcurrency[trigger], byTrigger[trigger, default: 0] >= cap { return false }
                    if let cap = limits.perIdentity, byIdentity[identity, default: 0] >= cap { return false }
                    if let cap = limits.perRepository, let repository, byRepository[repository, default: 0] >= cap { return false }
                    return true
                }
                // FIFO: the first queued run (by id) that no limit holds back.
                var chosen: Int64?
                _ = try db.query("SELECT id, trigger_name, identity, repository FROM runs WHERE state = 'queued' ORDER BY id") { (row) -> Bool? in
                    guard allowed(row.text(1), row.text(2), row.optionalText(3)) else { return true }
                    chosen = row.int64(0)
                    return nil
                }
                guard let chosen else { return nil }
                // Under the write lock the row is still queued; the condition is a second guard.
                let changed = try db.execute("UPDATE runs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'",
                                             [.integer(now), .integer(chosen)])
                guard changed == 1 else { return nil }
                return try Self.fetch(db, chosen)
            }
        }
    }

    /// Records the run id `warden run` gave a running run, and its workspace.
    public func setRunID(_ id: Int64, runID: String, workspace: String?) throws(ServeStoreError) {
        try StoreBounds.name(runID, "run id")
        try StoreBounds.field(workspace, "workspace")
        try locked { (db) throws(ServeStoreError) in
            try db.transaction { () throws(ServeStoreError) in
                let state = try Self.state(db, id)
                guard state == .running else { throw .invalidTransition(id: id, from: state, to: .running) }
                try db.execute("UPDATE runs SET run_id = ?, workspace = ? WHERE id = ?", [.text(runID), .text(workspace), .integer(id)])
            }
        }
    }

    /// Ends a run: a `running` run may become `finished`, `failed`, `interrupted` or
    /// `cancelled`; a `queued` one only `cancelled`. `error` is cut to `StoreBounds.maxErrorBytes`.
    public func finish(_ id: Int64, state: RunState, exitCode: Int32?, error: String?, now: Int64,
                       denials: Int64? = nil, changes: String? = nil) throws(ServeStoreError) {
        if let changes, changes.utf8.count > StoreBounds.maxChangesBytes {
            throw .invalidArgument("the workspace changes are \(changes.utf8.count) bytes, more than \(StoreBounds.maxChangesBytes)")
        }
        guard state.isTerminal else {
            throw .invalidArgument("finish needs a final state (finished, failed, interrupted, cancelled), not \(state.rawValue)")
        }
        let message = error.map { StoreBounds.cut($0, to: StoreBounds.maxErrorBytes) }
        try locked { (db) throws(ServeStoreError) in
            try db.transaction { () throws(ServeStoreError) in
                let current = try Self.state(db, id)
                guard current == .running || (current == .queued && state == .cancelled) else {
                    throw .invalidTransition(id: id, from: current, to: state)
                }
                try db.execute("UPDATE runs SET state = ?, exit_code = ?, error = ?, finished_at = ?, denials = ?, changes = ? WHERE id = ?",
                               [.text(state.rawValue), .integer(exitCode.map(Int64.init)), .text(message), .integer(now),
                                .integer(denials), .text(changes), .integer(id)])
            }
        }
    }

    /// At startup, before any claim: takes the serving lock (`.inUse` when another server
    /// holds it, so its runs are never taken for dead ones), then every `running` row (its
    /// worker died with the previous server) becomes `interrupted`, with `finishedAt = now`.
    /// Returns them, updated, oldest first, so the server can record each in the audit trail.
    public func recoverInterrupted(now: Int64) throws(ServeStoreError) -> [QueuedRun] {
        try recoverInterrupted(now: now) { _ in nil }.map(\.run)
    }

    /// What a restarted server found about a run that was `running` (see `recoverInterrupted(now:settle:)`).
    public struct Recovered: Sendable, Equatable {
        /// The row as it is now (`finished` or `interrupted`).
        public var run: QueuedRun
        /// The fleet run queued again for it (a fleet run's first interruption), if any.
        public var requeued: QueuedRun?
    }

    /// What a run left behind although its server died before recording it (its report).
    /// `endedOnItsOwn`: its `warden run` ended without being stopped by the server's death;
    /// `recoverInterrupted` records it as `finished` instead of `interrupted`. Otherwise
    /// only its run id and exit status are kept on the interrupted row (for the history).
    public struct SettledOutcome: Sendable, Equatable {
        public var runID: String?
        public var exitCode: Int32
        public var error: String?
        public var denials: Int64?
        public var changes: String?
        public var endedOnItsOwn: Bool
        public init(runID: String?, exitCode: Int32, error: String? = nil, denials: Int64? = nil, changes: String? = nil,
                    endedOnItsOwn: Bool = true) {
            self.runID = runID
            self.exitCode = exitCode
            self.error = error
            self.denials = denials
            self.changes = changes
            self.endedOnItsOwn = endedOnItsOwn
        }
    }

    /// The most attempts a fleet repository gets: its first run, and one more when the
    /// server died under the first. A second interruption is reported, not retried: a
    /// command that keeps taking the server down must not do so forever.
    public static let maxFleetAttempts = 2

    /// Startup recovery, in one transaction: each `running` row is either settled from what
    /// its run left behind (`settle` returns the outcome: the run ended before the server
    /// died; it becomes `finished`) or becomes `interrupted`. An interrupted fleet run whose
    /// attempt is below `maxFleetAttempts` is queued again as a new row (same fleet,
    /// repository, decision and event; `attempt + 1`), so the fleet finishes with one result
    /// per repository; it stays `interrupted` in the history, and the aggregate counts both.
    /// Call `settle` only once the dead server's `warden run`s have exited.
    public func recoverInterrupted(now: Int64, settle: (QueuedRun) -> SettledOutcome?) throws(ServeStoreError) -> [Recovered] {
        try acquireServingLock()
        return try locked { (db) throws(ServeStoreError) -> [Recovered] in
            try db.transaction { () throws(ServeStoreError) -> [Recovered] in
                let ids = try db.query("SELECT id FROM runs WHERE state = 'running' ORDER BY id") { $0.int64(0) }
                var out: [Recovered] = []
                for id in ids {
                    guard let before = try Self.fetch(db, id) else { continue }
                    let found = settle(before)
                    if let o = found, o.endedOnItsOwn {
                        try db.execute("""
                            UPDATE runs SET state = 'finished', finished_at = ?, run_id = coalesce(?, run_id), exit_code = ?,
                                error = ?, denials = ?, changes = ? WHERE id = ?
                            """, [.integer(now), .text(o.runID), .integer(Int64(o.exitCode)),
                                  .text(o.error.map { StoreBounds.cut($0, to: StoreBounds.maxErrorBytes) }), .integer(o.denials),
                                  .text(o.changes.flatMap { $0.utf8.count <= StoreBounds.maxChangesBytes ? $0 : nil }), .integer(id)])
                        if let run = try Self.fetch(db, id) { out.append(Recovered(run: run)) }
                        continue
                    }
                    try db.execute("""
                        UPDATE runs SET state = 'interrupted', finished_at = ?,
                            error = coalesce(error, 'the server stopped while the run was going'),
                            run_id = coalesce(?, run_id), exit_code = ?
                        WHERE id = ?
                        """, [.integer(now), .text(found?.runID), .integer(found.map { Int64($0.exitCode) }), .integer(id)])
                    guard let run = try Self.fetch(db, id) else { continue }
                    var requeued: QueuedRun?
                    if let fleet = run.fleetID, run.attempt < Self.maxFleetAttempts {
                        try db.execute("""
                            INSERT INTO runs (trigger_name, identity, source, repository, delivery_id, decision, commit_sha,
                                              clone_url, event, state, enqueued_at, fleet_id, attempt)
                            SELECT trigger_name, identity, source, repository, delivery_id, decision, commit_sha,
                                   clone_url, event, 'queued', ?, fleet_id, attempt + 1 FROM runs WHERE id = ? AND fleet_id = ?
                            """, [.integer(now), .integer(id), .text(fleet)])
                        let newID = try db.queryOne("SELECT last_insert_rowid()") { $0.int64(0) } ?? 0
                        requeued = try Self.fetch(db, newID)
                    }
                    out.append(Recovered(run: run, requeued: requeued))
                }
                return out
            }
        }
    }

    /// The runs `running` now, oldest first (without event documents): at startup, before
    /// `recoverInterrupted`, the ones whose `warden run` may still be stopping.
    public func runningRuns() throws(ServeStoreError) -> [QueuedRun] {
        try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.query("SELECT \(StoreSchema.runColumnsWithoutEvent) FROM runs WHERE state = 'running' ORDER BY id", [], StoreSchema.decodeRun)
        }
    }

    /// The kill switch: every queued run (of `trigger`, or all when nil) becomes `cancelled`
    /// with `reason` as its error. Returns them, updated, oldest first.
    public func cancelQueued(trigger: String?, reason: String, now: Int64) throws(ServeStoreError) -> [QueuedRun] {
        if let trigger { try StoreBounds.name(trigger, "trigger name") }
        let message = StoreBounds.cut(reason, to: StoreBounds.maxErrorBytes)
        return try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.transaction { () throws(ServeStoreError) -> [QueuedRun] in
                let filter = trigger == nil ? "" : " AND trigger_name = ?"
                let parameter: [SQLiteValue] = trigger.map { [.text($0)] } ?? []
                let ids = try db.query("SELECT id FROM runs WHERE state = 'queued'\(filter) ORDER BY id", parameter) { $0.int64(0) }
                var out: [QueuedRun] = []
                for id in ids {
                    try db.execute("UPDATE runs SET state = 'cancelled', finished_at = ?, error = ? WHERE id = ?",
                                   [.integer(now), .text(message), .integer(id)])
                    if let run = try Self.fetch(db, id) { out.append(run) }
                }
                return out
            }
        }
    }

    /// Deletes ended runs that finished before `before` (unix ms); returns their ids, at most
    /// `limit` of them (the oldest first). Keep at least a day (the longest budget period) for
    /// `usage`.
    ///
    /// A fleet goes as a whole: its runs only once every one of them ended before `before`
    /// (its aggregate never shows part of it), then its record.
    public func pruneFinished(before: Int64, limit: Int = 10_000) throws(ServeStoreError) -> [Int64] {
        try locked { (db) throws(ServeStoreError) -> [Int64] in
            try db.transaction { () throws(ServeStoreError) -> [Int64] in
                let ids = try db.query("""
                    SELECT id FROM runs AS r WHERE state IN ('finished','failed','interrupted','cancelled') AND finished_at < ?1
                      AND (fleet_id IS NULL OR NOT EXISTS (SELECT 1 FROM runs AS o WHERE o.fleet_id = r.fleet_id
                           AND (o.state NOT IN ('finished','failed','interrupted','cancelled') OR o.finished_at >= ?1)))
                    ORDER BY id LIMIT ?2
                    """, [.integer(before), .integer(Int64(limit))]) { $0.int64(0) }
                for id in ids { _ = try db.execute("DELETE FROM runs WHERE id = ?", [.integer(id)]) }
                _ = try db.execute("""
                    DELETE FROM fleets WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.fleet_id = fleets.id)
                    """, [.integer(before)])
                return ids
            }
        }
    }

    static func fetch(_ db: SQLiteDatabase, _ id: Int64) throws(ServeStoreError) -> QueuedRun? {
        try db.queryOne("SELECT \(StoreSchema.runColumns) FROM runs WHERE id = ?", [.integer(id)], StoreSchema.decodeRun)
    }

    static func state(_ db: SQLiteDatabase, _ id: Int64) throws(ServeStoreError) -> RunState {
        guard let text = try db.queryOne("SELECT state FROM runs WHERE id = ?", [.integer(id)], { $0.text(0) }) else {
            throw .noSuchRun(id)
        }
        guard let state = RunState(rawValue: text) else { throw .corruptRow(id: id, reason: "unknown state '\(text)'") }
        return state
    }
}
