#if canImport(Glibc)
import Glibc
#endif

/// POSIX operations on the open log file.
struct LogFile {
    let fd: Int32
    let path: String

    /// Opens (creating with mode 0600) for appending and reading: never through a symbolic
    /// link, never blocking, regular files only (`FileIO.openRegular`).
    static func open(path: String) throws(AuditError) -> LogFile {
        let fd = try FileIO.openRegular(path, flags: O_RDWR | O_APPEND | O_CREAT, mode: 0o600, what: "audit log")
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

    // Open-file-description record locks (Linux): a live run holds one on the first byte of
    // its `run.start` line, so a later writer can tell a run that is still going from one
    // whose writer died. The kernel drops them when the descriptor closes (process death).
    private static let getOFDLock: Int32 = 36  // F_OFD_GETLK
    private static let setOFDLock: Int32 = 37  // F_OFD_SETLK

    /// Marks the run whose `run.start` begins at `offset` as alive (best effort).
    func holdRunLock(at offset: Int64) {
        var fl = Glibc.flock()
        fl.l_type = Int16(F_WRLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = off_t(offset)
        fl.l_len = 1
        _ = fcntl(fd, Self.setOFDLock, &fl)
    }

    /// True when another open file description holds the run lock at `offset`.
    func runLockIsHeld(at offset: Int64) -> Bool {
        var fl = Glibc.flock()
        fl.l_type = Int16(F_WRLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = off_t(offset)
        fl.l_len = 1
        guard fcntl(fd, Self.getOFDLock, &fl) == 0 else { return true }  // unknown: assume alive
        return fl.l_type != Int16(F_UNLCK)
    }
}
