#if canImport(Glibc)
import Glibc
#endif

/// File-system reads relative to directory descriptors that never follow a symbolic link and
/// never block on a special file: what a root process needs to look at a tree an agent wrote.
///
/// Names are raw bytes (a Linux file name is any bytes but `/` and NUL). Every call takes a
/// directory descriptor and one name, so a component the agent swaps for a link is refused
/// (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`) instead of resolved.
enum NoFollowFiles {
    /// O_PATH (not exported by Glibc's Swift overlay); the same value on every Linux ABI Warden supports.
    static let oPath: Int32 = 0o10000000

    /// One directory entry: its name and the kind `getdents` reported (`DT_UNKNOWN` possible).
    struct Entry {
        var name: [UInt8]
        var type: UInt8
    }

    /// The type and permission bits of an entry, from `fstatat(AT_SYMLINK_NOFOLLOW)`.
    struct Status {
        var mode: UInt32
        var size: Int64
        var inode: UInt64
        var device: UInt64
        var changeTime: Int64
        var changeTimeNanoseconds: Int64
        /// Hard links to the inode.
        var links: UInt64

        var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
        var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
        var permissions: UInt32 { mode & 0o7777 }

        init(_ st: stat) {
            mode = UInt32(st.st_mode)
            size = Int64(st.st_size)
            inode = UInt64(st.st_ino)
            device = UInt64(st.st_dev)
            changeTime = Int64(st.st_ctim.tv_sec)
            changeTimeNanoseconds = Int64(st.st_ctim.tv_nsec)
            links = UInt64(st.st_nlink)
        }
    }

    /// Runs `body` with `name` as a NUL-terminated C string.
    static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        var bytes = name.map { CChar(bitPattern: $0) }
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Opens the directory `name` in `dir` without following a link; -1 with errno set.
    static func openDirectory(_ dir: Int32, _ name: [UInt8]) -> Int32 {
        withCName(name) { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// Opens an absolute path one component at a time, refusing a link at any component
    /// (the path is the operator's, but a directory on the way may be writable by the agent).
    static func openDirectoryPath(_ path: [UInt8]) -> Int32 {
        var fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        for component in path.split(separator: UInt8(ascii: "/")) where component != [UInt8(ascii: ".")] {
            let next = openDirectory(fd, Array(component))
            let saved = errno
            close(fd)
            guard next >= 0 else { errno = saved; return -1 }
            fd = next
        }
        return fd
    }

    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`; nil with errno set.
    static func status(_ dir: Int32, _ name: [UInt8]) -> Status? {
        var st = stat()
        let rc = withCName(name) { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? Status(st) : nil
    }

    /// `fstat(fd)`; nil with errno set.
    static func status(of fd: Int32) -> Status? {
        var st = stat()
        return fstat(fd, &st) == 0 ? Status(st) : nil
    }

    /// The names in the directory `fd` (not `.` or `..`), sorted bytewise, at most `limit`;
    /// `truncated` when more were there. nil with errno set when it cannot be read.
    static func entries(_ fd: Int32, limit: Int) -> (entries: [Entry], truncated: Bool)? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        guard let dir = fdopendir(copy) else { close(copy); return nil }
        defer { closedir(dir) }
        var result: [Entry] = []
        var truncated = false
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            if result.count >= limit { truncated = true; break }
            result.append(Entry(name: name, type: entry.pointee.d_type))
        }
        result.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return (result, truncated)
    }

    /// The target of the link `name` in `dir` (at most `PATH_MAX` bytes); nil with errno set.
    static func linkTarget(_ dir: Int32, _ name: [UInt8]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = withCName(name) { cname in
            buffer.withUnsafeMutableBufferPointer { readlinkat(dir, cname, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard count >= 0 else { return nil }
        return Array(buffer.prefix(count))
    }

    /// What reading a regular file gave.
    enum FileRead {
        /// The whole content.
        case content([UInt8])
        /// Larger than the limit: not read.
        case tooLarge(Status)
        /// Not a regular file after all (swapped since it was listed): not read.
        case notRegular(Status)
    }

    /// Reads the regular file `name` in `dir` if it holds at most `limit` bytes. The open
    /// refuses links and does not block on a FIFO (`O_NONBLOCK`); the type is checked on the
    /// open descriptor. nil with errno set when it cannot be opened or read.
    static func readFile(_ dir: Int32, _ name: [UInt8], limit: Int) -> FileRead? {
        let fd = withCName(name) { openat(dir, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let st = status(of: fd) else { return nil }
        guard st.isRegular else { return .notRegular(st) }
        guard st.size <= Int64(limit) else { return .tooLarge(st) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while content.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            content.append(contentsOf: chunk.prefix(n))
        }
        // Grown past the limit while being read: treat as too large.
        return content.count > limit ? .tooLarge(st) : .content(content)
    }
}
