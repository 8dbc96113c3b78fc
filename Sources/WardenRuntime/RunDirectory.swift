import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The private per-run temporary directories (`${tmp}`, the resolver's resolv.conf).
///
/// Each directory is created by `mkdtemp` as `<base>/warden-<name>-XXXXXX`, marked with mode
/// 01700 (the sticky bit: directories of older Warden versions, which took no lock, and
/// anyone else's `warden-*` directories lack it) and stays `flock`ed by the process that
/// created it until `remove`. A directory of that name, owned by this user, marked, whose
/// lock can be taken, belongs to a Warden that died without cleaning up (e.g. a SIGKILLed
/// supervisor): `removeAbandoned` deletes those.
public enum RunDirectory {
    public static let prefix = "warden-"

    /// The lock descriptors of the directories this process created, by path.
    private static let locks = Mutex<[String: Int32]>([:])

    /// Creates a fresh, locked directory `<base>/warden-<runID>-` plus six random characters.
    public static func create(base: String = "/tmp", runID: String) -> String? {
        for _ in 0..<8 {
            var template = Array("\(base)/\(prefix)\(runID)-XXXXXX".utf8CString)  // mkdtemp's required suffix
            let made: String? = template.withUnsafeMutableBufferPointer { buffer in
                mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
            }
            guard let path = made else { return nil }
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            // Another process's `removeAbandoned` may have taken the directory between
            // mkdtemp and this lock: keep it only if the name still names what we locked.
            var mine = stat(), named = stat()
            if flock(fd, LOCK_EX | LOCK_NB) == 0, fchmod(fd, 0o1700) == 0, fstat(fd, &mine) == 0,
               lstat(path, &named) == 0, mine.st_ino == named.st_ino, mine.st_dev == named.st_dev {
                locks.withLock { $0[path] = fd }
                return path
            }
            close(fd)
        }
        return nil
    }

    /// Removes `path` and everything under it (see `removeTree`), then releases its lock.
    /// Returns false if anything stayed.
    @discardableResult
    public static func remove(_ path: String) -> Bool {
        let removed = TreeRemoval.remove(path: Array(path.utf8))
        if let fd = locks.withLock({ $0.removeValue(forKey: path) }) { close(fd) }
        return removed
    }

    /// True for a NUL-terminated `warden-<16 lowercase hex>-<6 characters>` name, the shape
    /// `create` gives a run's directory (run ids are 16 hex digits, mkdtemp adds 6).
    static func isRunDirectoryName(_ raw: UnsafeRawBufferPointer) -> Bool {
        let head = Array(prefix.utf8)
        guard raw.count > 30, raw[30] == 0, raw[23] == UInt8(ascii: "-") else { return false }
        for (i, b) in head.enumerated() where raw[i] != b { return false }
        for i in 7..<23 {
            let b = raw[i]
            guard (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) else { return false }
        }
        return !raw[24..<30].contains(0)
    }

    /// Deletes the run directories (`warden-<run id>-XXXXXX`) under `base` that this user
    /// owns, that carry the mark and that no live process holds locked. Returns the names
    /// removed. Never follows symlinks.
    @discardableResult
    public static func removeAbandoned(base: String = "/tmp") -> [String] {
        let baseFD = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard baseFD >= 0 else { return [] }
        defer { close(baseFD) }
        var removed: [String] = []
        for name in TreeRemoval.entries(of: baseFD, matching: isRunDirectoryName) {
            // Cheap first look (no open): a marked directory of ours.
            var look = stat()
            guard TreeRemoval.withCName(name, { fstatat(baseFD, $0, &look, AT_SYMLINK_NOFOLLOW) }) == 0,
                  look.st_mode & S_IFMT == S_IFDIR, look.st_mode & 0o1000 != 0, look.st_uid == geteuid() else { continue }
            let fd = TreeRemoval.openDirectory(baseFD, name)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o1000 != 0,
                  flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            // Locked by us now: the directory was abandoned. Empty it through its fd, then
            // unlink the name only if it still names the directory we hold.
            guard TreeRemoval.removeContents(of: fd) else { continue }
            var named = stat()
            let same = TreeRemoval.withCName(name) { fstatat(baseFD, $0, &named, AT_SYMLINK_NOFOLLOW) } == 0
                && named.st_ino == st.st_ino && named.st_dev == st.st_dev
            if same, TreeRemoval.unlinkAt(baseFD, name, AT_REMOVEDIR) {
                removed.append(String(decoding: name.dropLast(), as: UTF8.self))
            }
        }
        return removed
    }
}
