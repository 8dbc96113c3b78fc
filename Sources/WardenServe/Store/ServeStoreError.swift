import WardenKernel

/// Why the serve store refused a file, an argument or an operation. Every message says what
/// to do; values that may come from outside (paths, SQLite's messages) are escaped and bounded.
public enum ServeStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path is a symbolic link, a directory, a FIFO or device, or is writable by others.
    case unsafeFile(path: String, reason: String)
    /// The file exists but is not a Warden serve store (not SQLite, or another program's database).
    case notServeStore(path: String, reason: String)
    /// The store was written by a newer Warden, whose schema this one does not know.
    case newerSchema(path: String, found: Int, supported: Int)
    /// The file or its directory cannot be created or opened (permissions, missing parents).
    case cannotOpen(path: String, reason: String)
    /// SQLite reported an error; `message` is `sqlite3_errmsg`.
    case sqlite(operation: String, code: Int32, message: String)
    /// A value given to the store is out of range (empty, too long, unknown).
    case invalidArgument(String)
    /// No run has this id.
    case noSuchRun(Int64)
    /// The run is not in a state the operation applies to.
    case invalidTransition(id: Int64, from: RunState, to: RunState)
    /// The queue holds as many runs as it may; the launch is refused, not dropped silently.
    case queueFull(limit: Int)
    /// A row holds a value this version cannot read (a damaged or hand-edited store).
    case corruptRow(id: Int64, reason: String)
    /// Another `warden serve` (pid when known) holds the store's serving lock.
    case inUse(path: String, pid: Int32?)
    /// The store was closed.
    case closed

    public var description: String {
        func q(_ s: String) -> String { TerminalText.escape(s, maxScalars: 512) }
        switch self {
        case .unsafeFile(let path, let reason):
            return "serve store \(q(path)): \(q(reason))"
        case .notServeStore(let path, let reason):
            return "serve store \(q(path)) is not a Warden serve store: \(q(reason)); give the path of a new file or of a store `warden serve` created"
        case .newerSchema(let path, let found, let supported):
            return "serve store \(q(path)) has schema version \(found), newer than the \(supported) this Warden knows; run the newer Warden, or move the file aside to start an empty store"
        case .cannotOpen(let path, let reason):
            return "cannot open serve store \(q(path)): \(q(reason))"
        case .sqlite(let operation, let code, let message):
            let hint = (code & 0xff) == 5 || (code & 0xff) == 6
                ? " (another process holds the store locked; is a second `warden serve` using it?)" : ""
            return "serve store: \(q(operation)) failed: \(q(message)) (SQLite error \(code))\(hint)"
        case .invalidArgument(let message):
            return "serve store: \(q(message))"
        case .noSuchRun(let id):
            return "serve store: no run has id \(id)"
        case .invalidTransition(let id, let from, let to):
            return "serve store: run \(id) is \(from.rawValue) and cannot become \(to.rawValue)"
        case .queueFull(let limit):
            return "serve store: the run queue is full (\(limit) queued runs); the launch is refused until workers catch up"
        case .corruptRow(let id, let reason):
            return "serve store: run \(id) cannot be read: \(q(reason)); the file was damaged or edited by hand"
        case .inUse(let path, let pid):
            let who = pid.map { "another `warden serve` (pid \($0))" } ?? "another `warden serve`"
            return "serve store \(q(path)) is in use by \(who); stop it first, or give this server a state directory of its own"
        case .closed:
            return "serve store: the store is closed"
        }
    }
}
