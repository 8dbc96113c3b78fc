import CSQLite
import Foundation
import Synchronization
@testable import WardenServe

/// A private temporary directory (mode 0700), removed with everything in it when dropped.
final class StoreTempDir: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/warden-serve-store-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A path in the directory.
    func file(_ name: String = "serve.db") -> String { path + "/" + name }

    deinit {
        // Restore modes a test may have removed so the tree can be deleted.
        _ = chmod(path, 0o700)
        if let items = try? FileManager.default.subpathsOfDirectory(atPath: path) {
            for item in items { _ = chmod(path + "/" + item, 0o700) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A run as the server would queue it; `n` varies the event document.
func sampleRun(_ n: Int = 0, trigger: String = "review", identity: String = "reviewer", source: String = "github",
               repository: String? = "acme/app", at: Int64 = 1_000_000) -> NewRun {
    NewRun(trigger: trigger, identity: identity, source: source, repository: repository, deliveryID: "delivery-\(n)",
           decision: "run-\(n)", commit: "0123456789abcdef0123456789abcdef01234567", cloneURL: "https://github.com/acme/app.git",
           eventDocument: Array("{\"n\":\(n)}".utf8), enqueuedAt: at + Int64(n))
}

/// Runs `body(i)` for i in 0..<count, each on a thread of its own, and waits for all.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread.detachNewThread {
            body(i)
            group.leave()
        }
    }
    group.wait()
}

/// A raw SQLite connection for tests that play another program (or a crashed process).
final class RawSQLite {
    let handle: OpaquePointer

    init(_ path: String) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
        precondition(rc == SQLITE_OK && db != nil, "sqlite3_open_v2 \(path): \(rc)")
        handle = db!
    }

    /// Runs constant SQL; returns SQLite's result code.
    @discardableResult
    func exec(_ sql: String) -> Int32 { sqlite3_exec(handle, sql, nil, nil, nil) }

    /// The first column of the first row, as an integer.
    func integer(_ sql: String) -> Int64? {
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &s, nil) == SQLITE_OK else { return nil }
        defer { sqlite3_finalize(s) }
        return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : nil
    }

    deinit { sqlite3_close_v2(handle) }
}

/// The size of a file in bytes (nil when absent).
func fileSize(_ path: String) -> Int64? {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : nil
}

/// Whether an executable is on PATH (for tests that use a tool when it is installed).
func findTool(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}
