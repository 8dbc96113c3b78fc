import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// The kernel audit subsystem, as far as Warden's denial records depend on it: Landlock
/// reports its denials (record type 1423) only while kernel audit is enabled. This reads
/// the state; only `warden run --observe-filesystem` switches it on (host-wide), for that
/// run (see `FilesystemObserver`).
public enum KernelAuditState: Sendable, Equatable {
    case enabled
    case disabled
    /// The state cannot be read (no audit support, or no CAP_AUDIT_CONTROL), with the errno.
    case unknown(Int32)

    /// Asks the kernel (AUDIT_GET over NETLINK_AUDIT; at most a few seconds).
    public static func current() -> KernelAuditState {
        let r = warden_kernel_audit_enabled()
        if r == 1 { return .enabled }
        if r == 0 { return .disabled }
        return .unknown(-r)
    }

    /// One line for `warden doctor`.
    public var doctorText: String {
        let enoent = "ENOENT outside the grants is never recorded (use `warden explain --fs`)"
        switch self {
        case .enabled: return "kernel audit enabled: warden run (as root) records filesystem denials (Landlock's, and the mount world's EROFS/EBUSY/EACCES/EPERM/EXDEV); \(enoent)"
        case .disabled: return "kernel audit disabled: filesystem denials are recorded only with `warden run --observe-filesystem` (switches it on for the run, as root); \(enoent)"
        case .unknown(let e): return "kernel audit state unknown (\(errnoName(e))): filesystem denials are not recorded; \(enoent)"
        }
    }
}
