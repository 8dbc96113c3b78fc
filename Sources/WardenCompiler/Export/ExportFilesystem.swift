import WardenPolicy

/// The filesystem plan seen by engines that have mounts but no Landlock: each allowed path
/// with the access it ends up with (Landlock access is inherited down the tree, so a path's
/// access is the union of its own grant and its ancestors'), and the deny mounts.
struct ExportFilesystem {
    enum Place: Equatable {
        /// `/proc`: the engine's own fresh proc mount.
        case proc
        /// A device node the engine provides by default (`/dev/null`, ...).
        case device
        /// `${tmp}`: a private tmpfs.
        case tmp
        /// `${workspace}` or inside it.
        case workspace
        /// `${home}` or inside it.
        case home
        /// A host (or image) path.
        case system
    }

    struct Grant {
        var path: PolicyPath
        var expanded: String
        var access: Set<FsAccess>
        var place: Place
        /// Whether an ancestor grant already gives exactly this access (no mount of its own needed).
        var inherited: Bool
        var location: String
    }

    var grants: [Grant]
    var mounts: [FilesystemPlan.MountStep]

    static let devices: Set<String> = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]

    init(_ policy: EffectivePolicy, bindings: ExportBindings) {
        let plan = policy.filesystemPlan
        var out: [Grant] = []
        let sorted = plan.landlock.sorted { ($0.path.components.count, $0.path.description) < ($1.path.components.count, $1.path.description) }
        for g in sorted {
            var access = Set(g.access)
            var ancestor: Set<FsAccess>?
            for other in sorted where other.path != g.path && EffectivePolicy.covers(other.path, g.path) {
                access.formUnion(other.access)
                ancestor = (ancestor ?? []).union(other.access)
            }
            let expanded = bindings.expand(g.path)
            let place: Place
            switch g.path.base {
            case .tmp: place = .tmp
            case .workspace: place = .workspace
            case .home: place = .home
            case nil:
                if expanded == "/proc" { place = .proc } else if Self.devices.contains(expanded) { place = .device } else { place = .system }
            }
            out.append(Grant(path: g.path, expanded: expanded, access: access, place: place,
                             inherited: ancestor == access, location: g.provenance.first?.location ?? "policy"))
        }
        grants = out
        mounts = plan.mounts
    }

    /// Paths granted one access kind, for messages (`no path` when none).
    func paths(with access: FsAccess) -> String {
        let list = grants.filter { $0.access.contains(access) && $0.place != .device && $0.place != .proc && !$0.inherited }.map(\.path.description)
        return list.isEmpty ? "no path" : list.joined(separator: ", ")
    }

    /// Grants a bind mount cannot express: write or exec without read (a bind makes the path readable).
    func unreadableGrants() -> [Grant] {
        grants.filter { !$0.access.contains(.read) && $0.place != .device }
    }
}
