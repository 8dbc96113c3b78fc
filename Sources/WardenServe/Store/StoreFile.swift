import WardenAudit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Checks and creates the store's file before SQLite opens it, so the file Warden trusts is a
/// regular file it owns, that nobody else can write, reached without a symbolic link.
///
/// An existing file is checked with `lstat` only, never opened here: closing any descriptor
/// of a database file drops every POSIX lock this process holds on it, including those of a
/// live SQLite connection (SQLite's "posix advisory locks cancelled by close" hazard). Only a
/// file created here (`O_EXCL`) is opened, under a process-wide lock, before any connection
/// can have it open. Whether its contents are SQLite is for SQLite to say (SQLITE_NOTADB).
enum StoreFile {
    /// Serializes creation within this process (see above).
    private static let creation = Mutex(())

    /// The absolute form of `path` after checks; creates missing parent directories (0700)
    /// and the file itself (0600, `O_CREAT | O_EXCL | O_NOFOLLOW`) when absent.
    static func prepare(_ path: String) throws(ServeStoreError) -> String {
        guard !path.isEmpty else { throw .invalidArgument("the serve store path is empty") }
        guard !path.utf8.contains(0) else { throw .invalidArgument("the serve store path contains a NUL byte") }
        guard path.utf8.count < Int(PATH_MAX) else { throw .invalidArgument("the serve store path is longer than \(PATH_MAX) bytes") }
        // An absolute path is never read as an SQLite URI (`file:...`).
        let absolute = try makeAbsolute(path)
        let directory = parent(of: absolute)
        try creation.withLock { (_) throws(ServeStoreError) in
            try checkNoLinkedDirectories(absolute)
            try createDirectories(directory, for: absolute)
            try checkDirectory(directory, for: absolute)
            try createOrCheck(absolute)
        }
        // SQLite's side files are opened by name: they must be ours too when present.
        var st = stat()
        for suffix in ["-wal", "-shm", "-journal"] {
            if lstat(absolute + suffix, &st) == 0 { try checkExisting(st, absolute + suffix, what: "the store's \(suffix.dropFirst()) file") }
        }
        return absolute
    }

    /// Creates the file when absent; otherwise checks what is there without opening it
    /// (opening a FIFO or a device has effects, and see the type's comment on locks).
    private static func createOrCheck(_ path: String) throws(ServeStoreError) {
        var st = stat()
        if lstat(path, &st) == 0 { return try checkExisting(st, path, what: "the store file") }
        guard errno == ENOENT else { throw .cannotOpen(path: path, reason: errnoText(errno)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            switch e {
            case EEXIST:
                // Another process made it meanwhile: check it like any existing file.
                guard lstat(path, &st) == 0 else { throw .cannotOpen(path: path, reason: errnoText(errno)) }
                return try checkExisting(st, path, what: "the store file")
            case EACCES, EPERM, EROFS:
                throw .cannotOpen(path: path, reason: "\(errnoText(e)); make the directory writable by the user `warden serve` runs as, or choose another state directory")
            default:
                throw .cannotOpen(path: path, reason: errnoText(e))
            }
        }
        // Exactly 0600 whatever the umask (a umask of 0277 would leave it unwritable).
        _ = fchmod(fd, 0o600)
        close(fd)
        // The new name must survive power loss too: sync the directory that holds it.
        syncDirectory(parent(of: path))
    }

    /// fsync of a directory (best effort: some file systems refuse it and need none).
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// SQLite (opened with SQLITE_OPEN_NOFOLLOW) refuses a path with a symbolic link in any
    /// component, with only "unable to open database file": say which one, and the real path.
    private static func checkNoLinkedDirectories(_ path: String) throws(ServeStoreError) {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            var st = stat()
            guard lstat(prefix, &st) == 0 else { return }  // missing from here on: created as directories
            guard (st.st_mode & S_IFMT) == S_IFLNK else { continue }
            var real = ""
            if let resolved = realpath(path, nil) {
                real = "; its real path is " + String(cString: resolved)
                free(resolved)
            } else if let resolved = realpath(parent(of: path), nil) {
                real = "; its directory's real path is " + String(cString: resolved)
                free(resolved)
            }
            throw .unsafeFile(path: path, reason: "\(prefix) is a symbolic link; Warden opens its state only by its real path\(real)")
        }
    }

    /// Refuses anything but a regular file owned by this user (or root) that only its owner can write.
    static func checkExisting(_ st: stat, _ path: String, what: String) throws(ServeStoreError) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw .unsafeFile(path: path, reason: "\(what) is a symbolic link; Warden does not follow links to its state (give the real path)")
        case S_IFDIR: throw .unsafeFile(path: path, reason: "\(what) is a directory; give the path of a file in it, such as \(path)/serve.db")
        default: throw .unsafeFile(path: path, reason: "\(what) is \(FileIO.fileType(st.st_mode)), not a regular file")
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
        syncDirectory(parent(of: directory))
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

    static func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }
}
