#if canImport(Glibc)
import Glibc
#endif

/// Checks and creates the store's file before SQLite opens it, so the file Warden trusts is a
/// regular file it owns, that nobody else can write, reached without a symbolic link.
enum StoreFile {
    /// The 16 bytes every SQLite 3 database file starts with.
    static let sqliteHeader = Array("SQLite format 3".utf8) + [0]

    /// The absolute form of `path` after checks; creates missing parent directories (0700)
    /// and the file itself (0600, `O_EXCL`-free `O_CREAT | O_NOFOLLOW`).
    static func prepare(_ path: String) throws(ServeStoreError) -> String {
        guard !path.isEmpty else { throw .invalidArgument("the serve store path is empty") }
        guard !path.utf8.contains(0) else { throw .invalidArgument("the serve store path contains a NUL byte") }
        guard path.utf8.count < Int(PATH_MAX) else { throw .invalidArgument("the serve store path is longer than \(PATH_MAX) bytes") }
        // An absolute path is never read as an SQLite URI (`file:...`).
        let absolute = try makeAbsolute(path)
        let directory = parent(of: absolute)
        try createDirectories(directory, for: absolute)
        try checkDirectory(directory, for: absolute)
        // Refuse what is there before opening it: opening a FIFO or a device has effects.
        var st = stat()
        if lstat(absolute, &st) == 0 {
            try checkExisting(st, absolute, what: "the store file")
        } else if errno != ENOENT {
            throw .cannotOpen(path: absolute, reason: errnoText(errno))
        }
        let fd = open(absolute, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            switch e {
            case ELOOP: throw .unsafeFile(path: absolute, reason: "it is a symbolic link; Warden does not follow links to its state (give the real path)")
            case EISDIR: throw .unsafeFile(path: absolute, reason: "it is a directory; give the path of a file in it, such as \(absolute)/serve.db")
            case EACCES, EPERM, EROFS:
                throw .cannotOpen(path: absolute, reason: "\(errnoText(e)); make the directory writable by the user `warden serve` runs as, or choose another --state directory")
            default: throw .cannotOpen(path: absolute, reason: errnoText(e))
            }
        }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: absolute, reason: errnoText(errno)) }
        try checkExisting(st, absolute, what: "the store file")
        if st.st_size == 0 { _ = fchmod(fd, 0o600) }
        try checkHeader(fd: fd, size: Int64(st.st_size), path: absolute)
        // SQLite's side files are opened by name: they must be ours too when present.
        for suffix in ["-wal", "-shm", "-journal"] {
            if lstat(absolute + suffix, &st) == 0 { try checkExisting(st, absolute + suffix, what: "the store's \(suffix.dropFirst()) file") }
        }
        return absolute
    }

    /// A non-empty file must start with SQLite's header (an empty one is a new store; a new
    /// WAL database may also be empty until its first checkpoint).
    private static func checkHeader(fd: Int32, size: Int64, path: String) throws(ServeStoreError) {
        guard size > 0 else { return }
        var header = [UInt8](repeating: 0, count: sqliteHeader.count)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n == sqliteHeader.count, header == sqliteHeader else {
            throw .notServeStore(path: path, reason: "the file (\(size) bytes) is not an SQLite database")
        }
    }

    /// Refuses anything but a regular file owned by this user (or root) that only its owner can write.
    private static func checkExisting(_ st: stat, _ path: String, what: String) throws(ServeStoreError) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw .unsafeFile(path: path, reason: "\(what) is a symbolic link; Warden does not follow links to its state (give the real path)")
        case S_IFDIR: throw .unsafeFile(path: path, reason: "\(what) is a directory; give the path of a file in it, such as \(path)/serve.db")
        default: throw .unsafeFile(path: path, reason: "\(what) is \(fileType(st.st_mode)), not a regular file")
        }
        let me = geteuid()
        guard st.st_uid == me || st.st_uid == 0 else {
            throw .unsafeFile(path: path, reason: "\(what) belongs to uid \(st.st_uid), not to the user running Warden (uid \(me)); chown it or use another path")
        }
        guard st.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw .unsafeFile(path: path, reason: "\(what) is writable by other users (mode \(String(st.st_mode & 0o777, radix: 8))), who could queue runs; chmod 600 it")
        }
    }

    /// The directory must be writable only by its owner (this user or root): anyone else
    /// who can write it could replace the file or plant SQLite's side files.
    private static func checkDirectory(_ directory: String, for path: String) throws(ServeStoreError) {
        var st = stat()
        guard stat(directory, &st) == 0 else { throw .cannotOpen(path: path, reason: "its directory: \(errnoText(errno))") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw .cannotOpen(path: path, reason: "\(directory) is not a directory")
        }
        let me = geteuid()
        guard st.st_uid == me || st.st_uid == 0 else {
            throw .unsafeFile(path: path, reason: "its directory \(directory) belongs to uid \(st.st_uid), not to the user running Warden (uid \(me)); keep the store in a directory of your own")
        }
        guard st.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw .unsafeFile(path: path, reason: "its directory \(directory) is writable by other users (mode \(String(st.st_mode & 0o7777, radix: 8))); keep the store in a directory only you can write (mode 700)")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw .cannotOpen(path: path, reason: "its directory \(directory) is not writable (\(errnoText(errno))); SQLite needs to create its -wal and -shm files there")
        }
    }

    private static func createDirectories(_ directory: String, for path: String) throws(ServeStoreError) {
        var st = stat()
        if stat(directory, &st) == 0 { return }
        if directory != "/" { try createDirectories(parent(of: directory), for: path) }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw .cannotOpen(path: path, reason: "cannot create directory \(directory): \(errnoText(errno))")
        }
    }

    /// `path` made absolute against `currentDirectory` (the process's when nil).
    static func makeAbsolute(_ path: String, currentDirectory: String? = nil) throws(ServeStoreError) -> String {
        if path.hasPrefix("/") { return path }
        var cwd = currentDirectory ?? ""
        if currentDirectory == nil {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw .cannotOpen(path: path, reason: "the current directory is unknown (\(errnoText(errno))); give an absolute path")
            }
            cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return cwd.hasSuffix("/") ? cwd + path : cwd + "/" + path
    }

    static func parent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        let head = p[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    static func fileType(_ mode: mode_t) -> String {
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

    static func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }
}
