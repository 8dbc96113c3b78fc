/// Errors from writing, reading or configuring the audit log.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on `path` failed.
    case io(path: String, operation: String, message: String)
    /// A key file is malformed.
    case badKey(path: String, reason: String)
    /// An argument (kind, run id, field, path) is not acceptable.
    case invalidArgument(String)
    /// The existing log is damaged where a writer checks it: its end holds bytes that are not
    /// a torn write, or a last record that does not verify; or its first record is not the
    /// start of a log. Writers refuse to append (tampering is never recovered past).
    case damagedLog(path: String, reason: String)
    /// The file exists, is not empty, and does not start with a Warden audit record.
    case notAuditLog(path: String)
    /// An audit log, key or checkpoint that is not a regular file, is a symbolic link, or is
    /// larger than its limit; refused before reading.
    case unsafeFile(path: String, reason: String)
    /// The wall clock is outside what a record can hold (years 0001–9999).
    case clock(String)
    /// A checkpoint could not be made.
    case checkpoint(String)

    public var description: String {
        switch self {
        case .io(let path, let op, let msg): return "audit log: \(op) \(path): \(msg)"
        case .badKey(let path, let reason): return "key file \(path): \(reason)"
        case .invalidArgument(let why): return "audit: \(why)"
        case .damagedLog(let path, let reason):
            return "audit log \(path): refusing to append: \(reason); run `warden audit verify \(path)`"
        case .notAuditLog(let path):
            return "\(path) is not a Warden audit log (its first line is not an audit record); refusing to write to it"
        case .unsafeFile(let path, let reason): return "\(path): \(reason)"
        case .clock(let why): return "audit clock: \(why)"
        case .checkpoint(let why): return "audit checkpoint: \(why)"
        }
    }
}
