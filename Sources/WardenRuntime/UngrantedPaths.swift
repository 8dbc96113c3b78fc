#if canImport(Glibc)
import Glibc
#endif

/// Hides what the agent has no grant for but could still reach by path.
///
/// Landlock checks opening files, not path lookup, and (up to ABI 7) not `connect(2)` to a
/// unix socket by path: a socket anywhere in the file system, such as the container runtime's
/// or the system bus's under /run, or an ssh-agent, tmux or X11 socket under /tmp, stays
/// connectable. So the launch masks (with an empty read-only tmpfs, or /dev/null for a socket)
/// - in `/` and in every other directory on the way to a grant with at most `maskAllLimit`
///   entries (a home directory holding the workspace, say), every directory and socket that
///   is neither granted nor on the way to a grant (/run, /var, /root, ~/.gnupg ...);
/// - in larger directories on the way to a grant (typically a busy /tmp), every socket and
///   the directories of the well-known per-user socket servers (`tmux-*`, `ssh-*`,
///   `.X11-unix`, ...). Other entries there stay visible (Landlock still denies opening
///   them): masking each could mean thousands of mounts per launch.
enum UngrantedPaths {
    /// Name prefixes of directories that hold per-user socket servers.
    static let socketDirectoryPrefixes = ["tmux-", "ssh-", ".X11-unix", ".ICE-unix", "screen", "dbus-", "systemd-private-"]
    /// Directories with more entries than this get only sockets and socket directories masked.
    static let maskAllLimit = 256

    /// Mask operations for `grants` (canonical absolute paths the agent may use).
    static func masks(keeping grants: [String]) -> [MountOperation] {
        let kept = Set(grants)
        let everything = kept.contains("/") || kept.contains("")
        // Whether `p` is a grant or inside one (`p` or one of its ancestors is a grant).
        func covered(_ p: String) -> Bool {
            if everything || kept.contains(p) { return true }
            var a = Substring(p)
            while let slash = a.lastIndex(of: "/") {
                a = a[..<slash]
                if !a.isEmpty, kept.contains(String(a)) { return true }
            }
            return false
        }
        // Proper ancestors of a grant that are not themselves inside a grant.
        var ancestors = Set<String>()
        for g in grants where g.hasPrefix("/") {
            var a = g
            while a != "/", let slash = a.lastIndex(of: "/") {
                a = slash == a.startIndex ? "/" : String(a[..<slash])
                if !covered(a) { ancestors.insert(a) }
            }
        }
        var result: [MountOperation] = []
        for dir in ancestors.sorted() {
            // An entry's proper ancestors are `dir` and its ancestors, so an entry is covered
            // when it is a grant or `dir` is covered: two set lookups per entry, which keeps
            // a /tmp with thousands of entries cheap.
            let dirCovered = covered(dir)
            guard let d = opendir(dir) else { continue }
            defer { closedir(d) }
            var candidates: [(path: String, name: String, type: Int32)] = []
            var entries = 0
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name == "." || name == ".." || name.isEmpty { continue }
                let path = dir == "/" ? "/" + name : dir + "/" + name
                if dirCovered || kept.contains(path) || ancestors.contains(path) { continue }
                entries += 1
                var type = Int32(e.pointee.d_type)
                if type == Int32(DT_UNKNOWN) {
                    var st = stat()
                    guard lstat(path, &st) == 0 else { continue }
                    switch st.st_mode & S_IFMT {
                    case S_IFDIR: type = Int32(DT_DIR)
                    case S_IFSOCK: type = Int32(DT_SOCK)
                    default: continue
                    }
                }
                if type == Int32(DT_SOCK) || type == Int32(DT_DIR) { candidates.append((path, name, type)) }
            }
            let all = dir == "/" || entries <= maskAllLimit
            for c in candidates where c.type == Int32(DT_SOCK) || all || socketDirectoryPrefixes.contains(where: { c.name.hasPrefix($0) }) {
                result.append(.mask(c.path))
            }
        }
        return result
    }
}
