/// Reading fleets: one fleet's record and runs (for `GET /api/fleets/ID`), the newest
/// fleets (the status page), and whether a trigger's last fleet is still going.
extension ServeStore {
    /// The most runs one fleet may have in the store: every repository once, plus one more
    /// attempt each (`maxFleetAttempts`).
    static var maxFleetRows: Int { 10_000 * maxFleetAttempts }

    /// The fleet with `id`, or nil.
    public func fleet(_ id: String) throws(ServeStoreError) -> FleetRecord? {
        try locked { (db) throws(ServeStoreError) -> FleetRecord? in
            try db.queryOne("""
                SELECT id, trigger_name, identity, list_path, decision, repositories, created_at FROM fleets WHERE id = ?
                """, [.text(id)]) { (row) throws(ServeStoreError) -> FleetRecord in try Self.decodeFleet(row) }
        }
    }

    /// The fleet's runs in queue order (every attempt), without event documents.
    public func fleetRuns(_ id: String) throws(ServeStoreError) -> [QueuedRun] {
        try locked { (db) throws(ServeStoreError) -> [QueuedRun] in
            try db.query("SELECT \(StoreSchema.runColumnsWithoutEvent) FROM runs WHERE fleet_id = ? ORDER BY id LIMIT ?",
                         [.text(id), .integer(Int64(Self.maxFleetRows))], StoreSchema.decodeRun)
        }
    }

    /// The newest fleets, at most `limit` (capped at `StoreBounds.maxPage`).
    public func fleets(limit: Int) throws(ServeStoreError) -> [FleetRecord] {
        let count = min(max(0, limit), StoreBounds.maxPage)
        guard count > 0 else { return [] }
        return try locked { (db) throws(ServeStoreError) -> [FleetRecord] in
            try db.query("""
                SELECT id, trigger_name, identity, list_path, decision, repositories, created_at FROM fleets
                ORDER BY created_at DESC, id LIMIT ?
                """, [.integer(Int64(count))]) { (row) throws(ServeStoreError) -> FleetRecord? in try Self.decodeFleet(row) }
        }
    }

    /// The id of a fleet of `trigger` that still has runs queued or running, if any: a fleet
    /// trigger fires again only once its last fleet is over.
    public func fleetGoing(trigger: String) throws(ServeStoreError) -> String? {
        try StoreBounds.name(trigger, "trigger name")
        return try locked { (db) throws(ServeStoreError) -> String? in
            try db.queryOne("""
                SELECT fleet_id FROM runs WHERE trigger_name = ? AND fleet_id IS NOT NULL AND state IN ('queued','running') LIMIT 1
                """, [.text(trigger)]) { $0.text(0) }
        }
    }

    private static func decodeFleet(_ row: SQLiteRow) throws(ServeStoreError) -> FleetRecord {
        FleetRecord(id: row.text(0), trigger: row.text(1), identity: row.text(2), listPath: row.text(3), decision: row.text(4),
                    repositories: Int(clamping: row.int64(5)), createdAt: row.int64(6))
    }
}
