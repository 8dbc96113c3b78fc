import WardenCompiler
import WardenPolicy

/// Reading the store: budget usage for the authorizer, listings for the web page and API,
/// counts for /metrics.
extension ServeStore {
    /// What `trigger` has spent, for `TriggerAuthorizer.decide`: runs enqueued in the last
    /// `budget.runsPeriod`, runs `running` now, and run time in the last `budget.wallTimePeriod`.
    public func usage(trigger: String, budget: TriggerBudget, now: Int64) throws(ServeStoreError) -> TriggerUsage {
        try usage(trigger: trigger, runsPeriodSeconds: budget.runsPeriod.seconds,
                  wallTimePeriodSeconds: budget.wallTimePeriod.seconds, now: now)
    }

    /// The usage of every trigger in `budgets` (name to its `budget` line), ready for the
    /// authorizer: `authorizer.decide(event) { usages[$0] }`. Triggers without any budget
    /// limit are left out (the authorizer then checks nothing for them).
    public func usage(budgets: [String: TriggerBudget], now: Int64) throws(ServeStoreError) -> [String: TriggerUsage] {
        var out: [String: TriggerUsage] = [:]
        for (trigger, budget) in budgets where budget.runsCount != nil || budget.concurrent != nil || budget.wallTimeSeconds != nil {
            out[trigger] = try usage(trigger: trigger, budget: budget, now: now)
        }
        return out
    }

    /// `usage` with one period for both runs and run time.
    public func usage(trigger: String, periodSeconds: Int, now: Int64) throws(ServeStoreError) -> TriggerUsage {
        try usage(trigger: trigger, runsPeriodSeconds: periodSeconds, wallTimePeriodSeconds: periodSeconds, now: now)
    }

    /// - `runsInPeriod`: runs of the trigger enqueued after `now - runsPeriodSeconds` (queued
    ///   runs count: the budget is spent when a launch is admitted), cancelled ones excepted.
    /// - `running`: runs of the trigger `running` now.
    /// - `wallTimeSecondsInPeriod`: the part of each run's time (start to end, or to `now`
    ///   while running) that falls after `now - wallTimePeriodSeconds`, summed and rounded up.
    ///   An interrupted run counts until the restart found it (an upper bound: fail closed).
    public func usage(trigger: String, runsPeriodSeconds: Int, wallTimePeriodSeconds: Int, now: Int64) throws(ServeStoreError) -> TriggerUsage {
        try StoreBounds.name(trigger, "trigger name")
        let periods = 1...StoreBounds.maxPeriodSeconds
        guard periods.contains(runsPeriodSeconds), periods.contains(wallTimePeriodSeconds) else {
            throw .invalidArgument("budget periods must be 1 to \(StoreBounds.maxPeriodSeconds) seconds, not \(runsPeriodSeconds) and \(wallTimePeriodSeconds)")
        }
        let runsStart = StoreBounds.minus(now, Int64(runsPeriodSeconds) * 1000)
        let wallStart = StoreBounds.minus(now, Int64(wallTimePeriodSeconds) * 1000)
        return try locked { (db) throws(ServeStoreError) -> TriggerUsage in
            let runs = try db.queryOne("""
                SELECT count(*) FROM runs WHERE trigger_name = ? AND enqueued_at > ? AND state != 'cancelled'
                """, [.text(trigger), .integer(runsStart)]) { $0.int64(0) } ?? 0
            let running = try db.queryOne("SELECT count(*) FROM runs WHERE trigger_name = ? AND state = 'running'",
                                          [.text(trigger)]) { $0.int64(0) } ?? 0
            let milliseconds = try db.queryOne("""
                SELECT total(max(0, min(coalesce(finished_at, ?1), ?1) - max(started_at, ?2))) FROM runs
                WHERE trigger_name = ?3 AND started_at IS NOT NULL AND (finished_at > ?2 OR finished_at IS NULL)
                """, [.integer(now), .integer(wallStart), .text(trigger)]) { $0.double(0) } ?? 0
            let seconds = (milliseconds / 1000).rounded(.up)
            return TriggerUsage(runsInPeriod: Int(runs), running: Int(running),
                                wallTimeSecondsInPeriod: seconds < Double(Int.max) ? Int(seconds) : Int.max)
        }
    }

    /// Runs newest first (by id), at most `limit`, with ids below `before` when given (the
    /// last id of the previous page). Event documents are left out (empty) unless
    /// `includeEvents`; `limit` is capped at `StoreBounds.maxPage`, or `maxEventPage` with
    /// events, so one page stays bounded in memory. `run(_:)` has a run's document.
    public func runs(limit: Int, before: Int64? = nil, includeEvents: Bool = false) throws(ServeStoreError) -> [QueuedRun] {
        let count = min(max(0, limit), includeEvents ? StoreBounds.maxEventPage : StoreBounds.maxPage)
        guard count > 0 else { return [] }
        let columns = includeEvents ? StoreSchema.runColumns : StoreSchema.runColumnsWithoutEvent
        return try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.query("SELECT \(columns) FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?",
                         [.integer(before ?? Int64.max), .integer(Int64(count))], StoreSchema.decodeRun)
        }
    }

    /// One run, with its event document; nil when no run has that id.
    public func run(_ id: Int64) throws(ServeStoreError) -> QueuedRun? {
        try locked { (db) throws(ServeStoreError) -> QueuedRun? in try Self.fetch(db, id) }
    }

    /// Queued runs, oldest first, with their event documents: at most `limit` (capped at
    /// `StoreBounds.maxEventPage`), with ids above `after` when given (the last id of the
    /// previous page). What a restart resumes, in the order `claim` takes it.
    public func queued(limit: Int, after: Int64? = nil) throws(ServeStoreError) -> [QueuedRun] {
        let count = min(max(0, limit), StoreBounds.maxEventPage)
        guard count > 0 else { return [] }
        return try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.query("SELECT \(StoreSchema.runColumns) FROM runs WHERE state = 'queued' AND id > ? ORDER BY id LIMIT ?",
                         [.integer(after ?? Int64.min), .integer(Int64(count))], StoreSchema.decodeRun)
        }
    }

    /// How many runs are in each state (every state present, zero when none), for /metrics.
    public func counts() throws(ServeStoreError) -> [RunState: Int] {
        try locked { (db) throws(ServeStoreError) -> [RunState: Int] in
            var out = Dictionary(uniqueKeysWithValues: RunState.allCases.map { ($0, 0) })
            _ = try db.query("SELECT state, count(*) FROM runs GROUP BY state") { (row) -> Bool? in
                if let state = RunState(rawValue: row.text(0)) { out[state] = Int(clamping: row.int64(1)) }
                return true
            }
            return out
        }
    }
}
