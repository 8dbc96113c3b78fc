/// Who a systemd export's service runs as.
public enum SystemdServiceUser: Sendable, Equatable {
    /// `DynamicUser=yes` when the identity needs no fixed user (every path it may write is
    /// one systemd creates for a transient user), else no user setting, with a comment
    /// that says why.
    case automatic
    /// `User=` and `Group=` (`warden compile --emit systemd --user UID[:GID]`).
    case fixed(uid: UInt32, gid: UInt32)
}

extension SystemdExport {
    /// Where systemd creates and chowns directories for a dynamic user, and the setting
    /// that asks for one (its value relative to the root).
    static let managedRoots: [(root: String, setting: String)] = [("/var/lib", "StateDirectory"), ("/var/cache", "CacheDirectory")]

    /// The `StateDirectory=`/`CacheDirectory=` settings that give a dynamic user every path
    /// of `writable` (absolute, normalised), or the first path that cannot be one.
    static func dynamicUserDirectories(_ writable: [String]) -> (settings: [(key: String, value: String)], obstacle: String?) {
        var byKey: [String: [String]] = [:]
        for path in writable {
            guard let managed = managedRoots.first(where: { path.hasPrefix($0.root + "/") }) else { return ([], path) }
            let relative = String(path.dropFirst(managed.root.count + 1))
            // systemd keeps a dynamic user's directories in `private/`; that name is its own.
            guard !relative.isEmpty, relative != "private", !relative.hasPrefix("private/"),
                  !relative.contains(where: { $0 == " " || $0 == "%" || $0 == "\\" || $0 == "\"" }) else { return ([], path) }
            byKey[managed.setting, default: []].append(relative)
        }
        let settings = managedRoots.compactMap { m in byKey[m.setting].map { (m.setting, $0.sorted().joined(separator: " ")) } }
        return (settings, nil)
    }

    /// The top-level names hidden when the host is not listed (`--portable`): the Filesystem
    /// Hierarchy Standard's, so the output is the same on every host. Entries a host adds
    /// beside them stay readable.
    public static let standardEntries: [String: [String]] = [
        "/": ["bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "lost+found", "media", "mnt",
              "opt", "proc", "root", "run", "sbin", "snap", "srv", "sys", "tmp", "usr", "var"],
        "/var": ["backups", "cache", "crash", "lib", "local", "lock", "log", "mail", "opt", "run", "spool", "tmp"],
    ]
}
