import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// What the policy variables stand for in one run.
public struct PathBindings: Sendable, Equatable {
    public var workspace: String
    public var home: String
    public var tmp: String

    public init(workspace: String, home: String, tmp: String) {
        self.workspace = workspace
        self.home = home
        self.tmp = tmp
    }

    public func expand(_ path: PolicyPath) -> String {
        path.expanded { variable in
            switch variable {
            case .workspace: return workspace
            case .home: return home
            case .tmp: return tmp
            }
        }
    }
}

/// Why a policy cannot be turned into a launch on this machine.
public enum AgentLaunchError: Error, Sendable, Equatable, CustomStringConvertible {
    case seccomp(String)
    case unsupportedRule(String)
    case badPath(String, errno: Int32)

    public var description: String {
        switch self {
        case .seccomp(let m): return "seccomp: \(m)"
        case .unsupportedRule(let m): return m
        case .badPath(let p, let e): return "cannot resolve \(p): \(errnoName(e))"
        }
    }
}

/// A policy identity turned into a concrete launch: the spec for the C launcher, the
/// wall-time limit, and what the supervisor needs to answer and record denials.
public struct AgentLaunchPlan: Sendable {
    public var spec: LaunchSpec
    public var filter: SeccompFilter
    public var effective: EffectivePolicy
    public var bindings: PathBindings
    /// `limit wall-time`, if set.
    public var wallTime: Duration?
    /// Protected (read-only) paths that did not exist at launch, so no mount could protect
    /// them; the supervisor checks afterwards whether the agent created them.
    public var unprotectedPaths: [String]
    /// Layers not enforced (only with best effort), as `layer: reason`.
    public var skipped: [String]
    /// The supervisor mediates the agent's network calls (the identity has net rules).
    public var mediatesNetwork = false

    /// Builds the launch of `command` as `effective`'s identity.
    /// - Parameters:
    ///   - environment: Warden's own environment, the source of `env pass`.
    ///   - notify: send denials to the supervisor (needed to record them).
    ///   - cgroupUsable: a cgroup v2 hierarchy with memory and pids controllers exists.
    public init(effective: EffectivePolicy, command: [String], bindings: PathBindings,
                environment: [String: String], notify: Bool, cgroupUsable: Bool,
                bestEffort: Bool) throws(AgentLaunchError) {
        self.effective = effective
        self.bindings = bindings
        self.skipped = []
        do {
            filter = try SeccompCompiler.compile(effective.seccompPolicy(arch: .native, notify: notify))
        } catch {
            throw .seccomp(error.description)
        }

        var namespaces: Namespaces = [.mount, .pid, .ipc, .uts, .cgroup]
        if effective.net.isEmpty {
            namespaces.insert(.network)
        } else if notify {
            // Network mediation: the host network, every connect/bind/listen/send with an
            // address decided and performed by the supervisor (see NetworkMediator).
            mediatesNetwork = true
        } else if bestEffort {
            skipped.append("network: seccomp user notification is unavailable, so network rules are not enforced; the agent shares the host network")
        } else {
            throw .unsupportedRule("network rules need seccomp user notification, which this kernel does not offer; remove the `net` rules to run without network, or pass --best-effort to run with the host network unmediated")
        }

        // Filesystem: Landlock grants, then mount steps for denies inside allowed subtrees.
        let plan = effective.filesystemPlan
        var rules: [LandlockRuleset.Rule] = []
        for grant in plan.landlock {
            guard let path = Self.resolve(bindings.expand(grant.path)) else { continue }
            var access: LandlockAccess = []
            for a in grant.access {
                switch a {
                case .read: access.formUnion(.read)
                case .write: access.formUnion(LandlockAccess.write.union(.ioctlDev))
                case .exec: access.insert(.execute)
                }
            }
            rules.append(.init(path: path, access: access))
        }
        var mounts: [MountOperation] = [.proc()]
        var unprotected: [String] = []
        for step in plan.mounts {
            let expanded = bindings.expand(step.path)
            guard let path = Self.resolve(expanded) else {
                if step.kind == .readOnly { unprotected.append(expanded) }
                continue
            }
            switch step.kind {
            case .mask: mounts.append(.mask(path))
            case .readOnly: mounts.append(.bindReadOnly(path))
            case .noExec:
                throw .unsupportedRule("\(step.provenance.first?.location ?? "policy"): denying exec inside a subtree that allows exec is not supported yet; deny exec on a sibling path or remove exec from the parent")
            }
        }
        unprotectedPaths = unprotected

        // Limits: cgroup v2 where usable, else rlimits (RLIMIT_NPROC counts per user inside
        // the agent's own user namespace, RLIMIT_AS bounds address space).
        var rlimits: [ResourceLimit] = [.coreSize(0)]
        var cgroup = CgroupLimits()
        for (kind, grant) in effective.limits {
            let n = grant.value.amount
            switch kind {
            case .openFiles: rlimits.append(.openFiles(n))
            case .fileSize: rlimits.append(.fileSize(n))
            case .cpuTime: rlimits.append(.cpuSeconds(n))
            case .processes:
                if cgroupUsable { cgroup.pidsMax = n } else { rlimits.append(.processes(n)); namespaces.insert(.user) }
            case .memory:
                if cgroupUsable { cgroup.memoryMax = n } else { rlimits.append(.addressSpace(n)) }
            case .wallTime: break
            }
        }
        wallTime = effective.limits[.wallTime].map { .seconds(Int64(clamping: $0.value.amount)) }

        var capNumbers: [Int] = []
        for name in effective.grantedCapabilities {
            if let n = Capabilities.number(of: name) { capNumbers.append(Int(n)) }
        }

        spec = LaunchSpec(
            arguments: command,
            environment: Self.environment(effective, from: environment, bindings: bindings),
            searchPath: environment["PATH"],
            workingDirectory: bindings.workspace,
            namespaces: namespaces,
            hostname: "warden",
            mounts: mounts,
            resourceLimits: rlimits.sorted { $0.resource < $1.resource },
            cgroupLimits: cgroup == CgroupLimits() ? nil : cgroup,
            landlock: LandlockRuleset(handled: LandlockAccess.supported(abi: 7), rules: rules),
            capabilities: capNumbers.isEmpty ? CapabilitySets.none : CapabilitySets.keeping(capNumbers),
            seccompFilter: filter.program.bytes,
            seccompListener: notify)
    }

    /// The agent's environment: `env pass` from Warden's environment, then `env set`,
    /// then TMPDIR pointing at the run's private temporary directory.
    static func environment(_ effective: EffectivePolicy, from env: [String: String], bindings: PathBindings) -> [String] {
        var result: [(String, String)] = []
        for name in effective.envPass { if let v = env[name] { result.append((name, v)) } }
        for (name, value) in effective.envSet {
            result.removeAll { $0.0 == name }
            result.append((name, value))
        }
        if !result.contains(where: { $0.0 == "TMPDIR" }) { result.append(("TMPDIR", bindings.tmp)) }
        return result.map { "\($0.0)=\($0.1)" }
    }

    /// The canonical path with symlinks resolved, or nil when it does not exist.
    static func resolve(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

extension AgentLaunchPlan {
    /// Whether the agent could create or modify `path` (absolute): some Landlock rule grants
    /// write on it or an ancestor, and no read-only bind or mask covers it.
    public func agentCanWrite(_ path: String) -> Bool {
        // Resolve the deepest existing ancestor, so a missing file is judged by its directory.
        var probe = path
        var suffix: [String] = []
        var resolved: String? = Self.resolve(probe)
        while resolved == nil, let slash = probe.lastIndex(of: "/"), probe != "/" {
            suffix.insert(String(probe[probe.index(after: slash)...]), at: 0)
            probe = slash == probe.startIndex ? "/" : String(probe[..<slash])
            resolved = Self.resolve(probe)
        }
        guard let base = resolved else { return false }
        let target = suffix.isEmpty ? base : (base == "/" ? "" : base) + "/" + suffix.joined(separator: "/")
        func within(_ p: String, _ root: String) -> Bool { root == "/" || p == root || p.hasPrefix(root + "/") }
        let writable = (spec.landlock?.rules ?? []).contains {
            !$0.access.isDisjoint(with: [.writeFile, .makeReg]) && within(target, $0.path)
        }
        guard writable else { return false }
        let protected = spec.mounts.contains {
            switch $0 {
            case .bindReadOnly(let p), .mask(let p), .readOnly(let p): return within(target, p)
            default: return false
            }
        }
        return !protected
    }
}
