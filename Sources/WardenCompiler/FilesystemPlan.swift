import WardenPolicy

/// How the filesystem rules are enforced: Landlock for the allowed subtrees, and mount
/// steps for what Landlock cannot express (a deny inside an allowed subtree).
/// Paths stay unexpanded: `${workspace}`, `${home}` and `${tmp}` bind at launch.
public struct FilesystemPlan: Sendable, Hashable, Encodable {
    /// A subtree the agent may access, with the access kinds.
    public struct LandlockGrant: Sendable, Hashable, Encodable {
        public var path: PolicyPath
        public var access: [FsAccess]
        public var provenance: [Provenance]
    }

    /// A mount operation applied inside the agent's mount namespace.
    public struct MountStep: Sendable, Hashable, Encodable {
        public enum Kind: String, Sendable, Hashable, Codable {
            /// Hide the path: an empty read-only tmpfs over a directory, /dev/null over a file.
            case mask
            /// Bind the path read-only onto itself.
            case readOnly = "read-only"
            /// Bind the path with noexec onto itself.
            case noExec = "noexec"
        }
        public var kind: Kind
        public var path: PolicyPath
        public var provenance: [Provenance]
    }

    public var landlock: [LandlockGrant]
    public var mounts: [MountStep]
    /// Directories the run creates before launch (`create`); nil (not in the JSON) when none.
    public var create: [PolicyPath]? = nil
}

extension EffectivePolicy {
    /// The filesystem plan: deny wins over allow, whatever the nesting.
    public var filesystemPlan: FilesystemPlan {
        let allows = fs.filter { $0.effect == .allow }
        let denies = fs.filter { $0.effect == .deny }

        // Landlock grants: each allowed path minus the access kinds a deny on it or an
        // ancestor takes away (Landlock access is inherited down the tree).
        var byPath: [PolicyPath: (access: Set<FsAccess>, provenance: [Provenance])] = [:]
        for grant in allows {
            var access = grant.access
            for deny in denies where Self.covers(deny.path, grant.path) { access.subtract(deny.access) }
            guard !access.isEmpty else { continue }
            var entry = byPath[grant.path] ?? ([], [])
            entry.access.formUnion(access)
            entry.provenance.append(grant.provenance)
            byPath[grant.path] = entry
        }
        let landlock = byPath.map { path, entry in
            FilesystemPlan.LandlockGrant(path: path, access: FsAccess.allCases.filter(entry.access.contains),
                                         provenance: entry.provenance)
        }.sorted { $0.path.description < $1.path.description }

        // Mount steps: a deny strictly inside a subtree allowed for the same access kind.
        var steps: [FilesystemPlan.MountStep] = []
        for deny in denies {
            let inside = { (access: FsAccess) in
                allows.contains { $0.access.contains(access) && Self.covers($0.path, deny.path) && $0.path != deny.path }
            }
            if deny.access.contains(.read), inside(.read) || inside(.write) || inside(.exec) {
                steps.append(.init(kind: .mask, path: deny.path, provenance: [deny.provenance]))
                continue
            }
            if deny.access.contains(.write), inside(.write) {
                steps.append(.init(kind: .readOnly, path: deny.path, provenance: [deny.provenance]))
            }
            if deny.access.contains(.exec), inside(.exec) {
                steps.append(.init(kind: .noExec, path: deny.path, provenance: [deny.provenance]))
            }
        }
        // Merge duplicates and order parents before children so inner mounts land on top.
        var merged: [FilesystemPlan.MountStep] = []
        for step in steps {
            if let i = merged.firstIndex(where: { $0.kind == step.kind && $0.path == step.path }) {
                merged[i].provenance.append(contentsOf: step.provenance)
            } else {
                merged.append(step)
            }
        }
        merged.sort { ($0.path.components.count, $0.path.description, $0.kind.rawValue)
            < ($1.path.components.count, $1.path.description, $1.kind.rawValue) }
        return FilesystemPlan(landlock: landlock, mounts: merged, create: createdPaths.isEmpty ? nil : createdPaths)
    }
}

// Paths appear in the plan as written (`${workspace}/.git/hooks`), not as components.
extension FilesystemPlan.LandlockGrant {
    private enum CodingKeys: String, CodingKey { case path, access, provenance }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path.description, forKey: .path)
        try c.encode(access, forKey: .access)
        try c.encode(provenance, forKey: .provenance)
    }
}

extension FilesystemPlan.MountStep {
    private enum CodingKeys: String, CodingKey { case kind, path, provenance }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(path.description, forKey: .path)
        try c.encode(provenance, forKey: .provenance)
    }
}
