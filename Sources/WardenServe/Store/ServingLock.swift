#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<store>.lock`, held while one `warden serve` serves the store, so
/// a second server on the same state never marks the first one's running runs `interrupted`.
/// The lock is on a file of its own (never the database: closing a descriptor of the database
/// would drop SQLite's locks). The kernel releases it when the holder dies; the file holds the
/// holder's pid, for the message a second server prints.
final class ServingLock {
    let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    static func acquire(storePath: String) throws(ServeStoreError) -> ServingLock {
        let path = storePath + ".lock"
        var st = stat()
        if lstat(path, &st) == 0 { try StoreFile.checkExisting(st, path, what: "the store's lock file") }
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: StoreFile.errnoText(errno)) }
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .cannotOpen(path: path, reason: StoreFile.errnoText(e))
        }
        do { try StoreFile.checkExisting(st, path, what: "the store's lock file") } catch {
            close(fd)
            throw error
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            let holder = e == EWOULDBLOCK ? readPID(fd) : nil
            close(fd)
            if e == EWOULDBLOCK { throw .inUse(path: storePath, pid: holder) }
            throw .cannotOpen(path: path, reason: "flock: \(StoreFile.errnoText(e))")
        }
        // Best effort: the pid is only for messages.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return ServingLock(path: path, fd: fd)
    }

    /// The pid written by the holder (nil when absent or not a number).
    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let digits = buffer.prefix(n).prefix { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}
