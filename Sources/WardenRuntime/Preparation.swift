import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// A layer Warden could not apply here, with the reason (only allowed in best-effort mode).
public struct SkippedLayer: Sendable, Equatable, CustomStringConvertible {
    public var layer: String
    public var reason: String
    public init(layer: String, reason: String) { self.layer = layer; self.reason = reason }
    public var description: String { "\(layer): \(reason)" }
}

/// A spec adjusted to this kernel and user, ready for the launcher.
public struct PreparedLaunch: Sendable {
    public var spec: LaunchSpec
    public var skippedLayers: [SkippedLayer]
    public var landlockABI: Int
}

/// Lexically normalised absolute path (no ".", "..", or repeated '/').
func normalizePath(_ path: String) -> String {
    var parts: [Substring] = []
    for c in path.split(separator: "/") {
        if c == "." || c.isEmpty { continue }
        if c == ".." { _ = parts.popLast(); continue }
        parts.append(c)
    }
    return "/" + parts.joined(separator: "/")
}

func canonicalPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// Checks the spec and fits it to what this kernel and user can enforce. Anything that
/// cannot be enforced is an error unless `bestEffort`, then it is listed as skipped.
public func prepareLaunch(_ input: LaunchSpec, bestEffort: Bool) throws(LaunchFailure) -> PreparedLaunch {
    var spec = input
    var skipped: [SkippedLayer] = []
    func degrade(_ layer: String, _ reason: String, errno e: Int32, stage: LaunchStage) throws(LaunchFailure) {
        guard bestEffort else {
            throw LaunchFailure(stage: stage, errno: e,
                                message: "warden: \(layer): \(reason) (\(errnoName(e))); use --best-effort to run without it")
        }
        skipped.append(SkippedLayer(layer: layer, reason: reason))
    }

    guard let first = spec.arguments.first, !first.isEmpty else {
        throw LaunchFailure(stage: .prepare, errno: EINVAL, message: "warden: no command to run")
    }
    let rulePaths = spec.landlock?.rules.map(\.path) ?? []
    let texts = spec.arguments + spec.environment + spec.mounts.map(\.path) + rulePaths
        + [spec.searchPath, spec.workingDirectory, spec.hostname].compactMap { $0 }
    if texts.contains(where: { $0.utf8.contains(0) }) {
        throw LaunchFailure(stage: .prepare, errno: EINVAL, message: "warden: an argument, environment entry or path contains a NUL byte")
    }
    for (i, p) in rulePaths.enumerated() where !p.hasPrefix("/") {
        throw LaunchFailure(stage: .landlock, errno: EINVAL, index: Int32(i), message: "warden: landlock: rule path \(p) is not absolute")
    }
    if spec.seccompListener && (spec.seccompFilter ?? []).isEmpty {
        throw LaunchFailure(stage: .seccomp, errno: EINVAL, message: "warden: seccomp: a user-notification listener needs a filter")
    }
    if let f = spec.seccompFilter, f.count % 8 != 0 || f.count / 8 > 4096 {
        throw LaunchFailure(stage: .seccomp, errno: EINVAL,
                            message: "warden: seccomp: the filter is \(f.count) bytes, not a whole number of instructions (max 4096)")
    }
    if !spec.mounts.isEmpty { spec.namespaces.insert(.mount) }
    let root = geteuid() == 0

    // Unprivileged: every namespace needs a user namespace.
    if !root && !spec.namespaces.isEmpty {
        spec.namespaces.insert(.user)
        let err = warden_probe_unshare(Namespaces.user.rawValue)
        if err != 0 {
            try degrade("namespaces", "cannot create a user namespace as uid \(getuid())", errno: err, stage: .userNamespace)
            if !spec.mounts.isEmpty { skipped.append(SkippedLayer(layer: "mounts", reason: "need a mount namespace")) }
            spec.namespaces = []
            spec.mounts = []
            spec.hostname = nil
        }
    }
    if !root && !spec.namespaces.contains(.user), let caps = spec.capabilities {
        // Without a user namespace an unprivileged process holds no capability already, but
        // it cannot empty its bounding set or lock securebits (both need CAP_SETPCAP).
        try degrade("capabilities", "cannot drop the bounding set without CAP_SETPCAP", errno: EPERM, stage: .capabilities)
        _ = caps
        spec.capabilities = nil
        spec.securebits = nil
    }

    // Mount targets: canonical paths only; a symlink on the way is refused, not followed.
    // In a fresh root the targets are the agent's view (the launcher opens each beneath the
    // new root without following symlinks); only absolute paths are checked here.
    var mounts: [MountOperation] = []
    for (i, op) in spec.mounts.enumerated() {
        let p = op.path
        guard p.hasPrefix("/") else {
            throw LaunchFailure(stage: .mount, errno: EINVAL, index: Int32(i), message: "warden: mount: \(p) is not an absolute path")
        }
        if spec.buildsRoot { mounts.append(op); continue }
        switch op {
        case .grant, .symlink:
            throw LaunchFailure(stage: .mount, errno: EINVAL, index: Int32(i), message: "warden: mount: \(p): grants need a fresh root")
        default: break
        }
        let lexical = normalizePath(p)
        guard let real = canonicalPath(lexical) else {
            let e = errno
            if e == ENOENT, case .mask = op { continue } // nothing there to hide
            if e == ENOENT, case .bindReadOnly = op { continue } // nothing there to protect
            if e == ENOENT, case .bind = op { continue } // nothing there to pin
            if e == ENOENT, case .noExec = op { continue }
            throw LaunchFailure(stage: .mount, errno: e, index: Int32(i), message: "warden: mount: \(lexical): \(errnoName(e))")
        }
        guard real == lexical else {
            throw LaunchFailure(stage: .mount, errno: ELOOP, index: Int32(i),
                                message: "warden: mount: \(lexical) goes through a symlink (to \(real)); refusing to mount over it")
        }
        switch op {
        case .bindReadOnly: mounts.append(.bindReadOnly(real))
        case .bind: mounts.append(.bind(real))
        case .mask: mounts.append(.mask(real))
        case .readOnly: mounts.append(.readOnly(real))
        case .tmpfs(_, let o): mounts.append(.tmpfs(real, options: o))
        case .proc: mounts.append(.proc(real))
        case .noExec: mounts.append(.noExec(real))
        case .bindFile(let source, _): mounts.append(.bindFile(source: source, target: real))
        case .grant, .symlink: break
        }
    }
    spec.mounts = mounts
    if spec.mounts.contains(where: { if case .proc = $0 { return true }; return false }) && !spec.namespaces.contains(.pid) {
        throw LaunchFailure(stage: .mount, errno: EINVAL, message: "warden: mount: a new /proc needs a PID namespace")
    }

    // Landlock: the kernel must know every handled right, or those rights stay open.
    let abiRaw = warden_landlock_abi()
    let abi = Int(max(abiRaw, 0))
    if let ll = spec.landlock, !ll.handled.isEmpty {
        if abi < 1 {
            try degrade("landlock", "this kernel has no Landlock", errno: -abiRaw, stage: .landlock)
            spec.landlock = nil
        } else {
            let unknown = ll.handled.subtracting(.supported(abi: abi))
            if !unknown.isEmpty {
                try degrade("landlock", "rights 0x\(String(unknown.rawValue, radix: 16)) need a newer Landlock ABI than \(abi)",
                            errno: EOPNOTSUPP, stage: .landlock)
            }
        }
    }

    if let limits = spec.cgroupLimits, limits.memoryMax != nil || limits.pidsMax != nil {
        let support = CgroupSupport.detect()
        if let reason = support.unusableReason, !support.canApply(limits) {
            try degrade("cgroup", reason, errno: EOPNOTSUPP, stage: .cgroup)
            spec.cgroupLimits = nil
        }
    }
    return PreparedLaunch(spec: spec, skippedLayers: skipped, landlockABI: abi)
}
