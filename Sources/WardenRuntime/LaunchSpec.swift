/// A neutral, plain description of one launch: what to execute and which kernel layers to
/// apply before it starts. The policy compiler produces it; the C launcher consumes it.
public struct LaunchSpec: Sendable, Equatable {
    /// Program and arguments; `arguments[0]` is looked up in `searchPath` unless it has a '/'.
    public var arguments: [String]
    /// The agent's complete environment ("NAME=value"), nothing else is passed.
    public var environment: [String]
    /// PATH used to find `arguments[0]` (in the child); nil: "/usr/local/bin:/usr/bin:/bin".
    public var searchPath: String?
    /// Working directory of the agent; nil keeps the supervisor's.
    public var workingDirectory: String?
    public var namespaces: Namespaces
    /// Hostname inside a new UTS namespace.
    public var hostname: String?
    /// Applied in order inside the new mount namespace (requires `.mount`).
    public var mounts: [MountOperation]
    /// The mounts build the agent's world from nothing: an empty root receives exactly the
    /// `.grant`s (and `.symlink`s), every path in `mounts` is the agent's view, and nothing
    /// else of the host exists for the agent. False: `mounts` change the host's tree in place.
    public var buildsRoot: Bool = false
    /// With `buildsRoot` and a `.proc` mount: vm.memfd_noexec = 2 in the agent's PID
    /// namespace, so no memfd can be executed.
    public var memfdNoExec: Bool = false
    /// Start the in-sandbox helper that performs the agent's pathname unix connect and bind
    /// (network mediation; see `NetworkMediator`).
    public var unixSocketHelper: Bool = false
    public var resourceLimits: [ResourceLimit]
    /// cgroup v2 limits; applied only where a writable cgroup v2 hierarchy with the
    /// controllers exists, otherwise a skipped layer (an error unless best effort).
    public var cgroupLimits: CgroupLimits?
    public var landlock: LandlockRuleset?
    /// Capability sets the agent ends with; nil leaves capabilities alone.
    public var capabilities: CapabilitySets?
    /// SECBIT_* value to set; nil chooses `CapabilitySets.defaultSecurebits` when
    /// `capabilities` is set.
    public var securebits: Int32?
    /// A classic BPF program (`struct sock_filter` array) as bytes; applied last.
    public var seccompFilter: [UInt8]?
    /// Create a user-notification listener with the filter and hand it to the supervisor.
    public var seccompListener: Bool
    /// The run's own audit login uid, written by init for every agent process (kernel audit
    /// rules of `MountAuditRules` match it); nil leaves the login uid alone.
    public var auditLoginUID: UInt32? = nil
    /// Descriptors (of the supervisor) to become the agent's stdin, stdout, stderr; nil
    /// entries inherit the supervisor's. They are not closed by the launch.
    public var standardInput: Int32? = nil
    public var standardOutput: Int32? = nil
    public var standardError: Int32? = nil

    public init(arguments: [String], environment: [String] = [], searchPath: String? = nil,
                workingDirectory: String? = nil, namespaces: Namespaces = [], hostname: String? = nil,
                mounts: [MountOperation] = [], resourceLimits: [ResourceLimit] = [],
                cgroupLimits: CgroupLimits? = nil, landlock: LandlockRuleset? = nil,
                capabilities: CapabilitySets? = nil, securebits: Int32? = nil,
                seccompFilter: [UInt8]? = nil, seccompListener: Bool = false) {
        self.arguments = arguments
        self.environment = environment
        self.searchPath = searchPath
        self.workingDirectory = workingDirectory
        self.namespaces = namespaces
        self.hostname = hostname
        self.mounts = mounts
        self.resourceLimits = resourceLimits
        self.cgroupLimits = cgroupLimits
        self.landlock = landlock
        self.capabilities = capabilities
        self.securebits = securebits
        self.seccompFilter = seccompFilter
        self.seccompListener = seccompListener
    }
}

/// Namespaces to create for the agent.
public struct Namespaces: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Added automatically when not running as root.
    public static let user = Namespaces(rawValue: 1 << 0)
    public static let mount = Namespaces(rawValue: 1 << 1)
    /// The agent runs under a small C init (PID 1) that reaps and forwards signals.
    public static let pid = Namespaces(rawValue: 1 << 2)
    public static let ipc = Namespaces(rawValue: 1 << 3)
    public static let uts = Namespaces(rawValue: 1 << 4)
    /// No network: a fresh namespace with only loopback, brought up.
    public static let network = Namespaces(rawValue: 1 << 5)
    public static let cgroup = Namespaces(rawValue: 1 << 6)
    public static let all: Namespaces = [.mount, .pid, .ipc, .uts, .network, .cgroup]
}

/// One step of the mount plan. Paths must be absolute and free of symlinks.
public enum MountOperation: Sendable, Equatable {
    /// Bind the path onto itself (with submounts) and make it read-only.
    case bindReadOnly(String)
    /// Bind the path onto itself (with submounts), keeping it writable. A mount point cannot
    /// be renamed or removed (EBUSY), so this pins the path: used on the directories between
    /// a writable tree and a protected path inside it, so the agent cannot move the protected
    /// path's parent away and recreate it unprotected.
    case bind(String)
    /// Hide the path: a directory gets an empty read-only tmpfs, a file a read-only /dev/null.
    /// A path that does not exist is skipped (nothing to hide).
    case mask(String)
    /// Make the mount at (or a bind of) the path read-only, with submounts.
    case readOnly(String)
    /// A fresh tmpfs (nosuid, nodev); `options` like "mode=0700,size=64m".
    case tmpfs(String, options: String? = nil)
    /// A new /proc showing the agent's PID namespace.
    case proc(String = "/proc")
    /// Bind the path onto itself (with submounts) and make it noexec: binaries there cannot
    /// be executed or mapped executable (an interpreter can still read a script). A path
    /// that does not exist is skipped.
    case noExec(String)
    /// Bind the file `source` (absolute) onto the existing file `target`, read-only.
    case bindFile(source: String, target: String)
    /// Fresh root only: bind the host's `source` (canonical) at the agent's `path`, nosuid,
    /// nodev (unless a device), read-only unless `writable`, noexec unless `exec`.
    case grant(path: String, source: String, writable: Bool, exec: Bool)
    /// Fresh root only: a symlink at `path` (in the skeleton) pointing at `target`.
    case symlink(path: String, target: String)

    public var path: String {
        switch self {
        case .bindReadOnly(let p), .bind(let p), .mask(let p), .readOnly(let p), .tmpfs(let p, _), .proc(let p), .noExec(let p),
             .bindFile(_, let p), .grant(let p, _, _, _), .symlink(let p, _): return p
        }
    }
}

/// setrlimit(2) values; `RLIM_INFINITY` is `UInt64.max`.
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64
    public init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource; self.soft = soft; self.hard = hard
    }
    public static func openFiles(_ n: UInt64) -> ResourceLimit { .init(resource: 7, soft: n, hard: n) }
    public static func processes(_ n: UInt64) -> ResourceLimit { .init(resource: 6, soft: n, hard: n) }
    public static func addressSpace(_ bytes: UInt64) -> ResourceLimit { .init(resource: 9, soft: bytes, hard: bytes) }
    public static func cpuSeconds(_ s: UInt64) -> ResourceLimit { .init(resource: 0, soft: s, hard: s) }
    public static func fileSize(_ bytes: UInt64) -> ResourceLimit { .init(resource: 1, soft: bytes, hard: bytes) }
    public static func coreSize(_ bytes: UInt64) -> ResourceLimit { .init(resource: 4, soft: bytes, hard: bytes) }
}

/// cgroup v2 limits (memory.max, pids.max).
public struct CgroupLimits: Sendable, Equatable {
    public var memoryMax: UInt64?
    public var pidsMax: UInt64?
    public init(memoryMax: UInt64? = nil, pidsMax: UInt64? = nil) {
        self.memoryMax = memoryMax; self.pidsMax = pidsMax
    }
}

/// The five capability sets, as 64-bit masks (bit n = capability n).
public struct CapabilitySets: Sendable, Equatable {
    public var bounding: UInt64
    public var permitted: UInt64
    public var effective: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64
    public init(bounding: UInt64 = 0, permitted: UInt64 = 0, effective: UInt64 = 0,
                inheritable: UInt64 = 0, ambient: UInt64 = 0) {
        self.bounding = bounding; self.permitted = permitted; self.effective = effective
        self.inheritable = inheritable; self.ambient = ambient
    }
    /// No capability at all.
    public static let none = CapabilitySets()
    /// Keeps exactly `caps` in every set, including ambient so they survive execve.
    public static func keeping(_ caps: [Int]) -> CapabilitySets {
        let m = caps.reduce(UInt64(0)) { $0 | (($1 >= 0 && $1 < 64) ? (1 << UInt64($1)) : 0) }
        return CapabilitySets(bounding: m, permitted: m, effective: m, inheritable: m, ambient: m)
    }

    /// SECBIT_NOROOT (+locked): uid 0 gains nothing on execve; KEEP_CAPS locked off; no
    /// ambient raise (+locked) when no ambient capability is kept. With no_new_privs and an
    /// emptied bounding set, setuid/file-capability binaries cannot restore capabilities.
    public var defaultSecurebits: Int32 {
        let noroot: Int32 = 1 << 0, norootLocked: Int32 = 1 << 1
        let keepCapsLocked: Int32 = 1 << 5
        let noAmbient: Int32 = 1 << 6, noAmbientLocked: Int32 = 1 << 7
        var bits = noroot | norootLocked | keepCapsLocked
        if ambient == 0 { bits |= noAmbient | noAmbientLocked }
        return bits
    }
}
