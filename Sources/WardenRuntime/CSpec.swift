import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// Owns the C copy of a launch (strings and arrays) for the duration of `warden_launch`.
/// Everything is allocated before the clone: the children never allocate.
final class CSpec {
    private var allocations: [UnsafeMutableRawPointer] = []
    var spec = warden_launch_spec()

    /// `cgroupProcsFd` is an open cgroup.procs, or -1 (`cgroupProcsFd2`: a second one, in
    /// another cgroup v1 hierarchy); `ids` are the caller's uid/gid.
    init(_ s: LaunchSpec, landlockABI: Int, cgroupProcsFd: Int32, cgroupProcsFd2: Int32 = -1, uid: UInt32, gid: UInt32) {
        spec.argv = UnsafePointer(stringArray(s.arguments))
        spec.envp = UnsafePointer(stringArray(s.environment))
        spec.search_path = s.searchPath.map { UnsafePointer(cString($0)) }
        spec.cwd = s.workingDirectory.map { UnsafePointer(cString($0)) }
        spec.namespaces = s.namespaces.rawValue
        spec.outer_uid = uid
        spec.outer_gid = gid
        spec.hostname = s.hostname.map { UnsafePointer(cString($0)) }
        spec.stdio = (s.standardInput ?? -1, s.standardOutput ?? -1, s.standardError ?? -1)

        let mounts = array(of: warden_mount_op.self, count: s.mounts.count)
        for (i, op) in s.mounts.enumerated() {
            var m = warden_mount_op()
            switch op {
            case .bindReadOnly: m.kind = Int32(WARDEN_MOUNT_BIND_RO.rawValue)
            case .bind: m.kind = Int32(WARDEN_MOUNT_BIND.rawValue)
            case .mask: m.kind = Int32(WARDEN_MOUNT_MASK.rawValue)
            case .readOnly: m.kind = Int32(WARDEN_MOUNT_READONLY.rawValue)
            case .tmpfs(_, let options):
                m.kind = Int32(WARDEN_MOUNT_TMPFS.rawValue)
                m.data = options.map { UnsafePointer(cString($0)) }
            case .proc: m.kind = Int32(WARDEN_MOUNT_PROC.rawValue)
            case .noExec: m.kind = Int32(WARDEN_MOUNT_NOEXEC.rawValue)
            case .bindFile(let source, _):
                m.kind = Int32(WARDEN_MOUNT_BIND_FILE.rawValue)
                m.data = UnsafePointer(cString(source))
            case .grant(_, let source, let writable, let exec):
                m.kind = Int32(WARDEN_MOUNT_GRANT.rawValue)
                m.data = UnsafePointer(cString(source))
                m.flags = (writable ? UInt32(WARDEN_MOUNT_F_WRITABLE.rawValue) : 0) | (exec ? UInt32(WARDEN_MOUNT_F_EXEC.rawValue) : 0)
            case .symlink(_, let target):
                m.kind = Int32(WARDEN_MOUNT_SYMLINK.rawValue)
                m.data = UnsafePointer(cString(target))
            }
            m.path = UnsafePointer(cString(op.path))
            mounts[i] = m
        }
        spec.mounts = UnsafePointer(mounts)
        spec.mount_count = s.mounts.count
        spec.build_root = s.buildsRoot ? 1 : 0
        spec.memfd_noexec = s.memfdNoExec ? 1 : 0
        spec.unix_helper = s.unixSocketHelper && s.namespaces.contains(.mount) ? 1 : 0

        let limits = array(of: warden_rlimit.self, count: s.resourceLimits.count)
        for (i, l) in s.resourceLimits.enumerated() {
            limits[i] = warden_rlimit(resource: l.resource, soft: l.soft, hard: l.hard)
        }
        spec.rlimits = UnsafePointer(limits)
        spec.rlimit_count = s.resourceLimits.count
        spec.cgroup_procs_fd = cgroupProcsFd
        spec.cgroup_procs_fd2 = cgroupProcsFd2

        if let ll = s.landlock, !ll.handled.isEmpty {
            let supported = LandlockAccess.supported(abi: landlockABI)
            spec.landlock_handled = ll.handled.intersection(supported).rawValue
            spec.landlock_abi = Int32(landlockABI)
            let rules = array(of: warden_landlock_rule.self, count: ll.rules.count)
            for (i, r) in ll.rules.enumerated() {
                rules[i] = warden_landlock_rule(path: UnsafePointer(cString(r.path)),
                                                access: r.access.intersection(supported).rawValue)
            }
            spec.landlock_rules = UnsafePointer(rules)
            spec.landlock_rule_count = ll.rules.count
            spec.landlock_log_after_exec = ll.logAfterExec ? 1 : 0
        }

        if let caps = s.capabilities {
            spec.apply_capabilities = 1
            spec.cap_bounding = caps.bounding
            spec.cap_permitted = caps.permitted
            spec.cap_effective = caps.effective
            spec.cap_inheritable = caps.inheritable
            spec.cap_ambient = caps.ambient
            spec.securebits = s.securebits ?? caps.defaultSecurebits
        } else {
            spec.securebits = s.securebits ?? -1
        }

        if let filter = s.seccompFilter, !filter.isEmpty {
            let bytes = array(of: UInt8.self, count: filter.count)
            for (i, b) in filter.enumerated() { bytes[i] = b }
            spec.seccomp_filter = UnsafePointer(bytes)
            spec.seccomp_filter_len = filter.count
            spec.seccomp_listener = s.seccompListener ? 1 : 0
            if let auid = s.auditLoginUID { spec.audit_loginuid_set = 1; spec.audit_loginuid = auid }
        }
    }

    deinit { for p in allocations { free(p) } }

    private func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        allocations.append(UnsafeMutableRawPointer(p))
        return p
    }

    private func array<T>(of: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    private func stringArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
        let a = array(of: UnsafePointer<CChar>?.self, count: strings.count + 1)
        for (i, s) in strings.enumerated() { a[i] = UnsafePointer(cString(s)) }
        a[strings.count] = nil
        return a
    }
}
