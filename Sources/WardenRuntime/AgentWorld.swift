import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// The agent's filesystem, built from its grants: the mount plan of a fresh root that holds
/// exactly the granted paths (with the access the policy gives: read-only unless written,
/// noexec unless executed), the run's private `${tmp}` as `/tmp`, a fresh `/proc`, the
/// granted device nodes, and the symlinks on the way to a grant (`/bin -> usr/bin`).
/// What no rule grants does not exist in the agent's view, so nothing is scanned or masked
/// on the host, whatever appears or vanishes there meanwhile.
///
/// Paths here are the agent's view. Every grant is seen at its host path except `${tmp}`,
/// which the agent sees as `/tmp` (its source is the run's directory on the host).
struct AgentWorld: Sendable {
    /// One granted subtree: where the agent sees it and where it is on the host.
    struct Grant: Equatable, Sendable {
        var path: String
        var source: String
        var access: Set<FsAccess>
        var writable: Bool { access.contains(.write) }
        var exec: Bool { access.contains(.exec) }
    }

    /// Where the agent sees its private temporary directory.
    static let agentTmp = "/tmp"

    private(set) var grants: [Grant] = []
    private(set) var symlinks: [(path: String, target: String)] = []
    /// Host paths that must exist (created empty by the run) so a deny can be mounted on
    /// them: protected paths missing at launch inside a writable grant.
    private(set) var placeholders: [String] = []
    /// Host directories that must exist as mount points for grants inside a remapped grant
    /// (a workspace under `/tmp` is bound inside the agent's `/tmp`, the run's directory).
    private(set) var mountPoints: [String] = []

    /// Whether the agent's `${home}` is the run's fresh directory (false: no fresh home was
    /// asked for, or the policy grants `${home}` itself, which means the real home).
    private(set) var freshHome = false
    /// Caches (agent paths) not mounted: inside a grant of the host's own tree (the real
    /// home granted as such) where their directory does not exist.
    private(set) var skippedCaches: [String] = []
    /// The generated `.gitconfig` is mounted (false when the policy grants the real one).
    private(set) var generatedGitConfig = false

    /// - Parameters:
    ///   - grants: the plan's grants, expanded to the agent's view.
    ///   - hostTmp: the run's temporary directory on the host (the source of `/tmp`).
    ///   - home: the run's fresh home (see `AgentHome`): the agent sees it at its `${home}`,
    ///     writable and noexec; grants below `${home}` are bound into it at their place, and
    ///     the generated `.gitconfig` and the identity's caches are mounted into it.
    /// Throws when a grant is reached through a symlink inside a writable grant (an earlier
    /// agent could have planted it to be granted any host path), or resolves, through a
    /// link, to a device node.
    init(grants requested: [(path: String, access: Set<FsAccess>)], hostTmp: String?, home: AgentHome? = nil) throws(AgentLaunchError) {
        var resolved: [Grant] = []
        var hops: [(path: String, target: String)] = []
        var linked: [(grant: String, hops: [(path: String, target: String)], real: String)] = []
        // A grant of `${home}` itself keeps today's meaning: the real home, with that access.
        if let home, home.path != "/", !requested.contains(where: { $0.path == home.path }), let source = Self.canonical(home.source) {
            freshHome = true
            resolved.append(Grant(path: home.path, source: source, access: [.read, .write]))
            let gitConfig = home.path + "/.gitconfig"
            if let generated = home.gitConfig, !requested.contains(where: { $0.path == gitConfig }), let file = Self.canonical(generated) {
                resolved.append(Grant(path: gitConfig, source: file, access: [.read]))
                generatedGitConfig = true
            }
        }
        for (path, access) in requested {
            if let hostTmp, path == Self.agentTmp {
                guard let source = Self.canonical(hostTmp) else { continue }
                resolved.append(Grant(path: path, source: source, access: access))
                continue
            }
            // A cache: the identity's persistent store, read/write and never executable.
            if let home, let store = home.caches[path] {
                guard let source = Self.canonical(store) else { continue }
                resolved.append(Grant(path: path, source: source, access: access.subtracting([.exec])))
                continue
            }
            guard let (real, links) = Self.resolveRecordingLinks(path) else { continue }
            hops += links
            if !links.isEmpty { linked.append((path, links, real)) }
            resolved.append(Grant(path: real, source: real, access: access))
        }
        let writable = resolved.filter(\.writable).map(\.source)
        for entry in linked {
            // (A writable `/` gives the agent the whole host anyway: nothing to protect there.)
            for hop in entry.hops where writable.contains(where: { $0 != "/" && HostPath.isBelow(hop.path, $0) }) {
                throw .unsupportedRule("the grant \(entry.grant) goes through the symlink \(hop.path) (to \(hop.target)) inside a writable grant; the agent could have planted it to be granted another host path. Remove the link or grant the real path")
            }
            var st = stat()
            if stat(entry.real, &st) == 0, st.st_mode & S_IFMT == S_IFCHR || st.st_mode & S_IFMT == S_IFBLK {
                throw .unsupportedRule("the grant \(entry.grant) is a symlink to the device \(entry.real); grant device nodes by their own path")
            }
        }
        // Same path granted twice (directly and through a link): one grant with both accesses.
        var merged: [Grant] = []
        for g in resolved {
            if let i = merged.firstIndex(where: { HostPath.same($0.path, g.path) }) { merged[i].access.formUnion(g.access) } else { merged.append(g) }
        }
        grants = merged.sorted { (HostPath.components($0.path).count, $0.path) < (HostPath.components($1.path).count, $1.path) }
        // A cache inside a grant of the host's own tree (the real home, granted as such) whose
        // directory is missing there: its mount point would have to be created in the host's
        // tree, which Warden never does. It is left out (and reported).
        let stores = Set((home?.caches.values).map { $0.compactMap(Self.canonical) } ?? [])
        let outside = grants.filter { g in
            guard stores.contains(g.source), g.source != g.path, access(g.path, F_OK) != 0,
                  let parent = grant(containing: g.path, strictly: true) else { return false }
            return parent.source == parent.path
        }
        grants.removeAll { g in outside.contains(g) }
        skippedCaches = outside.map(\.path)
        for g in grants {
            guard let parent = grant(containing: g.path, strictly: true), parent.source != parent.path else { continue }
            let inside = parent.source + g.path.dropFirst(parent.path == "/" ? 0 : parent.path.count)
            // A file's mount point is made by the launcher (an empty file) in the run's own directory.
            var st = stat()
            guard stat(g.source, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            if access(inside, F_OK) != 0 { mountPoints.append(inside) }
        }
        // A link inside a subtree granted at its own host path is the host's (visible through
        // the bind); links on the way to a grant, in the skeleton or in the remapped /tmp,
        // are recreated.
        var seen = Set<String>()
        for hop in hops where !seen.contains(hop.path) && hostPath(hop.path) != hop.path {
            seen.insert(hop.path)
            symlinks.append(hop)
        }
    }

    /// The deepest grant holding `path` (agent view); `strictly`: a proper ancestor only.
    func grant(containing path: String, strictly: Bool = false) -> Grant? {
        grants.last { within(path, $0.path) && (!strictly || !HostPath.same(path, $0.path)) }
    }

    /// Where the agent's `path` is on the host (lexically), or nil outside every grant.
    func hostPath(_ path: String) -> String? {
        guard let g = grant(containing: path) else { return nil }
        return g.source + HostPath.dropping(g.path == "/" ? 0 : g.path.utf8.count, from: path)
    }

    /// The agent's view of a canonical host path inside some grant's source.
    func agentPath(ofHost host: String) -> String? {
        guard let g = grants.filter({ within(host, $0.source) }).max(by: { $0.source.utf8.count < $1.source.utf8.count }) else { return nil }
        return g.path + HostPath.dropping(g.source == "/" ? 0 : g.source.utf8.count, from: host)
    }

    /// A protected path (agent view) as a mount target: its canonical agent path when it
    /// exists; when it does not and `placeholder` is set, the path a placeholder will take
    /// (recorded in `placeholders`) if it lies in a writable grant; nil otherwise.
    /// A write or exec deny whose path goes through a symlink inside a writable grant is
    /// refused (`.symlinkedProtectedPath`): the agent could replace the link with the real
    /// thing, and nothing would hold it.
    mutating func protectedTarget(_ path: String, placeholder: Bool) throws(AgentLaunchError) -> String? {
        guard let host = hostPath(path) else { return nil }
        if placeholder, let link = Self.firstSymlink(in: host, below: grant(containing: path)?.source ?? "/") {
            throw .unsupportedRule("the protected path \(path) goes through the symlink \(link) inside a writable grant; the agent could replace it, so the deny cannot hold. Remove the link (or make it a real directory) and run again")
        }
        if let real = Self.canonical(host) {
            // Another name for a protected file would write it past the read-only mount.
            var st = stat()
            if placeholder, lstat(real, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink > 1 {
                throw .unsupportedRule("the protected file \(path) has \(st.st_nlink) hard links; another name could write it past the deny. Replace the links with copies and run again")
            }
            if placeholder, st.st_mode & S_IFMT == S_IFDIR, let problem = Self.hardLinkedFile(in: real) {
                throw .unsupportedRule("the protected \(path) cannot be held: \(problem)")
            }
            return agentPath(ofHost: real)
        }
        // A mask over a path of the fresh home that holds a grant (deny `${home}/.config/gh`,
        // grant `${home}/.config/gh/x`): the grant's mount point makes it exist at launch.
        if !placeholder, let g = grant(containing: path), g.source != g.path,
           grants.contains(where: { HostPath.isBelow($0.path, path) }) {
            return path
        }
        guard placeholder, let g = grant(containing: path), g.writable else { return nil }
        // Resolve the existing part; what is missing is created (without following links).
        let deepest = AgentLaunchPlan.resolveDeepest(host)
        // No repository yet: one the agent creates (git init, clone) is its own, and git
        // must be free to fill it; the post-run git check reports what in it could run code.
        if Self.firstMissingComponent(of: deepest) == ".git" { return nil }
        // `.git` is a file (a linked worktree, a submodule checkout): its control files live
        // elsewhere; what is protected here is the redirection itself, the file.
        if let file = Self.existingNonDirectory(on: deepest) {
            guard file.hasSuffix("/.git"), let agent = agentPath(ofHost: file) else { return nil }
            return agent
        }
        guard let agent = agentPath(ofHost: deepest), let owner = grant(containing: agent), owner.writable else { return nil }
        if !placeholders.contains(deepest) { placeholders.append(deepest) }
        return agent
    }

    /// The mount operations, in order: grants (parents first; a grant inside another with
    /// the same access is already visible), links, then `after` (denies, pins, files).
    func mounts() -> [MountOperation] {
        var ops: [MountOperation] = []
        for g in grants {
            if g.path == "/proc" { ops.append(.proc()); continue }
            if let parent = grant(containing: g.path, strictly: true), parent.access == g.access, parent.path != "/proc",
               g.source == parent.source + g.path.dropFirst(parent.path == "/" ? 0 : parent.path.count) {
                continue
            }
            ops.append(.grant(path: g.path, source: g.source, writable: g.writable, exec: g.exec))
        }
        ops += symlinks.map { .symlink(path: $0.path, target: $0.target) }
        if !grants.contains(where: { $0.path == "/proc" }) { ops.append(.proc()) }
        return ops
    }

    /// Why the directory `root` cannot be protected by a read-only mount: a regular file
    /// under it with more than one link (found without following links), or a tree deeper
    /// than 64 levels or larger than 100,000 entries (refused rather than left unchecked).
    static func hardLinkedFile(in root: String) -> String? {
        var budget = 100_000
        func walk(_ fd: Int32, _ dir: String, _ depth: Int) -> String? {
            guard depth < 64 else { return "\(dir) is deeper than 64 levels, too deep to check for hard links" }
            guard let (entries, truncated) = NoFollowFiles.entries(fd, limit: budget) else { return nil }
            budget -= entries.count
            if truncated || budget < 0 { return "it holds more than 100,000 entries, too many to check for hard links" }
            for entry in entries {
                let path = dir + "/" + TerminalText.escape(String(decoding: entry.name, as: UTF8.self))
                guard let status = NoFollowFiles.status(fd, entry.name) else { continue }
                if status.isRegular, status.links > 1 {
                    return "\(path) has \(status.links) hard links, and another name could write it past the deny; replace the links with copies"
                }
                guard status.isDirectory else { continue }
                let child = NoFollowFiles.openDirectory(fd, entry.name)
                guard child >= 0 else { continue }
                defer { close(child) }
                if let found = walk(child, path, depth + 1) { return found }
            }
            return nil
        }
        let top = NoFollowFiles.openDirectoryPath(Array(root.utf8))
        guard top >= 0 else { return nil }
        defer { close(top) }
        return walk(top, root, 0)
    }

    /// The first symlink among the components of `path` strictly below `root`, if any.
    static func firstSymlink(in path: String, below root: String) -> String? {
        guard HostPath.hasPrefix(path, root) else { return nil }
        var current = root == "/" ? "" : root
        for name in HostPath.components(HostPath.dropping(current.utf8.count, from: path)) {
            current += "/" + name
            var st = stat()
            guard lstat(current, &st) == 0 else { return nil }
            if st.st_mode & S_IFMT == S_IFLNK { return current }
        }
        return nil
    }

    /// The deepest existing component of `path` when it is not a directory (so nothing can
    /// be created below it), else nil.
    static func existingNonDirectory(on path: String) -> String? {
        var current = ""
        for name in HostPath.components(path) {
            let next = current + "/" + name
            var st = stat()
            guard lstat(next, &st) == 0 else { break }
            current = next
        }
        var st = stat()
        guard !current.isEmpty, lstat(current, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT == S_IFDIR ? nil : current
    }

    /// The name of the outermost component of `path` that does not exist on the host.
    static func firstMissingComponent(of path: String) -> String? {
        var current = ""
        for name in HostPath.components(path) {
            current += "/" + name
            if access(current, F_OK) != 0 { return name }
        }
        return nil
    }

    private func within(_ p: String, _ root: String) -> Bool { HostPath.isWithin(p, root) }

    static func canonical(_ path: String) -> String? { AgentLaunchPlan.resolve(path) }

    /// Resolves `path` component by component, recording every symlink met (its path and
    /// target as written). Nil when it does not exist or links loop.
    static func resolveRecordingLinks(_ path: String) -> (String, [(path: String, target: String)])? {
        var pending = HostPath.components(path)
        var current = ""
        var links: [(path: String, target: String)] = []
        var budget = 40
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == "." { continue }
            if name == ".." { current = HostPath.parent(current); continue }
            let next = current + "/" + name
            var st = stat()
            guard lstat(next, &st) == 0 else { return nil }
            if st.st_mode & S_IFMT == S_IFLNK {
                budget -= 1
                guard budget > 0, let target = readLink(next) else { return nil }
                links.append((next, target))
                if HostPath.isAbsolute(target) { current = "" }
                pending = HostPath.components(target) + pending
                continue
            }
            current = next
        }
        return (current.isEmpty ? "/" : current, links)
    }

    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
