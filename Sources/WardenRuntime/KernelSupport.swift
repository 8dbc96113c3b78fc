import CLauncher
import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// What this kernel and this user can enforce (for `warden doctor` and launch decisions).
public struct KernelSupport: Sendable {
    public struct NamespaceCheck: Sendable {
        public var name: String
        /// 0 when a child could create it; otherwise the errno.
        public var errno: Int32
        public var available: Bool { errno == 0 }
    }

    public var uid: UInt32
    public var runningAsRoot: Bool
    /// /proc/sys/kernel/seccomp/actions_avail.
    public var seccompActions: [String]
    /// A filter with SECCOMP_RET_USER_NOTIF and a listener could be installed.
    public var userNotification: Bool
    /// Highest Landlock ABI, 0 when Landlock is unavailable.
    public var landlockABI: Int
    /// Each namespace tried in a child (with a user namespace when not root).
    public var namespaces: [NamespaceCheck]
    public var maxUserNamespaces: Int?
    public var cgroup: CgroupSupport
    /// Effective capabilities of this process, by name.
    public var effectiveCapabilities: [String]
    /// Kernel release (uname -r).
    public var kernelRelease: String

    public static func detect() -> KernelSupport {
        let uid = getuid()
        let root = geteuid() == 0
        let actions = (readSmallFile("/proc/sys/kernel/seccomp/actions_avail") ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let abi = Int(max(warden_landlock_abi(), 0))
        let base: Namespaces = root ? [] : .user
        let list: [(String, Namespaces)] = [("user", .user), ("mount", .mount), ("pid", .pid), ("ipc", .ipc),
                                            ("uts", .uts), ("network", .network), ("cgroup", .cgroup)]
        let ns = list.map { NamespaceCheck(name: $0.0, errno: warden_probe_unshare(base.union($0.1).rawValue)) }
        let maxUserNS = (readSmallFile("/proc/sys/user/max_user_namespaces") ?? "")
            .split(separator: "\n").first.flatMap { Int($0) }
        var caps: [String] = []
        for line in (readSmallFile("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst(7).trimmingCharacters(in: " \t")
            if let mask = UInt64(hex, radix: 16) {
                for bit in 0..<64 where mask & (1 << UInt64(bit)) != 0 {
                    caps.append(Capabilities.name(of: Int32(bit)) ?? "cap_\(bit)")
                }
            }
        }
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return KernelSupport(uid: uid, runningAsRoot: root, seccompActions: actions,
                             userNotification: warden_probe_user_notif() == 0, landlockABI: abi,
                             namespaces: ns, maxUserNamespaces: maxUserNS, cgroup: .detect(),
                             effectiveCapabilities: caps, kernelRelease: release)
    }
}

extension KernelSupport {
    /// Whether a SECCOMP_RET_USER_NOTIF filter with a listener can be installed (one probe
    /// child), without the namespace probes of `detect()`: what a launch needs to know.
    public static func userNotificationAvailable() -> Bool {
        warden_probe_user_notif() == 0
    }

    /// The same answer, always from a child that installs a listener (the reference the
    /// in-place answer is tested against).
    static func userNotificationAvailableInChild() -> Bool {
        warden_probe_user_notif_in_child() == 0
    }
}

extension Substring {
    /// Without leading and trailing characters of `set`.
    package func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension KernelSupport {
    /// Launches /bin/true under every layer (all namespaces, a fresh /proc, Landlock read and
    /// execute on /, no capabilities, no_new_privs, an allow-all seccomp filter) to prove a
    /// sandbox really starts here. Not best effort: any missing layer is the failure.
    public static func launchCheck() -> RunReport {
        let allowAll: [UInt8] = [0x06, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x7f] // BPF_RET|BPF_K ALLOW
        let abi = Int(max(warden_landlock_abi(), 0))
        let spec = LaunchSpec(
            arguments: ["/bin/true"], environment: [], workingDirectory: "/", namespaces: .all,
            mounts: [.proc()],
            landlock: abi >= 1 ? LandlockRuleset(handled: .supported(abi: abi),
                                                 rules: [.init(path: "/", access: [.read, .execute])]) : nil,
            capabilities: CapabilitySets.none, seccompFilter: allowAll)
        return Supervisor(timeout: .seconds(30), gracePeriod: .seconds(1)).run(spec)
    }
}
