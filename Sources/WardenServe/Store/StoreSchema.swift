#if canImport(Glibc)
import Glibc
#endif

/// The store's tables and how a file is recognised and brought up to date.
///
/// A store is an SQLite database whose `application_id` is `applicationID` and whose
/// `user_version` is the schema version. A file with no tables is a new store; a file with
/// tables but another application id is someone else's database and is refused; a version
/// newer than `version` is refused (an older Warden must not write what it cannot read).
enum StoreSchema {
    /// "WSRV": marks the file as a Warden serve store.
    static let applicationID: Int64 = 0x5753_5256
    /// The schema version this code reads and writes.
    static let version = 2

    /// Version 1. Values stored exactly as given; `state` is checked by SQLite too.
    static let v1 = """
        CREATE TABLE IF NOT EXISTS runs (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            trigger_name  TEXT NOT NULL,
            identity      TEXT NOT NULL,
            source        TEXT NOT NULL,
            repository    TEXT,
            delivery_id   TEXT,
            decision      TEXT NOT NULL,
            commit_sha    TEXT,
            clone_url     TEXT,
            event         BLOB NOT NULL,
            state         TEXT NOT NULL CHECK (state IN ('queued','running','finished','failed','interrupted','cancelled')),
            enqueued_at   INTEGER NOT NULL,
            started_at    INTEGER,
            finished_at   INTEGER,
            run_id        TEXT,
            exit_code     INTEGER,
            error         TEXT,
            workspace     TEXT
        );
        CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, id);
        CREATE INDEX IF NOT EXISTS runs_by_trigger ON runs (trigger_name, enqueued_at);
        CREATE INDEX IF NOT EXISTS runs_by_trigger_end ON runs (trigger_name, finished_at);
        CREATE TABLE IF NOT EXISTS deliveries (
            source       TEXT NOT NULL,
            id           TEXT NOT NULL,
            received_at  INTEGER NOT NULL,
            PRIMARY KEY (source, id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS deliveries_by_age ON deliveries (received_at);
        """

    /// Version 2 (from 1): fleets. A fleet trigger's firing is one `fleets` row and one run
    /// per repository (`fleet_id`, `attempt`); a run's denials and workspace changes are kept
    /// for the fleet's aggregate. At most one run per fleet repository is queued or running
    /// at a time, enforced by SQLite itself (`runs_fleet_live`).
    static let v2 = """
        ALTER TABLE runs ADD COLUMN fleet_id TEXT;
        ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE runs ADD COLUMN denials INTEGER;
        ALTER TABLE runs ADD COLUMN changes TEXT;
        CREATE INDEX IF NOT EXISTS runs_by_fleet ON runs (fleet_id, id) WHERE fleet_id IS NOT NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS runs_fleet_live ON runs (fleet_id, repository)
            WHERE fleet_id IS NOT NULL AND state IN ('queued','running');
        CREATE TABLE IF NOT EXISTS fleets (
            id            TEXT PRIMARY KEY,
            trigger_name  TEXT NOT NULL,
            identity      TEXT NOT NULL,
            list_path     TEXT NOT NULL,
            decision      TEXT NOT NULL,
            repositories  INTEGER NOT NULL,
            created_at    INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS fleets_by_trigger ON fleets (trigger_name, created_at);
        """

    /// The columns of `runs` in the order `decodeRun` reads them.
    private static let columnNames = [
        "id", "trigger_name", "identity", "source", "repository", "delivery_id", "decision", "commit_sha", "clone_url",
        "event", "state", "enqueued_at", "started_at", "finished_at", "run_id", "exit_code", "error", "workspace",
        "fleet_id", "attempt", "denials", "changes",
    ]
    static let runColumns = columnNames.joined(separator: ", ")
    /// The same columns with the event document left out (an empty blob in its place).
    static let runColumnsWithoutEvent = columnNames.map { $0 == "event" ? "x'' AS event" : $0 }.joined(separator: ", ")

    /// Reads one row selected with `runColumns` (or `runColumnsWithoutEvent`).
    static func decodeRun(_ row: SQLiteRow) throws(ServeStoreError) -> QueuedRun {
        let id = row.int64(0)
        let stateText = row.text(10)
        guard let state = RunState(rawValue: stateText) else {
            throw .corruptRow(id: id, reason: "unknown state '\(stateText)'")
        }
        var exitCode: Int32?
        if let code = row.optionalInt64(15) {
            guard let c = Int32(exactly: code) else { throw .corruptRow(id: id, reason: "exit code \(code) is out of range") }
            exitCode = c
        }
        return QueuedRun(id: id, trigger: row.text(1), identity: row.text(2), source: row.text(3),
                         repository: row.optionalText(4), deliveryID: row.optionalText(5), decision: row.text(6),
                         commit: row.optionalText(7), cloneURL: row.optionalText(8), eventDocument: row.blob(9),
                         state: state, enqueuedAt: row.int64(11), startedAt: row.optionalInt64(12),
                         finishedAt: row.optionalInt64(13), runID: row.optionalText(14), exitCode: exitCode,
                         error: row.optionalText(16), workspace: row.optionalText(17), fleetID: row.optionalText(18),
                         attempt: Int(clamping: row.int64(19)), denials: row.optionalInt64(20), changes: row.optionalText(21))
    }

    /// Brings a freshly opened connection to a usable store: WAL, full sync, foreign keys,
    /// recognised or created schema. Throws for another program's database or a newer schema.
    static func open(_ db: SQLiteDatabase) throws(ServeStoreError) {
        // Read before anything is written: a file that is not SQLite fails here (SQLITE_NOTADB).
        let found: (app: Int64, version: Int64, tables: Int64, ours: Int64)
        do {
            found = try header(db)
        } catch {
            if case .sqlite(_, let code, _) = error, code & 0xff == 26 {  // SQLITE_NOTADB
                throw .notServeStore(path: db.path, reason: "the file is not an SQLite database")
            }
            if case .sqlite(_, let code, let message) = error, code & 0xff == 11 {  // SQLITE_CORRUPT
                throw .notServeStore(path: db.path, reason: "the file is a damaged SQLite database (\(message))")
            }
            throw error
        }
        try check(found, path: db.path)
        // Objects in the file may not call functions with side effects (hardening against a
        // crafted file); WAL plus synchronous=FULL makes each commit durable at COMMIT.
        try db.executeScript("PRAGMA trusted_schema = OFF")
        // Switching to WAL needs the file to itself; SQLite answers BUSY at once (without
        // its busy handler) while another connection is doing the same, so retry a while.
        var mode = ""
        for attempt in 0..<200 {
            do {
                mode = try db.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) } ?? ""
                break
            } catch {
                guard case .sqlite(_, let code, _) = error, code & 0xff == 5 || code & 0xff == 6, attempt < 199 else { throw error }
                usleep(UInt32(5_000 + attempt * 250))  // SQLITE_BUSY / SQLITE_LOCKED
            }
        }
        guard mode.lowercased() == "wal" else {
            throw .cannotOpen(path: db.path, reason: "SQLite could not use write-ahead logging here (journal mode '\(mode)'); keep the store on a local file system")
        }
        try db.executeScript("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
        guard found.version < Int64(Self.version) else { return }
        try db.transaction { () throws(ServeStoreError) in
            // Another process may have created it meanwhile: check again under the write lock.
            let now = try header(db)
            try check(now, path: db.path)
            if now.version < 1 {
                try db.executeScript(v1)
                try db.executeScript("PRAGMA application_id = \(applicationID); PRAGMA user_version = 1")
            }
            if now.version < 2 {
                // In the same transaction as any step before it: a crash leaves the old
                // version whole, never half a migration.
                try db.executeScript(v2)
                try db.executeScript("PRAGMA user_version = 2")
            }
        }
    }

    /// The application id, schema version and number of schema objects, read in one
    /// statement so they come from one snapshot (a store being created by another
    /// connection is seen either empty or complete, never half made).
    private static func header(_ db: SQLiteDatabase) throws(ServeStoreError) -> (app: Int64, version: Int64, tables: Int64, ours: Int64) {
        try db.queryOne("""
            SELECT (SELECT application_id FROM pragma_application_id()), (SELECT user_version FROM pragma_user_version()),
                   (SELECT count(*) FROM sqlite_master),
                   (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'deliveries', 'fleets'))
            """) { ($0.int64(0), $0.int64(1), $0.int64(2), $0.int64(3)) } ?? (0, 0, 0, 0)
    }

    private static func check(_ h: (app: Int64, version: Int64, tables: Int64, ours: Int64), path: String) throws(ServeStoreError) {
        if h.app != applicationID, h.app != 0 || h.tables > 0 {
            throw .notServeStore(path: path, reason: "it is an SQLite database of another program (application id \(h.app), \(h.tables) schema objects)")
        }
        if h.version > Int64(version) {
            throw .newerSchema(path: path, found: Int(clamping: h.version), supported: version)
        }
        if h.app == applicationID, h.version >= 1, h.ours != (h.version >= 2 ? 3 : 2) {
            throw .notServeStore(path: path, reason: "the store is damaged: its runs, deliveries or fleets table is missing; move the file aside to start an empty store")
        }
    }
}
