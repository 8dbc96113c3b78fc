#if canImport(Glibc)
import Glibc
#endif

/// File-system steps on the issuer key directory: every open is relative to the directory's
/// descriptor, never follows a link (`O_NOFOLLOW`), never blocks on a FIFO, and checks on the
/// open descriptor that the file is regular, owned by this user and (for secrets) private.
struct KeyDirectory: ~Copyable {
    let path: String
    let fd: Int32

    static func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

    /// Opens `path` (creating it and missing parents with mode 0700 when `create`). The
    /// directory must be a real directory (not a link), owned by this user, with no access
    /// for group or others: the private keys' names are in it.
    init(path: String, create: Bool) throws(IdentityError) {
        guard path.hasPrefix("/") else { throw .keyFile(path: path, reason: "the key directory must be an absolute path") }
        if create {
            var current = ""
            for component in path.split(separator: "/") {
                current += "/" + component
                if mkdir(current, 0o700) != 0 && errno != EEXIST {
                    throw .io(path: current, operation: "mkdir", message: Self.errnoText(errno))
                }
            }
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { throw .noKey(directory: path) }
            if e == ELOOP || e == ENOTDIR {
                throw .keyFile(path: path, reason: "not a directory (a symbolic link or a file); Warden does not follow links to its keys")
            }
            throw .io(path: path, operation: "open", message: Self.errnoText(e))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); throw .io(path: path, operation: "stat", message: Self.errnoText(e)) }
        guard st.st_uid == geteuid() else {
            close(fd)
            throw .keyFile(path: path, reason: "the key directory is owned by uid \(st.st_uid), not by this user (uid \(geteuid()))")
        }
        guard st.st_mode & 0o077 == 0 else {
            close(fd)
            throw .keyFile(path: path, reason: "the key directory has mode \(String(st.st_mode & 0o7777, radix: 8)); it must not be accessible to group or others (chmod 700)")
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads the regular file `name` (at most `limit` bytes). `secret`: it must be owned by
    /// this user with no group/other access; otherwise it must be owned by this user and
    /// not writable by group or others. nil when it does not exist.
    func read(_ name: String, secret: Bool, limit: Int = 4096) throws(IdentityError) -> [UInt8]? {
        let file = path + "/" + name
        let f = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard f >= 0 else {
            let e = errno
            if e == ENOENT { return nil }
            if e == ELOOP { throw .keyFile(path: file, reason: "is a symbolic link; Warden does not follow links to its keys") }
            throw .io(path: file, operation: "open", message: Self.errnoText(e))
        }
        defer { close(f) }
        var st = stat()
        guard fstat(f, &st) == 0 else { throw .io(path: file, operation: "stat", message: Self.errnoText(errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .keyFile(path: file, reason: "is not a regular file") }
        guard st.st_uid == geteuid() else { throw .keyFile(path: file, reason: "is owned by uid \(st.st_uid), not by this user") }
        if secret, st.st_mode & 0o077 != 0 {
            throw .keyFile(path: file, reason: "has mode \(String(st.st_mode & 0o7777, radix: 8)); a private key must not be accessible to group or others (chmod 600)")
        }
        if !secret, st.st_mode & 0o022 != 0 {
            throw .keyFile(path: file, reason: "is writable by group or others (chmod 644)")
        }
        guard st.st_size <= limit else { throw .keyFile(path: file, reason: "is larger than \(limit) bytes") }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        while out.count <= limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(f, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .io(path: file, operation: "read", message: Self.errnoText(errno)) }
            if n == 0 { break }
            out += buffer.prefix(n)
        }
        guard out.count <= limit else { throw .keyFile(path: file, reason: "is larger than \(limit) bytes") }
        return out
    }

    /// Creates `name` with `bytes` (never replacing a file: `O_EXCL`), flushed to disk.
    func createNew(_ name: String, bytes: [UInt8], mode: mode_t) throws(IdentityError) {
        let file = path + "/" + name
        let f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard f >= 0 else { throw .io(path: file, operation: "create", message: Self.errnoText(errno)) }
        var ok = false
        defer {
            close(f)
            if !ok { unlinkat(fd, name, 0) }
        }
        // The umask may have taken bits away; set exactly `mode`.
        guard fchmod(f, mode) == 0 else { throw .io(path: file, operation: "chmod", message: Self.errnoText(errno)) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(f, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .io(path: file, operation: "write", message: Self.errnoText(errno)) }
            written += n
        }
        guard fsync(f) == 0 else { throw .io(path: file, operation: "fsync", message: Self.errnoText(errno)) }
        ok = true
    }

    /// Writes `bytes` to a fresh temporary file in the directory and moves it to `name`:
    /// replacing an existing file (`rename`) when `replace`, else only when `name` does not
    /// exist yet (`link`, which fails with EEXIST). Readers see the old or the new file.
    /// Returns false (and removes the temporary file) when `name` existed and `replace` is false.
    func publish(_ name: String, bytes: [UInt8], mode: mode_t, replace: Bool) throws(IdentityError) -> Bool {
        let temporary = ".\(name).tmp-\(RunTokenClaims.newTokenID())"
        try createNew(temporary, bytes: bytes, mode: mode)
        defer { unlinkat(fd, temporary, 0) }
        if replace {
            guard renameat(fd, temporary, fd, name) == 0 else {
                throw .io(path: path + "/" + name, operation: "rename", message: Self.errnoText(errno))
            }
        } else if linkat(fd, temporary, fd, name, 0) != 0 {
            if errno == EEXIST { return false }
            throw .io(path: path + "/" + name, operation: "link", message: Self.errnoText(errno))
        }
        _ = fsync(fd)
        return true
    }

    /// Removes `name`; a missing file is fine.
    func remove(_ name: String) throws(IdentityError) {
        if unlinkat(fd, name, 0) != 0 && errno != ENOENT {
            throw .io(path: path + "/" + name, operation: "unlink", message: Self.errnoText(errno))
        }
    }

    /// The names in the directory ending in `suffix`, sorted, at most `limit`.
    func names(endingIn suffix: String, limit: Int = 256) throws(IdentityError) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            throw .io(path: path, operation: "read directory", message: Self.errnoText(errno))
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(suffix), !name.hasPrefix(".") else { continue }
            guard names.count < limit else { throw .keyFile(path: path, reason: "holds more than \(limit) keys; remove retired ones") }
            names.append(name)
        }
        return names.sorted()
    }
}
