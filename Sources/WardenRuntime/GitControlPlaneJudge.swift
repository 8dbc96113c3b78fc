/// Compares two walks of a workspace and says which differences could make a later git
/// command run code or read configuration, hooks or objects from elsewhere.
///
/// Only what changed is judged: a `commondir` or hook that was there before the run is the
/// operator's. Redirections are resolved lexically (no link is followed) against the
/// workspace's canonical path.
struct GitControlPlaneJudge {
    typealias Finding = GitControlPlane.Finding
    typealias Record = GitTreeScan.Record

    let before: GitTreeScan
    let after: GitTreeScan
    /// Canonical absolute workspace path, as components.
    let workspace: [[UInt8]]

    init(before: GitTreeScan, after: GitTreeScan, workspace: [UInt8]) {
        self.before = before
        self.after = after
        self.workspace = GitPathBytes.components(workspace)
    }

    func findings() -> [Finding] {
        var out: [Finding] = []
        // Repositories created during the run (git init, clone): one finding each, and only
        // when something in them would run code or redirect git (`activeContent`); a plain
        // clone's config and sample hooks are what git itself writes.
        var newRepositories: [[UInt8]] = []
        for (path, kind) in after.gitDirs where before.gitDirs[path] == nil {
            switch kind {
            case .repository:
                newRepositories.append(path)
                guard let active = activeContent(in: path) else { continue }
                let reason = path == GitTreeScanner.dotGit
                    ? "a repository created during the run, with \(active); git uses it in the workspace"
                    : "a repository created below the workspace root, with \(active); git uses it when the operator's git recurses into it (a submodule path) or runs there"
                out.append(Finding(kind: .repository, path: path, reason: reason))
            case .module:
                newRepositories.append(path)
                guard let active = activeContent(in: path) else { continue }
                out.append(Finding(kind: .repository, path: path, reason: "a submodule repository created during the run, with \(active): git uses it for that submodule"))
            case .linked:
                newRepositories.append(path)
                guard let active = activeContent(in: path) else { continue }
                out.append(Finding(kind: .repository, path: path, reason: "a git directory created during the run where a .git file points, with \(active): git uses it"))
            case .worktree:
                break  // `git worktree add`: judged file by file below.
            }
        }
        func insideNewRepository(_ path: [UInt8]) -> Bool {
            newRepositories.contains { path == $0 || Self.isBelow(path, $0) }
        }

        // New and changed entries, parents before children (bytewise order).
        var newDirectories: [[UInt8]] = []
        for path in after.records.keys.sorted(by: Self.bytewise) {
            guard let record = after.records[path], !insideNewRepository(path) else { continue }
            let old = before.records[path]
            if let old, old.role == record.role, old.fingerprint == record.fingerprint { continue }
            if old == nil, newDirectories.contains(where: { Self.isBelow(path, $0) }) { continue }
            guard let finding = judge(path, record, old) else { continue }
            out.append(finding)
            if old == nil, record.fingerprint.kind == .directory { newDirectories.append(path) }
        }

        // Removed control entries (a removed directory is reported once; what was inside a
        // directory now replaced by a link or file is covered by the finding for it).
        var removed: [[UInt8]] = before.records.compactMap { path, record in
            guard record.fingerprint.kind == .directory, let now = after.records[path], now.fingerprint.kind != .directory else { return nil }
            return path
        }
        for path in before.records.keys.sorted(by: Self.bytewise) where after.records[path] == nil {
            guard let record = before.records[path], record.role != .dataLink else { continue }
            guard !removed.contains(where: { Self.isBelow(path, $0) }), !insideNewRepository(path) else { continue }
            removed.append(path)
            out.append(Finding(kind: .removed, path: path, reason: "\(Self.describe(record.role)) that existed before the run is gone"))
        }

        // What was not checked.
        var seen = Set<GitTreeScan.Problem>()
        // A HEAD git refuses is the agent's doing only if it was not so before the run (a
        // directory that merely looks like part of a repository is not a finding).
        let beforeProblems = before.problems.filter { $0.kind != .repository }
        let afterProblems = after.problems.filter { $0.kind != .repository || !before.problems.contains($0) }
        for problem in afterProblems + beforeProblems where seen.insert(problem).inserted {
            out.append(Finding(kind: problem.kind, path: problem.path, reason: problem.reason))
        }
        return Self.ordered(out)
    }

    /// What in the new repository at `repository` could run code or send git elsewhere: a
    /// config setting known to run programs or read other files, an active hook (executable,
    /// not a `.sample`), alternates, a commondir elsewhere, a link, rebase state, a file a
    /// config names. Nil when there is none.
    private func activeContent(in repository: [UInt8]) -> String? {
        var found: [String] = []
        for (path, record) in after.records where Self.isBelow(path, repository) {
            let fp = record.fingerprint
            let name = String(decoding: GitPathBytes.components(path).last ?? [], as: UTF8.self)
            switch record.role {
            case .config:
                guard fp.kind == .file, let content = record.content else { found.append("an unreadable config"); continue }
                // Anything beyond what git init and clone write: parsers differ, and the list
                // of settings that run programs keeps growing.
                let keys = GitConfigText(content).settings.map(\.key).filter { !GitConfigText.isOrdinaryForNewRepository($0) }
                if let key = keys.first { found.append("config setting \(GitPathBytes.display(Array(key.utf8)))") }
            case .hook:
                if fp.kind == .symlink || (fp.kind == .file && fp.permissions & 0o111 != 0 && !name.hasSuffix(".sample")) {
                    found.append("active hook \(GitPathBytes.display(Array(name.utf8)))")
                }
            case .alternates:
                if fp.digest != Self.emptyDigest { found.append("alternates") }
            case .commondir:
                if judgeCommondir(path, record) != nil { found.append("a commondir elsewhere") }
            case .sequence:
                found.append("rebase or sequencer state")
            case .referenced, .dataLink:
                if judge(path, record, nil) != nil { found.append("\(Self.describe(record.role)) \(display(path))") }
            case .dotGit, .worktreeGitdir, .info, .control:
                if fp.kind == .symlink { found.append("a symbolic link \(display(path))") }
            }
        }
        guard !found.isEmpty else { return nil }
        return found.sorted().prefix(4).joined(separator: ", ") + (found.count > 4 ? " and \(found.count - 4) more" : "")
    }

    /// SHA-256 of no bytes.
    static let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: - One entry

    private func judge(_ path: [UInt8], _ record: Record, _ old: Record?) -> Finding? {
        let fp = record.fingerprint
        let verb = old == nil ? "new" : "changed"
        // An empty, non-executable file says nothing to git: no config, no alternates, no
        // hook. (Warden's own placeholders, left in place while another run shares the
        // workspace, have this shape; commondir's "." is judged below.)
        if old == nil, fp.kind == .file, fp.permissions & 0o111 == 0, fp.digest == Self.emptyDigest, record.role != .dotGit {
            return nil
        }
        if fp.kind == .symlink, record.role != .dotGit, record.role != .dataLink {
            return Finding(kind: .symlink, path: path, reason: "\(verb) symbolic link to \(display(fp.target ?? [])): git would follow it (\(Self.describe(record.role)))")
        }
        switch record.role {
        case .dotGit:
            return judgeDotGit(path, record, old)
        case .config:
            return Finding(kind: .config, path: path, reason: configReason(record, old))
        case .commondir:
            return judgeCommondir(path, record)
        case .worktreeGitdir:
            guard fp.kind == .file else { return Finding(kind: .worktreeGitdir, path: path, reason: "\(verb) \(fp.kind.rawValue) where git expects a file") }
            let target = Self.trimmedTrailingWhitespace(Self.beforeNUL(record.content ?? []))
            let resolved = GitPathBytes.resolve(target, from: workspace + directory(of: path))
            if GitPathBytes.isInside(resolved, workspace) { return nil }
            return Finding(kind: .worktreeGitdir, path: path, reason: "records a linked worktree at \(displayAbsolute(resolved)), outside the workspace: `git worktree` commands act on that path")
        case .alternates:
            return Finding(kind: .alternates, path: path, reason: "\(verb): makes git read objects from \(alternatesTargets(path, record))")
        case .hook:
            return Finding(kind: .hook, path: path, reason: hookReason(record, old))
        case .info:
            let name = String(decoding: GitPathBytes.components(path).last ?? [], as: UTF8.self)
            // Which files git ignores, which it checks out, the refs list `git gc` writes for
            // dumb HTTP: nothing runs.
            if fp.kind == .file, ["exclude", "sparse-checkout", "refs"].contains(name), directory(of: path).last == Array("info".utf8) { return nil }
            let why = name == "attributes" && fp.kind == .file
                ? "can route files through filter and diff drivers, which run programs"
                : "git reads what is in info/"
            return Finding(kind: .info, path: path, reason: "\(verb) \(fp.kind.rawValue): \(why)")
        case .sequence:
            return Finding(kind: .sequence, path: path, reason: "\(verb) \(fp.kind.rawValue) of an interrupted rebase, cherry-pick or revert: `git rebase --continue` runs its `exec` lines")
        case .control:
            return Finding(kind: .control, path: path, reason: "\(verb) \(fp.kind.rawValue) in git's control directory that git does not need to record commits")
        case .dataLink:
            guard fp.kind == .symlink, let target = fp.target else { return nil }
            let resolved = GitPathBytes.resolve(target, from: workspace + directory(of: path))
            if let gitDir = parentGitDir(of: path), GitPathBytes.isInside(resolved, workspace + GitPathBytes.components(gitDir)) { return nil }
            return Finding(kind: .symlink, path: path, reason: "\(verb) symbolic link to \(display(target)), which leads out of the git directory")
        case .referenced(let config, let key):
            let what: String
            switch fp.kind {
            case .missing: what = "is gone"
            case .unreachable: what = "is no longer reachable without following a link"
            default: what = old == nil ? "was created" : "changed"
            }
            return Finding(kind: .referenced, path: path, reason: "named by \(key) in \(GitPathBytes.display(config)) \(what): git runs or reads it")
        }
    }

    private func judgeDotGit(_ path: [UInt8], _ record: Record, _ old: Record?) -> Finding? {
        let fp = record.fingerprint
        let isRoot = path == GitTreeScanner.dotGit
        switch fp.kind {
        case .directory:
            // A new directory is a new repository (reported above); a mode change is harmless.
            guard let old, old.fingerprint.kind != .directory else { return nil }
            return Finding(kind: .repository, path: path, reason: "was a \(old.fingerprint.kind.rawValue) before the run, now a repository the agent made")
        case .symlink:
            return Finding(kind: .symlink, path: path, reason: "a .git that is a symbolic link to \(display(fp.target ?? [])): git uses whatever it points at")
        case .file:
            guard let target = GitTreeScan.gitfileTarget(record.content ?? []) else {
                return Finding(kind: .gitfile, path: path, reason: "a .git file without `gitdir:` (\(fp.digest?.hasPrefix("meta:") == true ? "too large to read" : "git refuses it, but it was written during the run"))")
            }
            let resolved = GitPathBytes.resolve(target, from: workspace + directory(of: path))
            if !isRoot, GitPathBytes.isInside(resolved, workspace), resolved.count > workspace.count {
                let rel = Array(resolved.dropFirst(workspace.count).joined(separator: [GitPathBytes.slash]))
                switch after.gitDirs[rel] {
                case .module?, .worktree?, .linked?: return nil  // a checked submodule, linked worktree or git directory
                default: break
                }
            }
            let place = GitPathBytes.isInside(resolved, workspace) ? "inside the workspace" : "outside the workspace"
            let whose = isRoot ? "points the workspace's repository at" : "makes git in this directory use"
            return Finding(kind: .gitfile, path: path, reason: "\(whose) \(displayAbsolute(resolved)) (\(place)): git takes config and hooks from there")
        default:
            return Finding(kind: .control, path: path, reason: "a .git that is a \(fp.kind.rawValue)")
        }
    }

    private func judgeCommondir(_ path: [UInt8], _ record: Record) -> Finding? {
        guard record.fingerprint.kind == .file else {
            return Finding(kind: .commondir, path: path, reason: "a commondir that is a \(record.fingerprint.kind.rawValue)")
        }
        var target = Self.beforeNUL(record.content ?? [])
        while target.last == 0x0A { target.removeLast() }  // git strips trailing newlines only
        let gitDir = directory(of: path)
        let resolved = GitPathBytes.resolve(target, from: workspace + gitDir)
        if case .worktree(let owner)? = after.gitDirs[Array(gitDir.joined(separator: [GitPathBytes.slash]))],
           resolved == workspace + GitPathBytes.components(owner) {
            return nil  // `git worktree add`: the worktree shares its own repository
        }
        if resolved == workspace + gitDir { return nil }  // `.`: the repository itself (Warden's placeholder)
        if record.content == nil {
            return Finding(kind: .commondir, path: path, reason: "a commondir too large to read: git takes config, hooks and refs from where it points")
        }
        return Finding(kind: .commondir, path: path, reason: "makes git take config, hooks and refs from \(displayAbsolute(resolved)), not from this repository's own git directory")
    }

    // MARK: - Reasons

    private func configReason(_ record: Record, _ old: Record?) -> String {
        let verb = old == nil ? "new" : "changed"
        guard record.fingerprint.kind == .file else { return "\(verb) \(record.fingerprint.kind.rawValue) where git reads its config" }
        guard let content = record.content else { return "\(verb), too large to read: git obeys it on the host" }
        let previous = Set(GitConfigText(old?.content ?? []).settings)
        let added = GitConfigText(content).settings.filter { !previous.contains($0) }
        var dangerous: [String] = []
        for s in added where GitConfigText.isDangerous(s.key) && !dangerous.contains(s.key) { dangerous.append(s.key) }
        if !dangerous.isEmpty {
            return "\(verb): sets \(dangerous.map { GitPathBytes.display(Array($0.utf8)) }.joined(separator: ", ")), which run programs or read other files; git obeys it on the host"
        }
        return "\(verb): git obeys it on the host (no setting known to run code was added; review it)"
    }

    private func hookReason(_ record: Record, _ old: Record?) -> String {
        let fp = record.fingerprint
        guard fp.kind == .file else { return "\(old == nil ? "new" : "changed") \(fp.kind.rawValue) in a hooks directory" }
        let executable = fp.permissions & 0o111 != 0
        let wasExecutable = (old?.fingerprint.permissions ?? 0) & 0o111 != 0
        switch (old, executable) {
        case (nil, true): return "new executable hook: git runs it"
        case (nil, false): return "new file in a hooks directory (not executable yet)"
        case (let old?, true) where old.fingerprint.digest != fp.digest: return "changed executable hook: git runs it"
        case (_, true) where !wasExecutable: return "made executable: git runs it"
        default: return "changed file in a hooks directory"
        }
    }

    private func alternatesTargets(_ path: [UInt8], _ record: Record) -> String {
        guard let content = record.content else { return "paths in a file too large to read" }
        let objectsDir = directory(of: directory(of: path))  // objects/info/alternates -> objects
        var targets: [String] = []
        for line in content.split(separator: 0x0A) where line.first != UInt8(ascii: "#") && !line.isEmpty {
            if targets.count == 3 { targets.append("..."); break }
            let resolved = GitPathBytes.resolve(Self.trimmedTrailingWhitespace(Array(line)), from: workspace + objectsDir)
            targets.append(displayAbsolute(resolved))
        }
        return targets.isEmpty ? "nowhere yet" : targets.joined(separator: ", ")
    }

    static func describe(_ role: GitTreeScan.Role) -> String {
        switch role {
        case .dotGit: return "a .git"
        case .config: return "a git config"
        case .commondir: return "a commondir"
        case .worktreeGitdir: return "a linked worktree's gitdir"
        case .alternates: return "an alternates file"
        case .hook: return "a hook"
        case .info: return "a file in info/"
        case .sequence: return "rebase or sequencer state"
        case .control: return "a control file"
        case .dataLink: return "a link among repository data"
        case .referenced(_, let key): return "a path named by \(key)"
        }
    }

    // MARK: - Paths

    /// The directory of a workspace-relative path, as components.
    private func directory(of path: [UInt8]) -> [[UInt8]] { Array(GitPathBytes.components(path).dropLast()) }

    private func directory(of components: [[UInt8]]) -> [[UInt8]] { Array(components.dropLast()) }

    /// The innermost git directory holding `path`.
    private func parentGitDir(of path: [UInt8]) -> [UInt8]? {
        after.gitDirs.keys.filter { Self.isBelow(path, $0) }.max { $0.count < $1.count }
    }

    private func display(_ bytes: [UInt8]) -> String { GitPathBytes.display(bytes) }

    private func displayAbsolute(_ components: [[UInt8]]) -> String { GitPathBytes.display(GitPathBytes.absolute(components)) }

    static func isBelow(_ path: [UInt8], _ ancestor: [UInt8]) -> Bool { GitPathBytes.isBelow(path, ancestor) }

    static func bytewise(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    static func beforeNUL(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.prefix { $0 != 0 }) }

    static func trimmedTrailingWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        while let last = b.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { b.removeLast() }
        return b
    }

    /// Path bytes, then kind, then reason: the same tree always gives the same list.
    static func ordered(_ findings: [Finding]) -> [Finding] {
        findings.sorted {
            if $0.path != $1.path { return $0.path.lexicographicallyPrecedes($1.path) }
            if $0.kind != $1.kind { return $0.kind < $1.kind }
            return $0.reason < $1.reason
        }
    }
}
