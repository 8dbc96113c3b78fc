import CSQLite

/// A thin, safe wrapper over one SQLite connection. Values reach SQL only as bound parameters;
/// statements are prepared once and cached; errors carry `sqlite3_errmsg`. Not thread-safe by
/// itself: its owner (`ServeStore`) uses it under a lock (the connection is also opened with
/// SQLITE_OPEN_FULLMUTEX, as a second line).
///
/// The file must already exist and have been checked (`StoreFile.prepare`): the connection
/// never creates it (so its mode is the one Warden chose) and never follows a symbolic link.
final class SQLiteDatabase {
    let path: String
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    /// Milliseconds a statement waits for another connection's lock before failing.
    static let busyTimeoutMilliseconds: Int32 = 10_000

    init(path: String) throws(ServeStoreError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw .cannotOpen(path: path, reason: "\(message) (SQLite error \(rc)); the user running Warden must be able to read and write the file and create files in its directory")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Self.busyTimeoutMilliseconds)
    }

    deinit {
        for (_, s) in statements { sqlite3_finalize(s) }
        sqlite3_close_v2(handle)
    }

    /// The connection's last error as a typed error.
    func error(_ operation: String, _ code: Int32) -> ServeStoreError {
        .sqlite(operation: operation, code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs constant SQL (schema, pragmas) that takes no parameters and returns no rows.
    func executeScript(_ sql: String) throws(ServeStoreError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error("executing \(sql.prefix(60))", rc) }
    }

    /// Runs one statement with `parameters`; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLiteValue] = []) throws(ServeStoreError) -> Int {
        try withStatement(sql, parameters) { (s) throws(ServeStoreError) in
            while try step(s, sql) {}
        }
        return Int(sqlite3_changes64(handle))
    }

    /// Runs a query and decodes each row; `decode` returns nil to stop early.
    func query<T>(_ sql: String, _ parameters: [SQLiteValue] = [],
                  _ decode: (SQLiteRow) throws(ServeStoreError) -> T?) throws(ServeStoreError) -> [T] {
        try withStatement(sql, parameters) { (s) throws(ServeStoreError) -> [T] in
            var out: [T] = []
            while try step(s, sql) {
                guard let value = try decode(SQLiteRow(handle: s)) else { break }
                out.append(value)
            }
            return out
        }
    }

    /// The first row's decoding, or nil when the query returns no rows.
    func queryOne<T>(_ sql: String, _ parameters: [SQLiteValue] = [],
                     _ decode: (SQLiteRow) throws(ServeStoreError) -> T) throws(ServeStoreError) -> T? {
        var first: T?
        _ = try query(sql, parameters) { (row) throws(ServeStoreError) -> Bool? in
            first = try decode(row)
            return nil
        }
        return first
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken at once, so two
    /// writers never both read and then fail to upgrade); commits when it returns, rolls back
    /// when it throws or the commit fails.
    func transaction<T>(_ body: () throws(ServeStoreError) -> T) throws(ServeStoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        let value: T
        do {
            value = try body()
            try execute("COMMIT")
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
        return value
    }

    // MARK: statements

    private func withStatement<T>(_ sql: String, _ parameters: [SQLiteValue],
                                  _ body: (OpaquePointer) throws(ServeStoreError) -> T) throws(ServeStoreError) -> T {
        let s = try prepared(sql)
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        try bind(parameters, to: s, sql)
        return try body(s)
    }

    private func prepared(_ sql: String) throws(ServeStoreError) -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error("preparing \(sql.prefix(60))", rc) }
        statements[sql] = s
        return s
    }

    private func bind(_ parameters: [SQLiteValue], to s: OpaquePointer, _ sql: String) throws(ServeStoreError) {
        guard Int(sqlite3_bind_parameter_count(s)) == parameters.count else {
            throw .invalidArgument("internal: \(parameters.count) values for \(sqlite3_bind_parameter_count(s)) parameters in \(sql.prefix(60))")
        }
        for (i, value) in parameters.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(s, index)
            case .integer(let v):
                rc = sqlite3_bind_int64(s, index, v)
            case .text(let v):
                // A trailing NUL keeps the pointer non-nil for "" (a nil pointer binds NULL);
                // the length given excludes it, so inner NUL bytes are kept as data.
                var bytes = Array(v.utf8)
                let count = bytes.count
                bytes.append(0)
                rc = bytes.withUnsafeBufferPointer { b in
                    b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                        sqlite3_bind_text64(s, index, $0, sqlite3_uint64(count), Self.transient, UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let v):
                if v.isEmpty {
                    rc = sqlite3_bind_zeroblob(s, index, 0)
                } else {
                    rc = v.withUnsafeBytes { sqlite3_bind_blob64(s, index, $0.baseAddress, sqlite3_uint64($0.count), Self.transient) }
                }
            }
            guard rc == SQLITE_OK else { throw error("binding parameter \(index) of \(sql.prefix(60))", rc) }
        }
    }

    /// Steps once: true when a row is ready, false when done.
    private func step(_ s: OpaquePointer, _ sql: String) throws(ServeStoreError) -> Bool {
        let rc = sqlite3_step(s)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw error("running \(sql.prefix(60))", rc)
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the bind call returns.
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
}
