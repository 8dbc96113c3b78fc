import WardenKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file only the operator may have written (the teams file, the GitHub token file): a
/// regular file, not a symbolic link, owned by the server's user or root, that no group or
/// other user can write (`secret`: nor read), at most `limit` bytes. The checks are made on
/// the opened descriptor, so the path cannot be swapped between the check and the read.
public enum OperatorFile {
    /// What identifies one version of the file: a change of any of these is an edit.
    public struct Stamp: Sendable, Hashable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: Int64, modifiedNanos: Int64, changed: Int64, changedNanos: Int64

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            modified = Int64(st.st_mtim.tv_sec)
            modifiedNanos = Int64(st.st_mtim.tv_nsec)
            changed = Int64(st.st_ctim.tv_sec)
            changedNanos = Int64(st.st_ctim.tv_nsec)
        }
    }

    /// The file's bytes and stamp; `what` names the file in errors (`--teams /etc/x`).
    public static func read(_ path: String, what: String, limit: Int, secret: Bool) throws(OperatorFileError) -> (bytes: [UInt8], stamp: Stamp) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP { throw OperatorFileError(what, "is a symbolic link; name the file itself") }
            throw OperatorFileError(what, String(cString: strerror(e)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw OperatorFileError(what, "fstat: \(String(cString: strerror(errno)))") }
        try check(st, what: what, limit: limit, secret: secret)
        do {
            return (try BoundedFileReader.readAll(fd, limit: limit, expected: Int(st.st_size)), Stamp(st))
        } catch {
            throw OperatorFileError(what, error.reason)
        }
    }

    /// The file's stamp as it is now (nil: it cannot be looked at; reading it will say why).
    public static func stamp(_ path: String) -> Stamp? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Stamp(st)
    }

    static func check(_ st: stat, what: String, limit: Int, secret: Bool) throws(OperatorFileError) {
        if let kind = BoundedFileReader.nonRegularKind(st.st_mode) { throw OperatorFileError(what, "\(kind), not a regular file") }
        let me = geteuid()
        guard st.st_uid == me || st.st_uid == 0 else {
            throw OperatorFileError(what, "belongs to uid \(st.st_uid), not to the server's user (uid \(me)) or root; chown it")
        }
        if secret {
            guard st.st_mode & 0o077 == 0 else {
                throw OperatorFileError(what, "mode \(String(st.st_mode & 0o777, radix: 8)) lets other users read or write it; chmod 600 it")
            }
        } else {
            guard st.st_mode & 0o022 == 0 else {
                throw OperatorFileError(what, "mode \(String(st.st_mode & 0o777, radix: 8)) lets other users write it; chmod go-w it")
            }
        }
        guard Int(st.st_size) <= limit else {
            throw OperatorFileError(what, "is larger than \(BoundedFileReader.describe(bytes: limit))")
        }
    }
}

/// Why an operator's file was refused: the file (as the option names it) and the reason.
public struct OperatorFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var what: String
    public var reason: String

    public init(_ what: String, _ reason: String) {
        self.what = what
        self.reason = reason
    }

    public var description: String { "\(what): \(reason)" }
}
