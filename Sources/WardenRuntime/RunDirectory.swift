#if canImport(Glibc)
import Glibc
#endif

/// The private per-run temporary directory that `${tmp}` stands for.
public enum RunDirectory {
    /// Creates a fresh directory `<base>/warden-<runID>-` plus six random characters
    /// (mkdtemp), mode 0700.
    public static func create(base: String = "/tmp", runID: String) -> String? {
        var template = Array("\(base)/warden-\(runID)-XXXXXX".utf8CString)  // mkdtemp's required suffix
        return template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let made = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: made)
        }
    }

    /// Removes `path` and everything under it without following symlinks (the agent may
    /// have planted links pointing outside). Best effort; returns false if anything stayed.
    @discardableResult
    public static func remove(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return unlink(path) == 0 || errno == ENOENT }
        let emptied = removeContents(of: fd, depth: 0)
        return emptied && rmdir(path) == 0
    }

    private static func removeContents(of dirFD: Int32, depth: Int) -> Bool {
        guard depth < 256, let dir = fdopendir(dirFD) else { close(dirFD); return false }
        defer { closedir(dir) }
        var ok = true
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names {
            if unlinkat(dirFD, name, 0) == 0 { continue }
            guard errno == EISDIR else { ok = false; continue }
            let child = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 { ok = false; continue }
            // Make it writable in case the agent removed our permissions.
            _ = fchmod(child, 0o700)
            ok = removeContents(of: child, depth: depth + 1) && ok
            if unlinkat(dirFD, name, AT_REMOVEDIR) != 0 { ok = false }
        }
        return ok
    }
}
