import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

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
    /// Observing mode (`observePaths`): the filter a normal run loads. `filter` sends the
    /// path syscalls it allows to the supervisor, which decides them with this one.
    public var baselineFilter: SeccompFilter?
    /// Every filter of this plan came from the `SeccompFilterCache` (none compiled now).
    public var filterFromCache = false
    public var effective: EffectivePolicy
    public var bindings: PathBindings
    /// `limit wall-time`, if set.
    public var wallTime: Duration?
    /// Protected (read-only) paths that did not exist at launch and could not be given a
    /// placeholder, so no mount could protect them; the supervisor checks afterwards
    /// whether the agent created them.
    public var unprotectedPaths: [String]
    /// Host paths of protected paths missing at launch: the run creates each (an empty
    /// directory, or an empty file for a file-like name) before the launch so the deny can
    /// be mounted on it, and removes what is still empty afterwards (`Placeholders`).
    public var placeholders: [String]
    /// Directories the run creates in its own temporary directory as mount points (a
    /// workspace under `/tmp` appears inside the agent's `/tmp`).
    public var mountPoints: [String]
    /// The run's temporary directory on the host; the agent sees it as `/tmp` (`${tmp}`).
    public var hostTmp: String
    /// Held from planning to the end of the run when placeholders are made (see WorkspaceLock).
    public let workspaceLock: WorkspaceLock?
    /// The agent's filesystem: which host paths it sees, and where.
    let world: AgentWorld
    /// Layers not enforced (only with best effort), as `layer: reason`.
    public var skipped: [String]
    /// The agent's fresh home, when it has one (see `AgentHome`); nil when the policy
    /// grants `${home}` itself (the real home) or no fresh home was asked for.
    public var home: AgentHome?
    /// Entries of the agent's PATH that exist on the host but not in the agent's world: a
    /// command found there by the operator would be another (or none) for the agent.
    public var missingPathEntries: [String] = []
    /// Caches not mounted because their directory is missing in a grant of the host's own
    /// tree (a policy that grants the real `${home}`): Warden never creates it there.
    public var skippedCaches: [String] = []
    /// The supervisor mediates the agent's network calls (the identity has net rules).
    public var mediatesNetwork = false

    /// Builds the launch of `command` as `effective`'s identity.
    /// - Parameters:
    ///   - environment: Warden's own environment, the source of `env pass`.
    ///   - notify: send denials to the supervisor (needed to record them).
    ///   - cgroupUsable: a cgroup v2 hierarchy with memory and pids controllers exists.
    ///   - pidsV1Usable: a writable cgroup v1 pids controller exists (hybrid systems); used
    ///     for `limit processes` as root when cgroup v2 is not, since RLIMIT_NPROC does not
    ///     apply to uid 0.
    ///   - memoryV1Usable: a writable cgroup v1 memory controller exists (hybrid systems);
    ///     used for `limit memory` as root when cgroup v2 is not (see `MemoryLimitMechanism`).
    ///   - observePaths: observing mode (`warden learn`, needs `notify`): the allowed path
    ///     syscalls go to the supervisor too (see `baselineFilter`).
    ///   - filterCache: where compiled filters are kept between runs (nil: compile).
    public init(effective: EffectivePolicy, command: [String], bindings: PathBindings,
                environment: [String: String], notify: Bool, cgroupUsable: Bool, pidsV1Usable: Bool = false,
                memoryV1Usable: Bool = false, bestEffort: Bool, home: AgentHome? = nil,
                observePaths: Bool = false, filterCache: SeccompFilterCache? = nil) throws(AgentLaunchError) {
        self.effective = effective
        self.skipped = []
        do {
            var hits: [Bool] = []
            func compile(_ policy: SeccompPolicy) throws(SeccompCompileError) -> SeccompFilter {
                guard let filterCache else { return try SeccompCompiler.compile(policy) }
                let (filter, hit) = try filterCache.filter(for: policy)
                hits.append(hit)
                return filter
            }
            let normal = effective.seccompPolicy(arch: .native, notify: notify)
            if observePaths && notify {
                let baseline = try compile(normal)
                baselineFilter = baseline
                filter = try compile(EffectivePolicy.observingPaths(normal))
            } else {
                filter = try compile(normal)
            }
            filterFromCache = !hits.isEmpty && hits.allSatisfy { $0 }
        } catch {
            throw .seccomp(error.description)
        }

        var namespaces: Namespaces = [.mount, .pid, .ipc, .uts, .cgroup]
        if !effective.isNetworkMediated {
            namespaces.insert(.network)
        } else if notify {
            // Network mediation: the host network, every connect/bind/listen/send with an
            // address decided and performed by the supervisor (see NetworkMediator).
            mediatesNetwork = true
        } else if bestEffort {
            skipped.append("network: seccomp user notification is unavailable, so network rules are not enforced; the agent shares the host network")
        } else {
            throw .unsupportedRule("network rules need seccomp user notification, which this kernel does not offer; remove the `net` and `http`/`https` rules to run without network, or pass --best-effort to run with the host network unmediated")
        }

        // Filesystem: a fresh root built from the grants (AgentWorld), mount steps for the
        // denies inside granted subtrees, and the same grants again as Landlock rules, the
        // second, independent layer. Paths are the agent's view: `${tmp}` is its `/tmp`.
        let hostTmp = bindings.tmp
        let agentBindings = PathBindings(workspace: bindings.workspace, home: bindings.home, tmp: AgentWorld.agentTmp)
        self.bindings = agentBindings
        self.hostTmp = hostTmp
        let plan = effective.filesystemPlan
        var world = try AgentWorld(grants: plan.landlock.map { (agentBindings.expand($0.path), Set($0.access)) }, hostTmp: hostTmp, home: home)
        self.home = world.freshHome ? home : nil
        if !world.generatedGitConfig { self.home?.gitConfig = nil }
        skippedCaches = world.skippedCaches
        var rules: [LandlockRuleset.Rule] = []
        for grant in world.grants {
            var access: LandlockAccess = []
            if grant.access.contains(.read) { access.formUnion(.read) }
            if grant.access.contains(.write) { access.formUnion(LandlockAccess.write.union(.ioctlDev)) }
            if grant.access.contains(.exec) { access.insert(.execute) }
            rules.append(.init(path: grant.path, access: access))
        }
        var denies: [MountOperation] = []
        var unprotected: [String] = []
        for step in plan.mounts {
            let expanded = agentBindings.expand(step.path)
            // A write or exec deny must hold for a path created during the run: a placeholder
            // is made for it (and removed afterwards). A read deny of nothing protects nothing.
            guard let path = try world.protectedTarget(expanded, placeholder: step.kind != .mask) else {
                if step.kind == .readOnly, world.grant(containing: expanded)?.writable == true { unprotected.append(expanded) }
                continue
            }
            switch step.kind {
            case .mask: denies.append(.mask(path))
            case .readOnly: if !denies.contains(.bindReadOnly(path)) { denies.append(.bindReadOnly(path)) }
            case .noExec: denies.append(.noExec(path))
            }
        }
        unprotectedPaths = unprotected
        placeholders = world.placeholders
        workspaceLock = world.placeholders.isEmpty && world.mountPoints.isEmpty ? nil : WorkspaceLock(workspace: bindings.workspace)
        mountPoints = world.mountPoints
        self.world = world
        let writableRoots = world.grants.filter(\.writable).map(\.path)
        let mounts = world.mounts() + Self.pinningAncestors(of: denies, writableRoots: writableRoots)

        // Limits: cgroup v2 where usable, else the cgroup v1 controllers as root, else
        // RLIMIT_NPROC for processes (counted per user inside the agent's own user
        // namespace). `limit memory` is never silently an address-space limit: without a
        // memory controller it is refused (or skipped, recorded, with --best-effort);
        // `limit address-space` is RLIMIT_AS, asked for by name.
        var rlimits: [ResourceLimit] = [.coreSize(0)]
        var cgroup = CgroupLimits()
        for (kind, grant) in effective.limits {
            let n = grant.value.amount
            switch kind {
            case .openFiles: rlimits.append(.openFiles(n))
            case .fileSize: rlimits.append(.fileSize(n))
            case .cpuTime: rlimits.append(.cpuSeconds(n))
            case .processes:
                if cgroupUsable {
                    cgroup.pidsMax = n
                } else if pidsV1Usable, geteuid() == 0 {
                    // RLIMIT_NPROC does not apply to uid 0: use the hybrid system's v1 pids controller.
                    cgroup.pidsMax = n
                } else {
                    if geteuid() == 0 {
                        // Fail closed: the kernel does not apply RLIMIT_NPROC to uid 0.
                        let reason = "limit processes \(n) cannot be enforced for root here: no usable cgroup v2 or v1 pids controller, and the kernel does not apply RLIMIT_NPROC to uid 0"
                        guard bestEffort else {
                            throw .unsupportedRule(reason + "; run as a non-root user, provide a pids controller, or pass --best-effort")
                        }
                        skipped.append("limits: " + reason)
                    }
                    rlimits.append(.processes(n)); namespaces.insert(.user)
                }
            case .memory:
                if cgroupUsable || (memoryV1Usable && geteuid() == 0) {
                    cgroup.memoryMax = n
                } else {
                    let v1 = geteuid() == 0 ? "no writable cgroup v1 memory controller" : "the cgroup v1 memory controller is used only as root"
                    let reason = "limit memory \(grant.value.canonical) cannot be enforced here: no usable cgroup v2 memory controller, and \(v1)"
                    guard bestEffort else {
                        throw .unsupportedRule(reason + "; choices: " + MemoryLimitMechanism.choices)
                    }
                    skipped.append("limits: " + reason)
                }
            case .addressSpace: rlimits.append(.addressSpace(n))
            case .wallTime: break
            }
        }
        wallTime = effective.limits[.wallTime].map { .seconds(Int64(clamping: $0.value.amount)) }

        var capNumbers: [Int] = []
        for name in effective.grantedCapabilities {
            if let n = Capabilities.number(of: name) { capNumbers.append(Int(n)) }
        }

        let agentEnvironment = Self.environment(effective, from: environment, bindings: agentBindings,
                                                home: world.freshHome ? home?.path : nil)
        missingPathEntries = Self.missingPathEntries(agentEnvironment, world: world)
        spec = LaunchSpec(
            arguments: command,
            environment: agentEnvironment,
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
        spec.buildsRoot = true
        spec.memfdNoExec = true
        spec.unixSocketHelper = mediatesNetwork
    }

    /// The agent's environment: `env pass` from Warden's environment, then `env set` (its
    /// variables bound to the agent's view of the paths: `${tmp}` is `/tmp`), then TMPDIR
    /// pointing at the run's private temporary directory. With a fresh `home`, HOME points
    /// at it unless `env set` says otherwise.
    static func environment(_ effective: EffectivePolicy, from env: [String: String], bindings: PathBindings,
                            home: String? = nil) -> [String] {
        var result: [(String, String)] = []
        for name in effective.envPass { if let v = env[name] { result.append((name, v)) } }
        for (name, value) in effective.envSet {
            result.removeAll { $0.0 == name }
            result.append((name, bindings.expand(envValue: value)))
        }
        if !result.contains(where: { $0.0 == "TMPDIR" }) { result.append(("TMPDIR", bindings.tmp)) }
        if let home, !effective.envSet.contains(where: { $0.name == "HOME" }) {
            result.removeAll { $0.0 == "HOME" }
            result.append(("HOME", home))
        }
        return result.map { "\($0.0)=\($0.1)" }
    }

    /// The absolute PATH entries (of the agent's `environment`) that exist on the host but
    /// not in the agent's world, in order, each once.
    static func missingPathEntries(_ environment: [String], world: AgentWorld) -> [String] {
        guard let path = environment.last(where: { $0.hasPrefix("PATH=") })?.dropFirst(5) else { return [] }
        var result: [String] = []
        for entry in path.split(separator: ":").map(String.init) where entry.hasPrefix("/") && !result.contains(entry) {
            guard access(entry, F_OK) == 0 else { continue }
            let real = resolve(entry) ?? entry
            if let host = world.hostPath(real), access(host, F_OK) == 0 { continue }
            if world.grants.contains(where: { HostPath.isBelow($0.path, real) }) { continue }
            result.append(entry)
        }
        return result
    }

    /// Adds, before `mounts`, a writable self-bind (`.bind`) of every directory strictly
    /// between the outermost writable root and each read-only, noexec or masked path in it. A
    /// mount point cannot be renamed or removed, so the agent cannot move a protected path's
    /// parent away (`mv .git .g`) and recreate the path (`mkdir -p .git/hooks`) unprotected.
    static func pinningAncestors(of mounts: [MountOperation], writableRoots: [String]) -> [MountOperation] {
        func within(_ p: String, _ root: String) -> Bool { root == "/" || HostPath.isBelow(p, root) }
        var pins: [String] = []
        for op in mounts {
            let protected: String
            switch op {
            case .bindReadOnly(let p), .mask(let p), .readOnly(let p), .noExec(let p): protected = p
            default: continue
            }
            // The outermost writable tree holding the path: everything below it can be renamed.
            guard let root = writableRoots.filter({ within(protected, $0) }).min(by: { $0.count < $1.count }) else { continue }
            var ancestor = protected
            while let slash = ancestor.lastIndex(of: "/"), slash != ancestor.startIndex {
                ancestor = String(ancestor[..<slash])
                guard within(ancestor, root) else { break }
                if !pins.contains(ancestor) { pins.append(ancestor) }
            }
        }
        guard !pins.isEmpty else { return mounts }
        // Outer directories first; each pin is a recursive bind, so later mounts land on top.
        let ordered = pins.sorted { $0.split(separator: "/").count < $1.split(separator: "/").count }
        var result = mounts.filter { if case .proc = $0 { return true }; return false }
        result += ordered.map { .bind($0) }
        result += mounts.filter { if case .proc = $0 { return false }; return true }
        return result
    }

    /// The canonical path with symlinks resolved, or nil when it does not exist.
    static func resolve(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

extension AgentLaunchPlan {
    /// Whether the agent could create or modify the host's `path` (absolute): some Landlock rule grants
    /// write on it or an ancestor, and no read-only bind or mask covers it.
    public func agentCanWrite(_ path: String) -> Bool {
        agentCan([.writeFile, .makeReg, .removeFile], path, blockedBy: { _ in true })
    }

    /// Whether the agent could read `path` (absolute): some Landlock rule grants read on it
    /// or an ancestor, and no mask covers it.
    public func agentCanRead(_ path: String) -> Bool {
        agentCan([.readFile], path, blockedBy: { if case .mask = $0 { return true } else { return false } })
    }

    /// Whether the agent could touch anything at or below the host's `path` (absolute): read
    /// or write it through a grant of it or of an ancestor (see `agentCanRead`,
    /// `agentCanWrite`), or see any part of it through a grant (Landlock rule) at or inside
    /// it, whatever its access: a grant of one file in a key directory (`current`, `KID.key`)
    /// is mounted on its own, so no deny over the directory hides it.
    public func agentCanReach(_ path: String) -> Bool {
        if agentCanRead(path) || agentCanWrite(path) { return true }
        let target = Self.resolveDeepest(path)
        return world.grants.contains { HostPath.same($0.source, target) || target == "/" || HostPath.isBelow($0.source, target) }
    }

    private func agentCan(_ rights: LandlockAccess, _ path: String, blockedBy: (MountOperation) -> Bool) -> Bool {
        // A host path the agent cannot see at all (outside every grant's source) is safe.
        guard let target = world.agentPath(ofHost: Self.resolveDeepest(path)) else { return false }
        func within(_ p: String, _ root: String) -> Bool { HostPath.isWithin(p, root) }
        let granted = (spec.landlock?.rules ?? []).contains { !$0.access.isDisjoint(with: rights) && within(target, $0.path) }
        guard granted else { return false }
        return !spec.mounts.contains { op in
            switch op {
            case .bindReadOnly(let p), .mask(let p), .readOnly(let p): return blockedBy(op) && within(target, p)
            default: return false
            }
        }
    }

    /// `path` with the deepest existing ancestor's symlinks resolved, so a missing file is
    /// judged by where it would be created.
    static func resolveDeepest(_ path: String) -> String {
        var probe = path
        var suffix: [String] = []
        var resolved: String? = resolve(probe)
        while resolved == nil, let slash = probe.lastIndex(of: "/"), probe != "/" {
            suffix.insert(String(probe[probe.index(after: slash)...]), at: 0)
            probe = slash == probe.startIndex ? "/" : String(probe[..<slash])
            resolved = resolve(probe)
        }
        guard let base = resolved else { return path }
        return suffix.isEmpty ? base : (base == "/" ? "" : base) + "/" + suffix.joined(separator: "/")
    }
}
