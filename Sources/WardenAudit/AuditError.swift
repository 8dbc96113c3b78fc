/// Errors from writing, reading or configuring the audit log.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on `path` failed.
    case io(path: String, operation: String, message: String)
    /// A key file is malformed.
    case badKey(path: String, reason: String)
    /// An argument (kind, run id, field) is not acceptable.
    case invalidArgument(String)
    /// The existing log's tail cannot be chained to (it is not a record and not a torn write).
    case corruptTail(path: String, reason: String)
    /// A checkpoint could not be made.
    case checkpoint(String)

    public var description: String {
        switch self {
        case .io(let path, let op, let msg): return "audit log: \(op) \(path): \(msg)"
        case .badKey(let path, let reason): return "key file \(path): \(reason)"
        case .invalidArgument(let why): return "audit: \(why)"
        case .corruptTail(let path, let reason):
            return "audit log \(path): cannot append: \(reason); run `warden audit verify \(path)`"
        case .checkpoint(let why): return "audit checkpoint: \(why)"
        }
    }
}
