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
    public func finish(_ id: Int64, state: RunState, exitCode: Int32?, error: String?, now: Int64) throws(ServeStoreError) {
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
                try db.execute("UPDATE runs SET state = ?, exit_code = ?, error = ?, finished_at = ? WHERE id = ?",
                               [.text(state.rawValue), .integer(exitCode.map(Int64.init)), .text(message), .integer(now), .integer(id)])
            }
        }
    }

    /// At startup, before any claim: takes the serving lock (`.inUse` when another server
    /// holds it, so its runs are never taken for dead ones), then every `running` row (its
    /// worker died with the previous server) becomes `interrupted`, with `finishedAt = now`.
    /// Returns them, updated, oldest first, so the server can record each in the audit trail.
    public func recoverInterrupted(now: Int64) throws(ServeStoreError) -> [QueuedRun] {
        try acquireServingLock()
        return try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.transaction { () throws(ServeStoreError) -> [QueuedRun] in
                let ids = try db.query("SELECT id FROM runs WHERE state = 'running' ORDER BY id") { $0.int64(0) }
                var out: [QueuedRun] = []
                for id in ids {
                    try db.execute("""
                        UPDATE runs SET state = 'interrupted', finished_at = ?,
                            error = coalesce(error, 'the server stopped while the run was going')
                        WHERE id = ?
                        """, [.integer(now), .integer(id)])
                    if let run = try Self.fetch(db, id) { out.append(run) }
                }
                return out
            }
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
    public func pruneFinished(before: Int64, limit: Int = 10_000) throws(ServeStoreError) -> [Int64] {
        try locked { (db) throws(ServeStoreError) -> [Int64] in
            try db.transaction { () throws(ServeStoreError) -> [Int64] in
                let ids = try db.query("""
                    SELECT id FROM runs WHERE state IN ('finished','failed','interrupted','cancelled') AND finished_at < ? ORDER BY id LIMIT ?
                    """, [.integer(before), .integer(Int64(limit))]) { $0.int64(0) }
                for id in ids { _ = try db.execute("DELETE FROM runs WHERE id = ?", [.integer(id)]) }
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
