#if canImport(Glibc)
import Glibc
#endif

/// Runs that share a workspace. Each run holds a shared lock on a file named after the
/// workspace's device and inode for its whole duration; a run removes its placeholders only
/// when it can take the lock exclusively, that is when no other run is using the workspace.
/// (Removing a path that is a mount point in another run's namespace would detach that
/// run's read-only mount, and the other run would lose the protection it holds.)
public final class WorkspaceLock: Sendable {
    private let fd: Int32

    /// The shared lock for `workspace`, or nil when it cannot be had (then placeholders are
    /// left in place, empty, rather than risk another run's protections).
    public init?(workspace: String, directory: String = "/tmp") {
        var st = stat()
        guard stat(workspace, &st) == 0, let locks = Self.lockDirectory(in: directory) else { return nil }
        let path = "\(locks)/\(st.st_dev)-\(st.st_ino).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { return nil }
        var own = stat()
        // A file someone else planted under that name is not ours to trust.
        guard fstat(fd, &own) == 0, own.st_mode & S_IFMT == S_IFREG, own.st_uid == geteuid(),
              flock(fd, LOCK_SH) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    /// `<directory>/warden-locks-<uid>`, mode 0700, this user's: another user can neither
    /// plant a lock file there nor hold one (which would keep every placeholder in place).
    static func lockDirectory(in directory: String) -> String? {
        // Root keeps its locks under /run, where no other user can create anything.
        let path = geteuid() == 0 && access("/run", W_OK) == 0 ? "/run/warden-locks" : "\(directory)/warden-locks-\(geteuid())"
        if mkdir(path, 0o700) != 0 && errno != EEXIST { return nil }
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else { return nil }
        return path
    }

    /// Whether this run is the only one in the workspace now (the lock becomes exclusive).
    public func isAlone() -> Bool { flock(fd, LOCK_EX | LOCK_NB) == 0 }

    deinit { close(fd) }
}
