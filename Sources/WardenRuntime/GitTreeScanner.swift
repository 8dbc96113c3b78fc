#if canImport(Glibc)
import Glibc
#endif
import WardenAudit

/// Walks a workspace once and records its git control plane into a `GitTreeScan`.
///
/// - Every directory of the workspace is listed (bounded) to find entries named `.git`.
/// - Each git directory (a `.git` directory, `modules/**` repositories, `worktrees/*`) is
///   split into repository data, which git writes to record commits (objects, refs, logs,
///   index, HEAD, packed-refs...) and which is only searched for symbolic links, and the rest,
///   which is fingerprinted entry by entry (content hash, permissions, link target).
/// - Paths that the repository configs name (`core.hooksPath`, a `core.fsmonitor` program,
///   `include.path`) are fingerprinted too when they lie inside the workspace.
struct GitTreeScanner {
    let limits: GitControlPlane.Limits
    /// Canonical absolute workspace path, as components.
    let workspace: [[UInt8]]
    private var entriesSeen = 0
    private var bytesRead = 0
    private var entryLimitReported = false
    private var result = GitTreeScan()

    init(limits: GitControlPlane.Limits, workspace: [UInt8]) {
        self.limits = limits
        self.workspace = GitPathBytes.components(workspace)
    }

    /// Walks the tree under `rootFD`. `references` are the paths to fingerprint; nil computes
    /// them from the configs found (the snapshot), so both walks look at the same paths.
    mutating func scan(rootFD: Int32, references: [GitTreeScan.Reference]?) -> GitTreeScan {
        walkTree(rootFD, [], depth: 0)
        walkGitFileTargets(rootFD)
        result.references = references ?? computeReferences()
        for reference in result.references where result.records[reference.path] == nil {
            recordPath(rootFD, reference)
        }
        if references == nil { followNestedIncludes(rootFD) }
        return result
    }

    // MARK: - The workspace

    private mutating func walkTree(_ fd: Int32, _ rel: [UInt8], depth: Int) {
        // A directory laid out like a bare repository (HEAD, objects/, refs/) is one to git,
        // found by its discovery from there or, when `.git` is broken, from the root.
        let bare = Self.hasBareLayout(fd)
        if bare { walkGitDir(fd, rel, depth: depth, kind: .repository) }
        guard let entries = list(fd, rel) else { return }
        for entry in entries {
            if bare, entry.name != Self.dotGit { continue }  // its entries were walked as a git directory's
            if entry.name == Self.dotGit {
                let path = GitPathBytes.join(rel, entry.name)
                guard let status = record(fd, entry.name, path, .dotGit), status.isDirectory else { continue }
                descend(fd, entry.name, path, depth: depth) { $0.walkGitDir($1, path, depth: depth + 1, kind: .repository) }
            } else if isDirectory(fd, entry) {
                let path = GitPathBytes.join(rel, entry.name)
                descend(fd, entry.name, path, depth: depth) { $0.walkTree($1, path, depth: depth + 1) }
            }
        }
    }

    /// Git directories inside the workspace that `.git` files point at but that have no
    /// name git's layout gives away (`gitdir: .bare`): walked like a `.git` directory.
    private mutating func walkGitFileTargets(_ rootFD: Int32) {
        let gitFiles = result.records.filter { $0.value.role == .dotGit && $0.value.fingerprint.kind == .file }
        for path in gitFiles.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let content = gitFiles[path]?.content, let target = GitTreeScan.gitfileTarget(content) else { continue }
            let worktree = Array(GitPathBytes.components(path).dropLast())
            let resolved = GitPathBytes.resolve(target, from: workspace + worktree)
            guard resolved.count > workspace.count, GitPathBytes.isInside(resolved, workspace) else { continue }
            let components = Array(resolved.dropFirst(workspace.count))
            let rel = Array(components.joined(separator: [GitPathBytes.slash]))
            // Already walked: a submodule or worktree git directory, or inside one.
            let known = result.gitDirs.keys.contains { rel == $0 || GitPathBytes.isBelow(rel, $0) }
                || result.records.keys.contains { GitPathBytes.isBelow(rel, $0) && result.records[$0]?.fingerprint.kind == .directory }
            guard !known, components.count <= limits.maxDepth else { continue }
            var fd = dup(rootFD)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var reachable = true
            for component in components {
                let next = NoFollowFiles.openDirectory(fd, component)
                guard next >= 0 else { reachable = false; break }
                close(fd)
                fd = next
            }
            guard reachable else { continue }
            walkGitDir(fd, rel, depth: components.count, kind: .linked(worktree: Array(worktree.joined(separator: [GitPathBytes.slash]))))
        }
    }

    // MARK: - A git directory

    private mutating func walkGitDir(_ fd: Int32, _ rel: [UInt8], depth: Int, kind: GitTreeScan.GitDirKind) {
        result.gitDirs[rel] = kind
        guard let entries = list(fd, rel) else { return }
        var sawHead = false
        defer {
            if !sawHead {
                problem(.repository, GitPathBytes.join(rel, Array("HEAD".utf8)), Self.brokenHead)
            }
        }
        for entry in entries {
            let name = entry.name
            let path = GitPathBytes.join(rel, name)
            // Git matches these names byte for byte; any non-ASCII name is just another
            // control entry (String equality is canonical equivalence, not bytes).
            switch name.allSatisfy({ $0 < 0x80 }) ? String(decoding: name, as: UTF8.self) : "" {
            case "objects":
                guard plainDirectory(fd, name, path, role: .control) != nil else { continue }
                descend(fd, name, path, depth: depth) { $0.walkObjects($1, path, depth: depth + 1) }
            case "hooks": recordTree(fd, name, path, .hook, depth: depth)
            case "info": recordTree(fd, name, path, .info, depth: depth)
            case "config", "config.worktree": record(fd, name, path, .config)
            case "commondir": record(fd, name, path, .commondir)
            case "gitdir": record(fd, name, path, .worktreeGitdir)
            case "rebase-merge", "rebase-apply", "sequencer": recordTree(fd, name, path, .sequence, depth: depth)
            case "modules":
                guard plainDirectory(fd, name, path, role: .control) != nil else { continue }
                descend(fd, name, path, depth: depth) { $0.walkModules($1, path, depth: depth + 1) }
            case "worktrees":
                guard plainDirectory(fd, name, path, role: .control) != nil else { continue }
                descend(fd, name, path, depth: depth) { $0.walkWorktrees($1, path, owner: rel, depth: depth + 1) }
            case let s where Self.isRepositoryData(s):
                guard let status = NoFollowFiles.status(fd, name) else { continue }
                if s == "HEAD" { sawHead = true; checkHead(fd, name, path, status) }
                if status.isSymlink {
                    record(fd, name, path, .dataLink)
                } else if status.isDirectory, s == "refs" || s == "logs" {
                    descend(fd, name, path, depth: depth) { $0.walkForLinks($1, path, depth: depth + 1) }
                }
            default: recordTree(fd, name, path, .control, depth: depth)
            }
        }
    }

    /// `objects/`: only `objects/info/alternates` and `http-alternates` redirect git.
    private mutating func walkObjects(_ fd: Int32, _ rel: [UInt8], depth: Int) {
        let info = Array("info".utf8)
        let path = GitPathBytes.join(rel, info)
        guard plainDirectory(fd, info, path, role: .control) != nil else { return }
        descend(fd, info, path, depth: depth) { scanner, infoFD in
            for name in ["alternates", "http-alternates"] {
                let n = Array(name.utf8)
                scanner.record(infoFD, n, GitPathBytes.join(path, n), .alternates)
            }
        }
    }

    /// `modules/`: submodule repositories, whose names may contain `/`.
    private mutating func walkModules(_ fd: Int32, _ rel: [UInt8], depth: Int) {
        eachSubdirectory(fd, rel, depth: depth) { scanner, child, path in
            if Self.looksLikeGitDir(child) {
                scanner.walkGitDir(child, path, depth: depth + 1, kind: .module)
            } else {
                scanner.walkModules(child, path, depth: depth + 1)
            }
        }
    }

    /// `worktrees/`: one administrative git directory per linked worktree.
    private mutating func walkWorktrees(_ fd: Int32, _ rel: [UInt8], owner: [UInt8], depth: Int) {
        eachSubdirectory(fd, rel, depth: depth) { $0.walkGitDir($1, $2, depth: depth + 1, kind: .worktree(owner: owner)) }
    }

    /// Calls `body` with each subdirectory of `fd` (opened) and its path; other entries are
    /// recorded as control entries.
    private mutating func eachSubdirectory(_ fd: Int32, _ rel: [UInt8], depth: Int,
                                           _ body: (inout GitTreeScanner, Int32, [UInt8]) -> Void) {
        guard let entries = list(fd, rel) else { return }
        for entry in entries {
            let path = GitPathBytes.join(rel, entry.name)
            guard let status = NoFollowFiles.status(fd, entry.name), status.isDirectory else {
                record(fd, entry.name, path, .control)
                continue
            }
            descend(fd, entry.name, path, depth: depth) { body(&$0, $1, path) }
        }
    }

    /// Repository data directories: only links are of interest there.
    private mutating func walkForLinks(_ fd: Int32, _ rel: [UInt8], depth: Int) {
        guard let entries = list(fd, rel) else { return }
        for entry in entries {
            let path = GitPathBytes.join(rel, entry.name)
            if entry.type == UInt8(DT_LNK) || (entry.type == UInt8(DT_UNKNOWN) && NoFollowFiles.status(fd, entry.name)?.isSymlink == true) {
                record(fd, entry.name, path, .dataLink)
            } else if isDirectory(fd, entry) {
                descend(fd, entry.name, path, depth: depth) { $0.walkForLinks($1, path, depth: depth + 1) }
            }
        }
    }

    // MARK: - Recording

    /// Records `name` and, when it is a directory, everything below it, all with `role`.
    private mutating func recordTree(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], _ role: GitTreeScan.Role, depth: Int) {
        guard let status = record(fd, name, path, role), status.isDirectory else { return }
        descend(fd, name, path, depth: depth) { scanner, child in
            guard let entries = scanner.list(child, path) else { return }
            for entry in entries {
                scanner.recordTree(child, entry.name, GitPathBytes.join(path, entry.name), role, depth: depth + 1)
            }
        }
    }

    /// Records `name` in `fd` unless it is a plain directory (which is walked instead); returns
    /// its status when it is a directory to walk.
    private mutating func plainDirectory(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], role: GitTreeScan.Role) -> NoFollowFiles.Status? {
        guard let status = NoFollowFiles.status(fd, name) else { return nil }
        if status.isDirectory { return status }
        record(fd, name, path, role)
        return nil
    }

    /// Fingerprints one entry. Returns its status, nil when it does not exist or cannot be read.
    @discardableResult
    private mutating func record(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], _ role: GitTreeScan.Role) -> NoFollowFiles.Status? {
        guard let status = NoFollowFiles.status(fd, name) else {
            let e = errno
            if e != ENOENT { problem(.unreadable, path, "cannot be examined (\(String(cString: strerror(e))))") }
            return nil
        }
        var fingerprint = GitTreeScan.Fingerprint(kind: .other)
        var content: [UInt8]?
        if status.isSymlink {
            fingerprint.kind = .symlink
            fingerprint.target = NoFollowFiles.linkTarget(fd, name) ?? []
        } else if status.isDirectory {
            fingerprint.kind = .directory
        } else if status.isRegular {
            fingerprint.kind = .file
            fingerprint.permissions = status.permissions
            let (digest, bytes) = read(fd, name, path, status)
            fingerprint.digest = digest
            content = Self.keepsContent(role) ? bytes : nil
        } else {
            fingerprint.permissions = status.mode
        }
        result.records[path] = GitTreeScan.Record(role: role, fingerprint: fingerprint, content: content)
        return status
    }

    /// The digest of a regular file and its content; a metadata digest when it is too large
    /// or the byte budget is spent.
    private mutating func read(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], _ status: NoFollowFiles.Status) -> (String, [UInt8]?) {
        func meta(_ s: NoFollowFiles.Status) -> String {
            "meta:\(s.size):\(s.device):\(s.inode):\(s.changeTime).\(s.changeTimeNanoseconds)"
        }
        guard bytesRead + Int(clamping: status.size) <= limits.maxTotalBytes else {
            problem(.limit, path, "not read: the walk's byte budget (\(limits.maxTotalBytes)) is spent; compared by size, inode and change time")
            return (meta(status), nil)
        }
        switch NoFollowFiles.readFile(fd, name, limit: limits.maxFileBytes) {
        case .content(let bytes)?:
            bytesRead += bytes.count
            return (Digest.sha256Hex(bytes), bytes)
        case .tooLarge(let s)?:
            return (meta(s), nil)
        case .notRegular(let s)?:
            return ("type:\(s.mode)", nil)
        case nil:
            let e = errno
            problem(.unreadable, path, "cannot be read (\(String(cString: strerror(e))))")
            return ("unreadable", nil)
        }
    }

    /// Fingerprints a path a config names, opening each directory on the way without
    /// following links.
    private mutating func recordPath(_ rootFD: Int32, _ reference: GitTreeScan.Reference) {
        let role = GitTreeScan.Role.referenced(config: reference.config, key: reference.key)
        var components = GitPathBytes.components(reference.path)
        guard let last = components.popLast() else { return }
        var fd = dup(rootFD)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for component in components {
            let next = NoFollowFiles.openDirectory(fd, component)
            guard next >= 0 else {
                let kind: GitTreeScan.EntryKind = errno == ENOENT ? .missing : .unreachable
                result.records[reference.path] = GitTreeScan.Record(role: role, fingerprint: .init(kind: kind), content: nil)
                return
            }
            close(fd)
            fd = next
        }
        if recordTreeReturningPresence(fd, last, reference.path, role) == false {
            result.records[reference.path] = GitTreeScan.Record(role: role, fingerprint: .init(kind: .missing), content: nil)
        }
    }

    private mutating func recordTreeReturningPresence(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], _ role: GitTreeScan.Role) -> Bool {
        guard NoFollowFiles.status(fd, name) != nil else { return false }
        recordTree(fd, name, path, role, depth: GitPathBytes.components(path).count - 1)
        return true
    }

    // MARK: - References named by configs

    /// Paths inside the workspace that the configs of `.git` directories name.
    private func computeReferences() -> [GitTreeScan.Reference] {
        var found: [GitTreeScan.Reference] = []
        for (gitDir, kind) in result.gitDirs {
            let worktree: [[UInt8]]
            switch kind {
            case .repository: worktree = Array(GitPathBytes.components(gitDir).dropLast())
            case .linked(let dir): worktree = GitPathBytes.components(dir)
            case .module, .worktree: continue
            }
            for file in ["config", "config.worktree"] {
                let configPath = GitPathBytes.join(gitDir, Array(file.utf8))
                guard let content = result.records[configPath]?.content else { continue }
                let config = GitConfigText(content)
                func add(_ value: [UInt8], base: [[UInt8]], key: String) {
                    if let r = reference(value, base: base, config: configPath, key: key) { found.append(r) }
                }
                for value in config.values("core.hookspath") { add(value, base: worktree, key: "core.hooksPath") }
                for value in config.values("core.fsmonitor") where Self.isProgramPath(value) {
                    add(value, base: worktree, key: "core.fsmonitor")
                }
                let configDir = GitPathBytes.components(gitDir)
                for setting in config.settings where Self.isInclude(setting.key) {
                    add(GitConfigText.plain(setting.value), base: configDir, key: setting.key)
                }
            }
        }
        return Array(Set(found)).sorted {
            if $0.path != $1.path { return $0.path.lexicographicallyPrecedes($1.path) }
            if $0.config != $1.config { return $0.config.lexicographicallyPrecedes($1.config) }
            return $0.key < $1.key
        }
    }

    /// Files that included files include in turn (git follows them, up to 10 levels): found
    /// at snapshot time, so the inspection fingerprints the same paths, including ones that
    /// do not exist yet.
    private mutating func followNestedIncludes(_ rootFD: Int32) {
        var frontier = result.references.filter { Self.isInclude($0.key) }
        var known = Set(result.references)
        for _ in 0..<10 where !frontier.isEmpty {
            var next: [GitTreeScan.Reference] = []
            for reference in frontier {
                guard let content = result.records[reference.path]?.content else { continue }
                let base = Array(GitPathBytes.components(reference.path).dropLast())
                for setting in GitConfigText(content).settings where Self.isInclude(setting.key) {
                    guard let nested = self.reference(GitConfigText.plain(setting.value), base: base, config: reference.path, key: setting.key),
                          known.insert(nested).inserted else { continue }
                    result.references.append(nested)
                    if result.records[nested.path] == nil { recordPath(rootFD, nested) }
                    next.append(nested)
                }
            }
            frontier = next
        }
    }

    static func isInclude(_ key: String) -> Bool {
        key == "include.path" || (key.hasPrefix("includeif.") && key.hasSuffix(".path"))
    }

    /// A path a config names, resolved lexically from `base` (components relative to the
    /// workspace); nil outside the workspace or in a home directory (`~`).
    private func reference(_ value: [UInt8], base: [[UInt8]], config: [UInt8], key: String) -> GitTreeScan.Reference? {
        guard !value.isEmpty, value.first != UInt8(ascii: "~") else { return nil }
        let resolved = GitPathBytes.resolve(value, from: workspace + base)
        guard resolved.count > workspace.count, GitPathBytes.isInside(resolved, workspace) else { return nil }
        let rel = resolved.dropFirst(workspace.count).joined(separator: [GitPathBytes.slash])
        return .init(path: Array(rel), config: config, key: key)
    }

    /// Whether a `core.fsmonitor` value names a program (not a boolean for the built-in daemon).
    private static func isProgramPath(_ value: [UInt8]) -> Bool {
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return !["", "true", "false", "yes", "no", "on", "off", "1", "0"].contains(text) && !value.contains(0x20)
    }

    // MARK: - Helpers

    static let dotGit = Array(".git".utf8)

    /// Names git writes to record commits and branches; only links among them matter.
    static func isRepositoryData(_ name: String) -> Bool {
        let exact: Set<String> = [
            "HEAD", "ORIG_HEAD", "FETCH_HEAD", "MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "MERGE_RR", "CHERRY_PICK_HEAD",
            "REVERT_HEAD", "REBASE_HEAD", "AUTO_MERGE", "COMMIT_EDITMSG", "TAG_EDITMSG", "NOTES_EDITMSG", "SQUASH_MSG",
            "EDIT_DESCRIPTION", "index", "packed-refs", "shallow", "description", "gc.pid", "gc.log", "refs", "logs",
            "rr-cache", "lfs", "locked", "fsmonitor--daemon", "fsmonitor--daemon.ipc", "gitk.cache",
        ]
        return exact.contains(name) || name.hasPrefix("BISECT_") || name.hasPrefix("sharedindex.") || name.hasSuffix(".lock")
    }

    /// Roles whose content the judge reads.
    static func keepsContent(_ role: GitTreeScan.Role) -> Bool {
        switch role {
        case .dotGit, .config, .commondir, .worktreeGitdir, .alternates: return true
        case .referenced(_, let key): return isInclude(key)
        default: return false
        }
    }

    /// Whether `fd` holds what git's discovery takes for a git directory: a `HEAD` file and
    /// `objects` and `refs` directories.
    static func hasBareLayout(_ fd: Int32) -> Bool {
        // Git follows links here (a HEAD link into refs/, linked objects/ and refs/): any of
        // them, file, directory or link, counts.
        ["HEAD", "objects", "refs"].allSatisfy { NoFollowFiles.status(fd, Array($0.utf8)) != nil }
    }

    static let brokenHead = "no HEAD git accepts (missing, not a file, or not a ref or object id): git does not recognise this repository and takes the next directory up, or the workspace itself, for one"

    /// Reports a HEAD git would refuse: a directory or other non-file, a link that does not
    /// point into refs/, a file that is neither a symbolic ref nor an object id.
    private mutating func checkHead(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], _ status: NoFollowFiles.Status) {
        if status.isSymlink {
            let target = NoFollowFiles.linkTarget(fd, name) ?? []
            var t = target[...]
            while t.starts(with: Array("./".utf8)) { t = t.dropFirst(2) }
            if !t.starts(with: Array("refs/".utf8)) || t.contains(0) { problem(.repository, path, Self.brokenHead) }
            return
        }
        guard status.isRegular else { problem(.repository, path, Self.brokenHead); return }
        if case .content(let head)? = NoFollowFiles.readFile(fd, name, limit: 4096), !Self.isValidHead(head) {
            problem(.repository, path, Self.brokenHead)
        }
    }

    /// Whether `HEAD` (a git directory's) is one git accepts: a symbolic ref under refs/ or
    /// an object id. Git does not recognise a directory with any other HEAD as a repository
    /// and goes on looking, so a broken HEAD can hand the repository role to another one.
    static func isValidHead(_ content: [UInt8]) -> Bool {
        var text = content
        while text.last == 0x0A || text.last == 0x0D { text.removeLast() }
        if text.starts(with: Array("ref: refs/".utf8)) { return !text.contains(0x0A) && !text.contains(0) }
        let hex = text.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        return hex && (text.count == 40 || text.count == 64)
    }

    /// Whether a directory under `modules/` is a repository rather than a level of a name
    /// containing `/`: it holds one of the files every git directory has.
    private static func looksLikeGitDir(_ fd: Int32) -> Bool {
        ["HEAD", "config", "commondir", "objects", "refs"].contains { NoFollowFiles.status(fd, Array($0.utf8)) != nil }
    }

    private mutating func problem(_ kind: GitControlPlane.Kind, _ path: [UInt8], _ reason: String) {
        result.problems.append(.init(kind: kind, path: path, reason: reason))
    }

    private func isDirectory(_ fd: Int32, _ entry: NoFollowFiles.Entry) -> Bool {
        if entry.type == UInt8(DT_DIR) { return true }
        if entry.type != UInt8(DT_UNKNOWN) { return false }
        return NoFollowFiles.status(fd, entry.name)?.isDirectory == true
    }

    /// Lists a directory within the entry budget; reports what could not be listed.
    private mutating func list(_ fd: Int32, _ rel: [UInt8]) -> [NoFollowFiles.Entry]? {
        let remaining = limits.maxEntries - entriesSeen
        guard remaining > 0 else {
            reportEntryLimit(rel)
            return nil
        }
        guard let listed = NoFollowFiles.entries(fd, limit: remaining) else {
            let e = errno
            problem(.unreadable, rel, "directory cannot be listed (\(String(cString: strerror(e))))")
            return nil
        }
        entriesSeen += listed.entries.count
        if listed.truncated { reportEntryLimit(rel) }
        return listed.entries
    }

    private mutating func reportEntryLimit(_ rel: [UInt8]) {
        guard !entryLimitReported else { return }
        entryLimitReported = true
        problem(.limit, rel, "more than \(limits.maxEntries) directory entries: the walk stopped here, the rest was not checked")
    }

    /// Opens the directory `name` and runs `body` on it, within the depth limit. A name that
    /// is no longer a directory (or is a link) is skipped: it was recorded or is not a directory.
    private mutating func descend(_ fd: Int32, _ name: [UInt8], _ path: [UInt8], depth: Int, _ body: (inout GitTreeScanner, Int32) -> Void) {
        guard depth + 1 <= limits.maxDepth else {
            problem(.limit, path, "deeper than \(limits.maxDepth) directories: not checked below")
            return
        }
        let child = NoFollowFiles.openDirectory(fd, name)
        guard child >= 0 else {
            let e = errno
            if e != ENOENT, e != ENOTDIR, e != ELOOP {
                problem(.unreadable, path, "directory cannot be opened (\(String(cString: strerror(e))))")
            }
            return
        }
        defer { close(child) }
        body(&self, child)
    }
}
