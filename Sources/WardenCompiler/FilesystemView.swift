import WardenPolicy

/// What the agent's world answers to one file access, as the runtime builds it (see
/// AgentWorld in WardenRuntime): a fresh root holding only the granted paths, each mounted
/// with the access of the deepest grant holding it, the denies mounted on top, and the same
/// grants again as Landlock rules. `warden explain` prints it beside the rule decision.
public struct FsWorldAnswer: Sendable, Hashable {
    public enum Layer: String, Sendable, Hashable {
        /// The access succeeds.
        case none
        /// The mount layer: the path is absent, read-only, noexec or masked.
        case mount
        /// Landlock (the mounts would let it through).
        case landlock
    }

    /// Whether the access succeeds in the agent's world.
    public var allowed: Bool
    /// The layer that refuses it first.
    public var layer: Layer
    /// The error the agent gets (`ENOENT`, `EROFS`, `EACCES`), nil when allowed or when
    /// the access "succeeds" on an empty stand-in (a masked path).
    public var errno: String?
    /// One sentence: what the agent sees at the path.
    public var statement: String
    /// The access is allowed only in the run's fresh home, a throwaway directory holding
    /// nothing of the host's home: it reaches no host file (`warden diff` counts it denied).
    public var inFreshHome = false

    /// The enforcing mechanism as `Decision.mechanism` names it.
    public var mechanism: String {
        switch layer {
        case .none: return "landlock"
        case .landlock: return "landlock (\(errno ?? "EACCES"))"
        case .mount:
            switch errno {
            case "ENOENT": return "mount (absent from the agent's world: ENOENT)"
            case "EROFS": return "mount (read-only: EROFS)"
            case "EACCES": return "mount (noexec: EACCES)"
            default: return "mount (path masked)"
            }
        }
    }
}

extension EffectivePolicy {
    /// What the agent's world answers to `access` on `path` (agent view: `${tmp}` is its
    /// `/tmp`). Paths are compared lexically, like the rules: a path under another
    /// variable or a host path the policy does not name is judged by the rules that name it.
    public func worldAnswer(_ access: FsAccess, _ asked: PolicyPath) -> FsWorldAnswer {
        // The agent's `/tmp` is the run's `${tmp}`, for the path asked and for the rules'
        // paths alike (the runtime expands a rule on `/tmp` to the agent's `/tmp` too).
        let path = Self.agentView(asked)
        let allows = worldGrants.map { g -> FsGrant in var g = g; g.path = Self.agentView(g.path); return g }
        let holding = allows.filter { Self.covers($0.path, path) }
        guard let depth = holding.map({ Self.depth($0.path) }).max() else {
            // Outside every grant: absent, unless it is an ancestor of a grant (a skeleton
            // directory of the fresh root, read-only, listing only the way to the grants).
            let below = allows.filter { $0.path.isWithin(path) || (path.base == nil && path.components.isEmpty) }
            guard !below.isEmpty else {
                return FsWorldAnswer(allowed: false, layer: .mount, errno: "ENOENT",
                                     statement: "\(path) does not exist in the agent's world: no rule grants it or anything under it (ENOENT)")
            }
            // Children on the way to each grant below: a name, or (from `/`) a variable's path.
            let children = Set(below.map { g -> String in
                if g.path.base != path.base { return g.path.base.map { "${\($0.rawValue)}" } ?? "" }
                return g.path.components.count > path.components.count ? g.path.components[path.components.count] : ""
            }).filter { !$0.isEmpty }.sorted()
            let listing = children.isEmpty ? "" : " listing only \(children.joined(separator: ", "))"
            switch access {
            case .read:
                return FsWorldAnswer(allowed: false, layer: .landlock, errno: "EACCES",
                                     statement: "\(path) is a read-only skeleton directory of the agent's root\(listing), on the way to a grant; it can be traversed and stat'ed, but reading its entries is refused by Landlock (EACCES): no rule grants read on it")
            case .write:
                return FsWorldAnswer(allowed: false, layer: .mount, errno: "EROFS",
                                     statement: "\(path) is a read-only skeleton directory of the agent's root\(listing), on the way to a grant; nothing can be created in it (EROFS)")
            case .exec:
                return FsWorldAnswer(allowed: false, layer: .mount, errno: "EACCES",
                                     statement: "\(path) is a skeleton directory of the agent's root\(listing); nothing in it can be executed (EACCES)")
            }
        }
        // The mount holding the path: the deepest grant (grants of one path merge).
        let mountAccess = holding.filter { Self.depth($0.path) == depth }.reduce(into: Set<FsAccess>()) { $0.formUnion($1.access) }
        let mountPath = holding.first { Self.depth($0.path) == depth }!.path
        let denied = fs.contains { $0.effect == .deny && $0.access.contains(access) && Self.covers(Self.agentView($0.path), path) }
        // The run's fresh home holds nothing of the real home: a path in it that no rule
        // grants is absent at launch (the agent may create it, where it may write).
        let freshHome = mountPath == PolicyPath(base: .home, components: []) && !fs.contains { $0.effect == .allow && $0.path == mountPath }
        if freshHome, access == .read, denied || path != mountPath {
            return FsWorldAnswer(allowed: !denied, layer: denied ? .mount : .none, errno: denied ? "ENOENT" : nil,
                                 statement: "\(path) is in the run's fresh home, which holds nothing of the real home: it does not exist at launch (ENOENT)"
                                    + (denied ? "; the deny has nothing of the real home to hide" : "; the agent can read what it creates there"),
                                 inFreshHome: !denied)
        }
        if denied {
            switch access {
            case .read:
                return FsWorldAnswer(allowed: false, layer: .mount, errno: nil,
                                     statement: "\(path) is masked: the agent sees an empty read-only directory (or an empty file) in its place")
            case .write:
                return FsWorldAnswer(allowed: false, layer: .mount, errno: "EROFS",
                                     statement: "\(path) is a read-only bind (on an empty placeholder if missing at launch): writes fail with EROFS")
            case .exec:
                return FsWorldAnswer(allowed: false, layer: .mount, errno: "EACCES",
                                     statement: "\(path) is a noexec bind: executing fails with EACCES")
            }
        }
        if mountAccess.contains(access) {
            return FsWorldAnswer(allowed: true, layer: .none, errno: nil,
                                 statement: "\(path) is inside the grant \(mountPath), mounted \(Self.accessWords(mountAccess)); Landlock allows \(access.rawValue) there",
                                 inFreshHome: freshHome)
        }
        let landlockAllows = holding.contains { $0.access.contains(access) }
        switch access {
        case .write:
            let more = landlockAllows ? " (a rule higher up allows write, but this deeper grant's mount is read-only and wins)" : ""
            return FsWorldAnswer(allowed: false, layer: .mount, errno: "EROFS",
                                 statement: "\(path) is inside the grant \(mountPath), mounted read-only: writes fail with EROFS\(more)")
        case .exec:
            let more = landlockAllows ? " (a rule higher up allows exec, but this deeper grant's mount is noexec and wins)" : ""
            return FsWorldAnswer(allowed: false, layer: .mount, errno: "EACCES",
                                 statement: "\(path) is inside the grant \(mountPath), mounted noexec: executing fails with EACCES\(more)")
        case .read:
            if landlockAllows {
                return FsWorldAnswer(allowed: true, layer: .none, errno: nil,
                                     statement: "\(path) is inside the grant \(mountPath); Landlock allows read there through a rule higher up",
                                     inFreshHome: freshHome)
            }
            return FsWorldAnswer(allowed: false, layer: .landlock, errno: "EACCES",
                                 statement: "\(path) is inside the grant \(mountPath) (\(Self.accessWords(mountAccess))), but no rule grants read: Landlock refuses it (EACCES)")
        }
    }

    /// The lines `warden explain` adds for a path: the parents a grant makes appear, and
    /// the directories the run creates.
    public func worldNotes(_ path: PolicyPath) -> [String] {
        var notes: [String] = []
        let allows = worldGrants
        for created in createdPaths where path.isWithin(created) || created.isWithin(path) {
            notes.append("the run creates \(created) (and its missing parents) before launch when it is missing (`create`, no-follow walk from the workspace; refused if a component is a symbolic link); it stays after the run")
        }
        // A grant on `path` itself: its parents outside every grant are skeleton directories.
        if allows.contains(where: { $0.path == path }), path.components.count > 0 {
            var parents: [PolicyPath] = []
            var p = path
            // (`/` itself is always the skeleton's root; a variable's own path is bound at launch.)
            while p.components.count > 1 {
                p.components.removeLast()
                if allows.contains(where: { Self.covers($0.path, p) }) { break }
                parents.append(p)
            }
            if !parents.isEmpty {
                notes.append("this grant makes its parents \(parents.reversed().map(\.description).joined(separator: ", ")) exist as read-only skeleton directories listing only the way to it; nothing else of them is visible")
            }
        }
        return notes
    }

    /// The allow grants the run's world is built from: the policy's, plus the run's fresh
    /// home (`${home}`, read and write, noexec) unless the policy grants `${home}` itself
    /// (then it is the real home with that access; see AgentHome in WardenRuntime).
    var worldGrants: [FsGrant] {
        var allows = fs.filter { $0.effect == .allow && !$0.access.isEmpty }
        let home = PolicyPath(base: .home, components: [])
        if !allows.contains(where: { $0.path == home }) {
            allows.append(FsGrant(effect: .allow, access: [.read, .write], path: home,
                                  provenance: .builtin("fresh home", because: "every run gets a fresh, writable, noexec ${home}")))
        }
        return allows
    }

    /// `path` as the agent sees it: `/tmp/…` is the run's `${tmp}/…`.
    static func agentView(_ path: PolicyPath) -> PolicyPath {
        guard path.base == nil, path.components.first == "tmp" else { return path }
        return PolicyPath(base: .tmp, components: Array(path.components.dropFirst()))
    }

    static func depth(_ p: PolicyPath) -> Int { p.base == nil && p.components.isEmpty ? -1 : p.components.count + (p.base == nil ? 0 : 1000) }

    static func accessWords(_ a: Set<FsAccess>) -> String {
        let words = FsAccess.allCases.filter { a.contains($0) }.map(\.rawValue)
        return (a.contains(.write) ? "writable, " : "read-only, ") + (a.contains(.exec) ? "exec" : "noexec") + " (" + words.joined(separator: ", ") + ")"
    }
}
