import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// Kernel audit is one switch for the whole host, and runs that observe the filesystem
/// overlap: the switch is shared through file locks in `/run/warden` (root's), so the first
/// run that needs it switches it on and the LAST one to finish switches it off, and a run
/// never turns it off under another.
///
/// - `kernel-audit.lock`: held exclusively while a run joins or leaves (one at a time).
/// - `kernel-audit.hold`: each run holding audit keeps a shared lock on it for its
///   duration; the kernel drops the lock of a run that dies, so a crash leaks nothing.
/// - `kernel-audit.switched`: present while audit is on because Warden switched it on
///   (kept across a crash, so the next last run still switches it off).
final class KernelAuditHold: Sendable {
    static let directory = "/run/warden"
    private let hold: Int32

    private init(hold: Int32) { self.hold = hold }

    /// Joins the runs holding kernel audit: switches it on first when `enable` and it is
    /// off. Returns the hold (nil when audit stays off, or the lock files cannot be used:
    /// then `fallback` tells whether the caller should switch the audit alone, as before)
    /// and whether this call switched it on.
    static func acquire(enable: Bool) -> (hold: KernelAuditHold?, switched: Bool, lockFailed: Bool) {
        guard let mutex = openLockFile("kernel-audit.lock") else { return (nil, false, true) }
        defer { close(mutex) }
        guard flockRetrying(mutex, LOCK_EX) else { return (nil, false, true) }
        guard let hold = openLockFile("kernel-audit.hold") else { return (nil, false, true) }
        let alone = flock(hold, LOCK_EX | LOCK_NB) == 0
        var state = KernelAuditState.current()
        if alone, state == .disabled { unlink(path("kernel-audit.switched")) }
        var switched = false
        if state == .disabled, enable, warden_kaudit_set_enabled(1) == 0 {
            state = .enabled
            switched = true
            let flag = open(path("kernel-audit.switched"), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if flag >= 0 { close(flag) }
        }
        guard state == .enabled, flockRetrying(hold, LOCK_SH) else {
            close(hold)
            return (nil, switched, false)
        }
        return (KernelAuditHold(hold: hold), switched, false)
    }

    /// Leaves: when no other run holds audit and Warden switched it on, switches it off.
    /// Returns whether it switched audit off.
    @discardableResult
    func release() -> Bool {
        defer { close(hold) }
        guard let mutex = Self.openLockFile("kernel-audit.lock") else { return false }
        defer { close(mutex) }
        guard Self.flockRetrying(mutex, LOCK_EX) else { return false }
        // Others holding it keep their shared locks: then the exclusive one is refused.
        guard flock(hold, LOCK_EX | LOCK_NB) == 0 else { return false }
        guard access(Self.path("kernel-audit.switched"), F_OK) == 0 else { return false }
        _ = warden_kaudit_set_enabled(0)
        unlink(Self.path("kernel-audit.switched"))
        return true
    }

    /// Whether some run other than the caller holds kernel audit now (for tests and doctor).
    static func othersHold() -> Bool {
        guard let fd = openLockFile("kernel-audit.hold") else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return false }
        return errno == EWOULDBLOCK
    }

    static func path(_ name: String) -> String { directory + "/" + name }

    /// Opens (creating) a lock file in the root-only directory; nil on any surprise (the
    /// directory is not root's own 0700 directory, the file is a link).
    static func openLockFile(_ name: String) -> Int32? {
        if mkdir(directory, 0o700) != 0, errno != EEXIST { return nil }
        var st = stat()
        guard lstat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == 0, st.st_mode & 0o022 == 0 else { return nil }
        let fd = open(path(name), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        return fd >= 0 ? fd : nil
    }

    /// Takes the lock, waiting at most 2 s: an agent whose world happens to include
    /// `/run/warden` could hold a lock forever, and no launch may hang on it (the caller
    /// then does without the shared switch, or leaves audit on).
    static func flockRetrying(_ fd: Int32, _ op: Int32) -> Bool {
        for _ in 0..<200 {
            if flock(fd, op | LOCK_NB) == 0 { return true }
            if errno != EWOULDBLOCK && errno != EINTR { return false }
            usleep(10_000)
        }
        return false
    }
}
