#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why `BoundedFileReader` refused or failed to read a file.
public enum BoundedFileReadError: Error, Sendable, Equatable {
    /// The path does not exist (ENOENT, ENOTDIR).
    case notFound
    /// The path is not a regular file; `kind` says what it is ("a FIFO", "a directory").
    case notRegularFile(kind: String)
    /// The file holds more than `limit` bytes (by its size, or by growing while it was read).
    case tooLarge(limit: Int)
    /// A system call failed.
    case system(call: String, errno: Int32)

    /// A short reason, for messages that already name the file.
    public var reason: String {
        switch self {
        case .notFound: return "no such file"
        case .notRegularFile(let kind): return "is \(kind), not a regular file"
        case .tooLarge(let limit): return "is larger than \(BoundedFileReader.describe(bytes: limit))"
        case .system(let call, let e): return "\(call): \(String(cString: strerror(e)))"
        }
    }
}

/// Reads a whole input file (a policy, a key, a checkpoint) with bounds that hold against
/// a hostile or mistaken path: the open never blocks (a FIFO without a writer, a tty),
/// only regular files are read (devices such as `/dev/zero`, FIFOs, sockets and
/// directories are refused before any byte is read), and at most `limit` bytes are ever
/// held in memory, even when the file grows while it is being read.
public enum BoundedFileReader {
    /// The bytes of the regular file at `path`, at most `limit` of them.
    public static func read(_ path: String, limit: Int) throws(BoundedFileReadError) -> [UInt8] {
        // stat first so that opening a device (with its side effects) is never attempted;
        // the fstat below is what decides (the path may change in between).
        var st = stat()
        if stat(path, &st) == 0, let kind = nonRegularKind(st.st_mode) { throw .notRegularFile(kind: kind) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound }
            throw .system(call: "open", errno: e)
        }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw .system(call: "fstat", errno: errno) }
        if let kind = nonRegularKind(st.st_mode) { throw .notRegularFile(kind: kind) }
        guard Int(st.st_size) <= limit else { throw .tooLarge(limit: limit) }
        return try readAll(fd, limit: limit, expected: Int(st.st_size))
    }

    /// Everything readable from `fd` until end of file, refusing more than `limit` bytes.
    /// Works for pipes and terminals too (standard input), where no size is known.
    public static func readAll(_ fd: Int32, limit: Int, expected: Int = 0) throws(BoundedFileReadError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(max(expected, 0), limit) + 1)
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            // Ask for one byte more than the limit allows, so that growth past it is seen.
            let want = min(chunk, limit + 1 - bytes.count)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(call: "read", errno: errno)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > limit { throw .tooLarge(limit: limit) }
        }
    }

    /// "a FIFO", "a directory"... for anything but a regular file; nil for a regular file.
    public static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "an unknown kind of file"
        }
    }

    /// `16 MiB`, `512 KiB` or `100 bytes`.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
