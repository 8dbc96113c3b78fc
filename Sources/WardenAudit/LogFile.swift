#if canImport(Glibc)
import Glibc
#endif

/// POSIX operations on the open log file.
struct LogFile {
    let fd: Int32
    let path: String

    /// Opens (creating with mode 0600) for appending and reading.
    static func open(path: String) throws(AuditError) -> LogFile {
        let fd = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, operation: "open", message: FileIO.errnoText(errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            _ = Glibc.close(fd)
            throw .io(path: path, operation: "stat", message: FileIO.errnoText(e))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            _ = Glibc.close(fd)
            throw .io(path: path, operation: "open", message: "not a regular file")
        }
        return LogFile(fd: fd, path: path)
    }

    func lock() throws(AuditError) {
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw .io(path: path, operation: "flock", message: FileIO.errnoText(errno))
        }
    }

    func unlock() { _ = flock(fd, LOCK_UN) }

    func size() throws(AuditError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "stat", message: FileIO.errnoText(errno)) }
        return Int64(st.st_size)
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at end of file).
    func read(offset: Int64, count: Int) throws(AuditError) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(offset) + off_t(got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", message: FileIO.errnoText(errno))
            }
            if n == 0 { break }
            got += n
        }
        buf.removeLast(count - got)
        return buf
    }

    func append(_ bytes: [UInt8]) throws(AuditError) {
        try FileIO.writeAll(fd: fd, bytes: bytes, path: path)
    }

    func sync() throws(AuditError) {
        guard fdatasync(fd) == 0 else { throw .io(path: path, operation: "fsync", message: FileIO.errnoText(errno)) }
    }

    /// Fails when the file was removed while open (appends would reach no log).
    func checkLinked() throws(AuditError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "stat", message: FileIO.errnoText(errno)) }
        guard st.st_nlink > 0 else { throw .io(path: path, operation: "write", message: "the log file was removed") }
    }

    /// Cuts the file back to `size` (undoing a failed append); best effort.
    func truncate(to size: Int64) { _ = ftruncate(fd, off_t(size)) }

    func close() { _ = Glibc.close(fd) }
}
