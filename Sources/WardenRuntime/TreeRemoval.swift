#if canImport(Glibc)
import Glibc
#endif

/// Deletes directory trees an agent may have shaped: names are bytes (not necessarily
/// UTF-8), the tree may be deeper than any recursion or descriptor limit, and symlinks are
/// removed, never followed. Works on directory descriptors (`openat`/`unlinkat`) only.
///
/// Depth is handled without recursion: the subdirectories of each child of the top are
/// renamed up into the top directory, so at most two directories are open at a time and
/// every pass shortens every chain by one level.
public enum TreeRemoval {
    /// Removes `path` (a NUL-free byte string) and everything under it. True when it is gone.
    public static func remove(path: [UInt8]) -> Bool {
        let cPath = path + [0]
        let fd = withCName(cPath) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return withCName(cPath) { unlink($0) } == 0 || errno == ENOENT }
        let emptied = removeContents(of: fd)
        close(fd)
        return emptied && withCName(cPath) { rmdir($0) } == 0
    }

    /// Empties the directory open as `top`. True when nothing is left in it.
    static func removeContents(of top: Int32) -> Bool {
        ensureOwnerAccess(top)
        var counter = 0
        while true {
            let names = entries(of: top)
            if names.isEmpty { return true }
            var progress = false
            for name in names {
                if unlinkAt(top, name, 0) { progress = true; continue }
                guard errno == EISDIR else { continue }
                var child = openDirectory(top, name)
                if child < 0 && errno == EACCES {
                    // A directory (unlinkat said EISDIR) the agent made unreadable: it is gone,
                    // so nothing can swap the name for a link before the retry.
                    _ = withCName(name) { fchmodat(top, $0, 0o700, 0) }
                    child = openDirectory(top, name)
                }
                guard child >= 0 else { continue }
                ensureOwnerAccess(child)
                for inner in entries(of: child) {
                    if unlinkAt(child, inner, 0) { progress = true; continue }
                    guard errno == EISDIR else { continue }
                    // Lift the grandchild directory into the top under a fresh name.
                    while true {
                        counter += 1
                        let lifted = Array(".warden-rm-\(counter)".utf8) + [0]
                        if renameNoReplace(child, inner, top, lifted) { progress = true; break }
                        if errno != EEXIST { break }
                    }
                }
                close(child)
                if unlinkAt(top, name, AT_REMOVEDIR) { progress = true }
            }
            if !progress { return false }
        }
    }

    /// Gives the owner rwx on a directory the agent may have locked itself out of.
    private static func ensureOwnerAccess(_ fd: Int32) {
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & 0o700 != 0o700 { _ = fchmod(fd, (st.st_mode & 0o7777) | 0o700) }
    }

    /// The names in a directory, as NUL-terminated bytes, without "." and ".."; only those
    /// `matching` accepts (given the raw NUL-terminated name, before anything is copied).
    static func entries(of fd: Int32, matching: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> [[UInt8]] {
        let dupFD = dup(fd)
        guard dupFD >= 0, let dir = fdopendir(dupFD) else {
            if dupFD >= 0 { close(dupFD) }
            return []
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name: [UInt8]? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                matching(raw) ? Array(raw.prefix { $0 != 0 }) : nil
            }
            guard let name, name != [0x2e], name != [0x2e, 0x2e] else { continue }
            names.append(name + [0])
        }
        return names
    }

    /// `openat(dirFD, name, O_DIRECTORY | O_NOFOLLOW)`; -1 on failure.
    static func openDirectory(_ dirFD: Int32, _ name: [UInt8]) -> Int32 {
        withCName(name) { openat(dirFD, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    static func unlinkAt(_ dirFD: Int32, _ name: [UInt8], _ flags: Int32) -> Bool {
        withCName(name) { unlinkat(dirFD, $0, flags) } == 0
    }

    /// Calls `body` with `name` (NUL-terminated bytes) as a C string.
    static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        name.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
    }

    private static func renameNoReplace(_ fromFD: Int32, _ from: [UInt8], _ toFD: Int32, _ to: [UInt8]) -> Bool {
        // Only this process works in the tree (its writers are gone), so check-then-rename
        // cannot be raced into replacing anything.
        var st = stat()
        if withCName(to, { fstatat(toFD, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 { errno = EEXIST; return false }
        return withCName(from) { f in withCName(to) { t in renameat(fromFD, f, toFD, t) } } == 0
    }
}
