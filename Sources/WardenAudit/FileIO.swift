#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal file helpers over POSIX calls (no Foundation).
public enum FileIO {
    static func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

    /// Opens an audit log, key or checkpoint file without blocking and without following a
    /// symbolic link in the last component, and refuses anything but a regular file (FIFOs,
    /// devices, directories, sockets) before a byte is read. `flags` are added to
    /// `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`; `O_NONBLOCK` is cleared again on success.
    static func openRegular(_ path: String, flags: Int32, mode: mode_t = 0, what: String) throws(AuditError) -> Int32 {
        guard !path.isEmpty else { throw .invalidArgument("the \(what) path is empty") }
        let fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let e = errno
            switch e {
            case ELOOP:
                throw .unsafeFile(path: path, reason: "\(what) is a symbolic link; Warden does not follow links for audit logs, keys and checkpoints (give the real path)")
            case EISDIR:
                throw .unsafeFile(path: path, reason: "\(what) is a directory, not a regular file")
            case ENXIO:
                throw .unsafeFile(path: path, reason: "\(what) is a FIFO or device, not a regular file")
            default:
                throw .io(path: path, operation: "open", message: errnoText(e))
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .io(path: path, operation: "stat", message: errnoText(e))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .unsafeFile(path: path, reason: "\(what) is \(fileType(st.st_mode)), not a regular file")
        }
        let fl = fcntl(fd, F_GETFL)
        if fl >= 0 { _ = fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) }
        return fd
    }

    /// What a file of `mode` is, for messages ("a FIFO", "a directory", ...).
    public static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// Reads a whole small regular file (keys, checkpoints): refused at once when larger than
    /// `limit` bytes or not a regular file.
    static func read(path: String, limit: Int = 1 << 16, what: String) throws(AuditError) -> [UInt8] {
        let fd = try openRegular(path, flags: O_RDONLY, what: what)
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > limit {
            throw .unsafeFile(path: path, reason: "\(what) is \(st.st_size) bytes, more than the \(limit)-byte limit")
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", message: errnoText(errno))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw .unsafeFile(path: path, reason: "\(what) is more than the \(limit)-byte limit")
            }
        }
        return out
    }

    /// Creates a new file with `mode` (fails if it exists) and writes `bytes`, then fsyncs.
    static func createNew(path: String, bytes: [UInt8], mode: mode_t) throws(AuditError) {
        guard !path.isEmpty else { throw .invalidArgument("the output path is empty") }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path: path, operation: "create", message: errnoText(errno)) }
        defer { close(fd) }
        fchmod(fd, mode)
        try writeAll(fd: fd, bytes: bytes, path: path)
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", message: errnoText(errno)) }
    }

    static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(AuditError) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", message: errnoText(errno))
            }
            off += n
        }
    }
}

/// Public entry points for reading small audit inputs (keys, checkpoint lines) safely.
public enum AuditInputFile {
    /// Most bytes a key or checkpoint file may have.
    public static let smallFileLimit = 1 << 16

    /// Reads a checkpoint line file (`verify --trusted-checkpoint`): a regular file, not a
    /// symbolic link, at most `smallFileLimit` bytes; never blocks.
    public static func readCheckpoint(path: String) throws(AuditError) -> [UInt8] {
        try FileIO.read(path: path, limit: smallFileLimit, what: "trusted checkpoint")
    }
}
