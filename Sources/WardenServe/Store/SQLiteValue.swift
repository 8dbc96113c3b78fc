import CSQLite

/// A value bound to a statement parameter. Values only ever reach SQLite as bound parameters,
/// never spliced into SQL text.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    /// UTF-8 text, bound with its exact byte length (NUL bytes included).
    case text(String)
    case blob([UInt8])

    static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    static func integer(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
}

/// One result row of a stepping statement; valid only until the next step or reset.
struct SQLiteRow {
    let handle: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    /// The column's text, byte for byte (NUL bytes kept); "" for NULL.
    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    /// The column's bytes; empty for NULL and for an empty blob.
    func blob(_ column: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: p, count: count))
    }
}

extension SQLiteRow {
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
}
