#if canImport(Glibc)
import Glibc
#endif

/// What a run changed in its workspace's work tree, found without git: a snapshot of every
/// entry's identity before the run, compared with one after it.
///
/// No git runs on a tree an agent has written (its config, attributes and submodules are
/// ways to make a host git run code), and nothing is followed: the walk uses `openat` with
/// `O_NOFOLLOW` from the workspace's descriptor, and it runs only after the run ended, when
/// no agent process is left to move things. The top-level `.git` is left out (the work tree
/// is what a reviewer diffs). An entry counts as modified when its inode, size, mode, mtime
/// or ctime differ: an agent can set mtime back, but ctime is the kernel's own (setting it
/// needs the host clock, `CAP_SYS_TIME`, which no policy grants).
public struct WorkspaceSnapshot: Sendable {
    struct Fingerprint: Equatable, Sendable {
        var inode: UInt64, size: Int64, mode: UInt32, mtime: Int64, ctime: Int64
    }

    /// Path (bytes, relative to the workspace) to fingerprint, directories left out.
    var entries: [[UInt8]: Fingerprint] = [:]
    /// False when the walk stopped early (`maxEntries`, `maxDepth`, an unreadable
    /// directory): the comparison is then a lower bound.
    public private(set) var complete = true

    public static let maxEntries = 500_000
    public static let maxDepth = 256

    /// Files and links added, modified and removed; `paths` the first `maxPaths` of them.
    public struct Changes: Sendable, Equatable {
        public var added = 0, modified = 0, removed = 0
        public var paths: [String] = []
        /// Both walks were complete.
        public var complete = true
        public var total: Int { added + modified + removed }
        public static let maxPaths = 100
        public init() {}
    }

    /// Walks the directory at `path`; nil when it cannot be opened as a directory.
    public static func take(_ path: String) -> WorkspaceSnapshot? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var snapshot = WorkspaceSnapshot()
        snapshot.walk(fd, prefix: [], depth: 0)
        return snapshot
    }

    private mutating func walk(_ dirFD: Int32, prefix: [UInt8], depth: Int) {
        guard depth < Self.maxDepth else { complete = false; return }
        for name in TreeRemoval.entries(of: dirFD) {
            let bare = Array(name.dropLast())
            if depth == 0, bare == Array(".git".utf8) { continue }
            guard entries.count < Self.maxEntries else { complete = false; return }
            var st = stat()
            guard TreeRemoval.withCName(name, { fstatat(dirFD, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { complete = false; continue }
            let path = prefix.isEmpty ? bare : prefix + [0x2F] + bare
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let child = TreeRemoval.openDirectory(dirFD, name)
                guard child >= 0 else { complete = false; continue }
                walk(child, prefix: path, depth: depth + 1)
                close(child)
                continue
            }
            entries[path] = Fingerprint(inode: UInt64(st.st_ino), size: Int64(st.st_size), mode: st.st_mode,
                                        mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                                        ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
        }
    }

    /// Every path added or modified (`upserted`) and every path removed from `self` (before)
    /// to `after`, each list in byte order: what a review commit replaces and deletes.
    public func changedPaths(to after: WorkspaceSnapshot) -> (upserted: [[UInt8]], removed: [[UInt8]]) {
        let upserted = after.entries.compactMap { path, print in entries[path] == print ? nil : path }
        let removed = entries.keys.filter { after.entries[$0] == nil }
        return (upserted.sorted { $0.lexicographicallyPrecedes($1) }, removed.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// What changed from `self` (before) to `after`.
    public func changes(to after: WorkspaceSnapshot) -> Changes {
        var out = Changes()
        out.complete = complete && after.complete
        var changed: [[UInt8]] = []
        for (path, print) in after.entries {
            if let old = entries[path] {
                if old != print { out.modified += 1; changed.append(path) }
            } else {
                out.added += 1
                changed.append(path)
            }
        }
        for path in entries.keys where after.entries[path] == nil {
            out.removed += 1
            changed.append(path)
        }
        out.paths = changed.sorted { $0.lexicographicallyPrecedes($1) }.prefix(Changes.maxPaths).map { String(decoding: $0, as: UTF8.self) }
        return out
    }
}
