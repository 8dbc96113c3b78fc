#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import WardenKernel
import WardenPolicy

/// Options for an OCI runtime-spec export.
public struct OCIExportOptions: Sendable {
    /// Where the container's files come from.
    public enum Rootfs: Sendable, Equatable {
        /// An empty rootfs onto which the host paths the policy allows are bound, each with
        /// the access the policy gives it: reads outside the allowed set find nothing (exact).
        case hostBinds
        /// A rootfs not made from the policy (an image): only the workspace is bound.
        case image
    }

    public var arch: Architecture
    public var bindings: PathBindings
    public var rootfs: Rootfs
    /// `root.path` (relative to the bundle).
    public var rootPath: String
    /// `process.args`; empty for a fragment.
    public var args: [String]
    /// `process.env` as `NAME=value`.
    public var env: [String]
    public var uid: UInt32
    public var gid: UInt32
    /// Enforce `limit processes` / `limit memory` with cgroups (`linux.resources`); without them
    /// processes become RLIMIT_NPROC and memory is left out (noted as weaker).
    public var cgroupLimits: Bool
    /// Leave out bind mounts whose host path does not exist (a bundle for this machine).
    public var skipMissingPaths: Bool

    public init(arch: Architecture = .native, bindings: PathBindings, rootfs: Rootfs, rootPath: String = "rootfs",
                args: [String] = [], env: [String] = [], uid: UInt32 = 0, gid: UInt32 = 0,
                cgroupLimits: Bool = true, skipMissingPaths: Bool = false) {
        self.arch = arch
        self.bindings = bindings
        self.rootfs = rootfs
        self.rootPath = rootPath
        self.args = args
        self.env = env
        self.uid = uid
        self.gid = gid
        self.cgroupLimits = cgroupLimits
        self.skipMissingPaths = skipMissingPaths
    }
}

/// An identity as an OCI runtime-spec `config.json` (runtime-spec 1.0.2, as runc 1.1 reads it).
public enum OCIExport {
    public static let engine = "oci"
    public static let ociVersion = "1.0.2"

    /// The config for `policy`, and what OCI cannot express exactly. Throws when the seccomp
    /// rules cannot be split into libseccomp rules (too complex).
    public static func config(_ policy: EffectivePolicy, options o: OCIExportOptions) throws(ExportError) -> (config: ExportValue, notes: [ExportNote]) {
        var notes: [ExportNote] = []
        func note(_ k: ExportNote.Kind, _ m: String, _ at: String = "policy") { notes.append(ExportNote(k, engine: engine, m, at: at)) }

        // Seccomp: the errno form (no supervisor to notify).
        let seccomp: ExportValue
        do {
            let rules = policy.seccompPolicy(arch: o.arch, notify: false)
            seccomp = try OCISeccompExport.profile(rules)
            try OCISeccompExport.verifyAsRuntime(seccomp, policy: rules)
        } catch {
            throw .seccomp(error.description)
        }

        // Filesystem.
        let fs = ExportFilesystem(policy, bindings: o.bindings)
        var mounts: [ExportValue] = [
            mount("/proc", type: "proc", source: "proc", ["nosuid", "noexec", "nodev"]),
            mount("/dev", type: "tmpfs", source: "tmpfs", ["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"]),
        ]
        var readonlyPaths: [String] = ["/dev", "/proc"]
        var maskedPaths: [String] = []
        var rootReadonly = true
        let exists = { (p: String) in !o.skipMissingPaths || access(p, F_OK) == 0 }
        for g in fs.unreadableGrants() where o.rootfs == .hostBinds || g.place == .workspace || g.place == .tmp {
            note(.weaker, "\(g.path) is granted \(g.access.map(\.rawValue).sorted().joined(separator: ", ")) without read; a mount cannot withhold read, so it becomes readable", g.location)
        }
        for g in fs.grants where !g.inherited {
            let device = g.expanded.hasPrefix("/dev/")
            var opts = device ? ["nosuid"] : ["nosuid", "nodev"]
            if device && g.place == .system {
                note(.stricter, "\(g.path): a device beyond the runtime's defaults must also be allowed in linux.devices (and the device cgroup); it is bound but the runtime may refuse opening it", g.location)
            }
            if !g.access.contains(.write) { opts.append("ro") }
            if !g.access.contains(.exec) { opts.append("noexec") }
            switch g.place {
            case .proc, .device: continue
            case .tmp:
                mounts.append(mount(g.expanded, type: "tmpfs", source: "tmpfs", opts + ["mode=1777"]))
            case .workspace, .home, .system:
                if o.rootfs == .image && g.place == .home && g.access.contains(.write) {
                    // A writable directory under the home (a cache): a tmpfs of its own, so the
                    // image root stays read-only. Its content does not outlive the container.
                    mounts.append(mount(g.expanded, type: "tmpfs", source: "tmpfs", opts + ["mode=0700"]))
                    continue
                }
                if o.rootfs == .image && g.place != .workspace {
                    if g.access.contains(.write) { rootReadonly = false }
                    continue
                }
                guard exists(g.expanded) else { continue }
                mounts.append(mount(g.expanded, type: "bind", source: g.expanded, ["bind"] + opts))
            }
        }
        if !rootReadonly {
            note(.weaker, "the policy lets the agent write to image paths (\(fs.grants.filter { $0.place == .system && $0.access.contains(.write) }.map(\.path.description).joined(separator: ", "))); the image root must stay writable, so every other image path becomes writable too")
        }
        if o.rootfs == .image {
            note(.weaker, "the rootfs is an image, not built from the policy: its files outside the allowed paths stay readable (and executable outside \(fs.paths(with: .exec))); OCI has no Landlock; export a bundle without --rootfs for an exact filesystem")
        }
        for step in fs.mounts {
            let path = o.bindings.expand(step.path)
            let at = step.provenance.first?.location ?? "policy"
            switch step.kind {
            case .mask: maskedPaths.append(path)
            case .readOnly: readonlyPaths.append(path)
            case .noExec:
                if o.rootfs == .image && step.path.base != .workspace {
                    note(.weaker, "deny exec on \(step.path) inside a tree that allows exec: an image path cannot be re-mounted noexec from the runtime spec", at)
                    continue
                }
                // Bind the path onto itself noexec, keeping the access of the tree it is in.
                let within = fs.grants.filter { EffectivePolicy.covers($0.path, step.path) }.max { $0.path.components.count < $1.path.components.count }
                var opts = ["bind", "nosuid", "nodev", "noexec"]
                if !(within?.access.contains(.write) ?? false) { opts.append("ro") }
                if exists(path) { mounts.append(mount(path, type: "bind", source: path, opts)) }
            }
        }

        // Parents before children, so an inner mount lands on top of the outer one.
        mounts = mounts.enumerated().sorted { a, b in
            let da = Self.depth(a.element), db = Self.depth(b.element)
            return da != db ? da < db : a.offset < b.offset
        }.map(\.element)

        // Capabilities: the granted set in every set, as `warden run` does.
        let caps = ExportValue.array(policy.grantedCapabilities.map { .string($0) })
        let capabilities = ExportValue.object([("bounding", caps), ("effective", caps), ("inheritable", caps),
                                               ("permitted", caps), ("ambient", caps)])

        // Limits.
        var rlimits: [(String, UInt64)] = [("RLIMIT_CORE", 0)]
        var resources: [(String, ExportValue)] = []
        for kind in LimitKind.allCases {
            guard let grant = policy.limits[kind] else { continue }
            let n = grant.value.amount
            let at = grant.provenance.location
            switch kind {
            case .openFiles: rlimits.append(("RLIMIT_NOFILE", n))
            case .fileSize: rlimits.append(("RLIMIT_FSIZE", n))
            case .cpuTime: rlimits.append(("RLIMIT_CPU", n))
            case .processes:
                if o.cgroupLimits {
                    resources.append(("pids", .object([("limit", .int(Int64(clamping: n)))])))
                } else {
                    rlimits.append(("RLIMIT_NPROC", n))
                    if o.uid == 0 {
                        note(.weaker, "limit processes \(n) as RLIMIT_NPROC does not bind uid 0 in the host user namespace (the kernel exempts it); use cgroup limits (linux.resources) or a non-root --user", at)
                    }
                }
            case .memory:
                if o.cgroupLimits {
                    resources.append(("memory", .object([("limit", .int(Int64(clamping: n)))])))
                } else {
                    note(.weaker, "limit memory \(grant.value.canonical) is not exported without cgroup limits (linux.resources); write `limit address-space` for RLIMIT_AS", at)
                }
            case .addressSpace: rlimits.append(("RLIMIT_AS", n))
            case .wallTime:
                note(.weaker, "limit wall-time \(grant.value.canonical): an OCI runtime has no time limit; whoever starts the container must kill it after \(n) s", at)
            }
        }
        rlimits.sort { $0.0 < $1.0 }

        // Namespaces and network.
        let namespaces = ["pid", "ipc", "uts", "mount", "cgroup", "network"]
        if let first = policy.http.first {
            note(.stricter, "HTTP rules need Warden's broker, which an export cannot carry: their hosts stay unreachable and no secret is injected", first.provenance.location)
        }
        if !policy.net.isEmpty {
            note(.stricter, "network rules need Warden's mediation, which OCI cannot express: the container gets its own network namespace with loopback only, so allowed endpoints are unreachable unless the orchestrator connects it (see --emit k8s for a NetworkPolicy)",
                 policy.net[0].provenance.location)
        }

        var env = o.env
        if !env.contains(where: { $0.hasPrefix("TMPDIR=") }) { env.append("TMPDIR=\(o.bindings.tmp)") }
        var process: [(String, ExportValue)] = [("terminal", .bool(false)),
                                                ("user", .object([("uid", .uint(UInt64(o.uid))), ("gid", .uint(UInt64(o.gid)))]))]
        if !o.args.isEmpty { process.append(("args", .array(o.args.map { .string($0) }))) }
        process += [
            ("env", .array(env.map { .string($0) })),
            ("cwd", .string(o.bindings.workspace)),
            ("capabilities", capabilities),
            ("rlimits", .array(rlimits.map { .object([("type", .string($0.0)), ("hard", .uint($0.1)), ("soft", .uint($0.1))]) })),
            ("noNewPrivileges", .bool(true)),
        ]

        var linux: [(String, ExportValue)] = [("namespaces", .array(namespaces.map { .object([("type", .string($0))]) }))]
        if !resources.isEmpty { linux.append(("resources", .object(resources))) }
        linux += [
            ("seccomp", seccomp),
            ("maskedPaths", .array(maskedPaths.map { .string($0) })),
            ("readonlyPaths", .array(readonlyPaths.map { .string($0) })),
        ]

        var annotations: [(String, ExportValue)] = [("warden.identity", .string(policy.identity))]
        for kind in [ExportNote.Kind.weaker, .stricter] {
            let list = notes.filter { $0.kind == kind }
            if !list.isEmpty { annotations.append(("warden.\(kind.rawValue)", .string(list.map { "\($0.location): \($0.message)" }.joined(separator: " | ")))) }
        }
        let config = ExportValue.object([
            ("ociVersion", .string(ociVersion)),
            ("annotations", .object(annotations)),
            ("hostname", .string("warden")),
            ("root", .object([("path", .string(o.rootPath)), ("readonly", .bool(rootReadonly))])),
            ("process", .object(process)),
            ("mounts", .array(mounts)),
            ("linux", .object(linux)),
        ])
        return (config, notes)
    }

    static func depth(_ mount: ExportValue) -> Int {
        guard case .string(let d)? = mount["destination"] else { return 0 }
        return d.split(separator: "/").count
    }

    static func mount(_ destination: String, type: String, source: String, _ options: [String]) -> ExportValue {
        .object([("destination", .string(destination)), ("type", .string(type)), ("source", .string(source)),
                 ("options", .array(options.map { .string($0) }))])
    }
}
