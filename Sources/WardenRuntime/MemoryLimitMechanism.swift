#if canImport(Glibc)
import Glibc
#endif

/// What enforces `limit memory` on this host: a cgroup memory controller (the run's
/// processes together may use at most N bytes of memory; the kernel's OOM killer ends one
/// that goes beyond), never an address-space rlimit (`limit address-space` asks for that).
public enum MemoryLimitMechanism: Sendable, Equatable, CustomStringConvertible {
    /// cgroup v2 `memory.max` (and `memory.swap.max` 0) in a child of this directory.
    case cgroupV2(String)
    /// cgroup v1 `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`) in a child of
    /// this directory, as root on a hybrid system.
    case cgroupV1(String)
    /// No mechanism: `warden run` refuses an identity with `limit memory` (exit status 125)
    /// unless `--best-effort`, which skips the limit and records that it did.
    case unavailable(reason: String)

    /// Chooses from the facts: cgroup v2 when usable, else a writable v1 memory controller
    /// when running as root, else unavailable (with the reasons).
    public static func choose(cgroup: CgroupSupport, v1Memory: String?, root: Bool) -> MemoryLimitMechanism {
        if cgroup.unusableReason == nil, let dir = cgroup.directory { return .cgroupV2(dir) }
        if root, let v1Memory { return .cgroupV1(v1Memory) }
        let v2 = cgroup.unusableReason ?? "cgroup v2 is unusable"
        let v1 = root ? "no writable cgroup v1 memory controller" : "the cgroup v1 memory controller is used only as root"
        return .unavailable(reason: "\(v2); \(v1)")
    }

    /// The mechanism for this process now.
    public static func detect() -> MemoryLimitMechanism {
        choose(cgroup: .detect(), v1Memory: CgroupSupport.v1MemoryDirectory(), root: geteuid() == 0)
    }

    /// The choices an operator has when there is no mechanism (for refusals and doctor).
    public static let choices = "delegate a cgroup v2 hierarchy with the memory controller to this user, run as root on a host with a cgroup v1 memory controller, write `limit address-space N` for an address-space limit (RLIMIT_AS: it also counts reservations, which breaks AddressSanitizer, WebAssembly and large JVM heaps), or pass --best-effort to run without the memory limit"

    public var isAvailable: Bool {
        if case .unavailable = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .cgroupV2(let dir): return "cgroup v2 memory controller (memory.max under \(dir))"
        case .cgroupV1(let dir): return "cgroup v1 memory controller (memory.limit_in_bytes under \(dir))"
        case .unavailable(let reason): return "none: \(reason)"
        }
    }
}
