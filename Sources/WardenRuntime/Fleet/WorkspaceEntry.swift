#if canImport(Glibc)
import Glibc
#endif

/// Reads one entry of a workspace by its relative path without following a link anywhere on
/// the way: each directory is opened with `openat(O_NOFOLLOW | O_DIRECTORY)` from the one
/// before, and the entry itself with `O_NOFOLLOW` (a link is read as a link). For use after
/// the run, when no agent process is left to move things.
public enum WorkspaceEntry {
    public enum Content: Equatable, Sendable {
        /// A regular file's bytes and whether its owner may execute it.
        case file([UInt8], executable: Bool)
        /// A symbolic link's target, as bytes.
        case symlink([UInt8])
        /// Not read: why (a device, a socket, larger than the limit, unreadable, gone).
        case skipped(String)
    }

    /// The entry at `path` (bytes, `/`-separated, relative) under the directory `root`;
    /// a regular file larger than `limit` bytes is skipped.
    public static func read(root: String, path: [UInt8], limit: Int) -> Content {
        let parts = path.split(separator: 0x2F, omittingEmptySubsequences: false).map { Array($0) + [0] }
        guard !parts.isEmpty, parts.allSatisfy({ $0.count > 1 && $0 != [0x2E, 0] && $0 != [0x2E, 0x2E, 0] }) else { return .skipped("not a relative path") }
        var dirFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dirFD >= 0 else { return .skipped("the workspace cannot be opened") }
        defer { close(dirFD) }
        for part in parts.dropLast() {
            let next = TreeRemoval.openDirectory(dirFD, part)
            guard next >= 0 else { return .skipped("a directory on its path is gone or is not a directory") }
            close(dirFD)
            dirFD = next
        }
        let name = parts[parts.count - 1]
        var st = stat()
        guard TreeRemoval.withCName(name, { fstatat(dirFD, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return .skipped("gone") }
        switch st.st_mode & S_IFMT {
        case S_IFLNK:
            var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = TreeRemoval.withCName(name) { c in target.withUnsafeMutableBufferPointer { readlinkat(dirFD, c, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) } }
            guard n >= 0, n <= Int(PATH_MAX) else { return .skipped("the link cannot be read") }
            return .symlink(Array(target[0..<n]))
        case S_IFREG:
            guard st.st_size <= limit else { return .skipped("\(st.st_size) bytes, more than the \(limit)-byte limit") }
            let fd = TreeRemoval.withCName(name) { openat(dirFD, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
            guard fd >= 0 else { return .skipped("it cannot be opened: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var opened = stat()
            guard fstat(fd, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG, opened.st_size <= limit else { return .skipped("it changed while read") }
            var bytes = [UInt8](repeating: 0, count: Int(opened.st_size))
            var got = 0
            while got < bytes.count {
                let r = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
                if r < 0, errno == EINTR { continue }
                guard r > 0 else { return .skipped("it cannot be read") }
                got += r
            }
            return .file(bytes, executable: opened.st_mode & 0o100 != 0)
        case S_IFIFO: return .skipped("a FIFO")
        case S_IFSOCK: return .skipped("a socket")
        case S_IFCHR, S_IFBLK: return .skipped("a device")
        default: return .skipped("not a file or a link")
        }
    }
}
