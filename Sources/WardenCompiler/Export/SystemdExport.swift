#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import WardenKernel
import WardenPolicy

/// An identity as a systemd service drop-in (`[Service]` settings).
///
/// systemd's `SystemCallFilter=` takes syscall names only. Argument conditions are mapped
/// where systemd has a setting with the same meaning (`RestrictNamespaces=` for the
/// namespace flags of clone, `RestrictAddressFamilies=` for socket domains); any other
/// conditional syscall is left out of the allow list (stricter: denied for all arguments).
public enum SystemdExport {
    public static let engine = "systemd"

    /// - Parameter listHost: list the host's directories beside the allowed paths and make them
    ///   inaccessible (systemd has no default-deny for reads); false hides the standard
    ///   (FHS) entries instead, the same on every host, and leaves others readable (weaker).
    /// - Parameter user: who the service runs as (`DynamicUser=` where possible by default).
    public static func dropIn(_ policy: EffectivePolicy, bindings: PathBindings, arch: Architecture = .native,
                              listHost: Bool = true, user: SystemdServiceUser = .automatic) -> (text: String, notes: [ExportNote]) {
        var notes: [ExportNote] = []
        func note(_ k: ExportNote.Kind, _ m: String, _ at: String = "policy") { notes.append(ExportNote(k, engine: engine, m, at: at)) }
        var lines: [String] = []
        func set(_ key: String, _ value: String) { lines.append("\(key)=\(value)") }
        func comment(_ text: String) { lines.append("# \(text)") }

        let caps = policy.grantedCapabilities
        let sysAdmin = caps.contains("CAP_SYS_ADMIN")

        // Syscalls.
        var allowList: [String] = []
        var families: [UInt64]?
        var restrictNamespaces = false
        let byName = Dictionary(grouping: policy.syscalls.filter { $0.syscall != "clone3" }, by: \.syscall)
        for name in byName.keys.sorted() where SyscallTable.number(of: name, arch: arch) != nil {
            let grants = byName[name] ?? []
            var denies = grants.filter { $0.effect == .deny }
            let allows = grants.filter { $0.effect == .allow }
            // Built-in denies with an exact systemd equivalent.
            if name == "clone", denies.contains(where: { $0.provenance.file == nil }) {
                denies.removeAll { $0.provenance.file == nil }
                restrictNamespaces = true
            }
            if name == "ioctl", denies.contains(where: { $0.provenance.file == nil }) {
                denies.removeAll { $0.provenance.file == nil }
                if sysAdmin {
                    note(.weaker, "ioctl TIOCSTI/TIOCLINUX cannot be filtered by argument in systemd; they are harmless only without CAP_SYS_ADMIN, which this identity holds", "built-in")
                }
            }
            guard !allows.isEmpty else { continue }
            if let d = denies.first {
                note(.stricter, "\(name): systemd cannot filter arguments, so `\(d.provenance.rule)` leaves \(name) out of the allow list entirely", d.provenance.location)
                continue
            }
            if allows.contains(where: { $0.conditions.isEmpty }) { allowList.append(name); continue }
            if name == "socket", let domains = socketDomains(allows) {
                families = domains
                allowList.append(name)
                continue
            }
            note(.stricter, "\(name): systemd cannot filter arguments, so the conditional `\(allows[0].provenance.rule)` leaves \(name) denied", allows[0].provenance.location)
        }
        for d in policy.syscalls where d.effect == .deny && d.conditions.isEmpty && d.errno != BuiltinSafeguards.defaultErrno && d.syscall != "clone3" {
            note(.stricter, "\(d.syscall) returns EPERM, not \(ErrnoNames.name(of: d.errno) ?? String(d.errno)) (SystemCallErrorNumber= is one errno for the whole allow list)", d.provenance.location)
        }
        note(.stricter, "clone3 is left out of the allow list, which answers EPERM (RestrictNamespaces= answers ENOSYS on recent systemd; which errno wins depends on filter order); a libc that falls back to clone only on ENOSYS then cannot create threads", "built-in")

        lines.append("[Service]")
        comment("Privileges")
        set("NoNewPrivileges", "yes")
        set("CapabilityBoundingSet", caps.joined(separator: " "))
        set("AmbientCapabilities", caps.joined(separator: " "))
        set("SecureBits", "noroot-locked")
        // Hardening that takes nothing the policy allows: the built-ins refuse setuid and
        // setgid bits, mounts need CAP_SYS_ADMIN, realtime scheduling CAP_SYS_NICE.
        set("RestrictSUIDSGID", "yes")
        set("PrivateMounts", "yes")
        if !caps.contains("CAP_SYS_NICE") { set("RestrictRealtime", "yes") }
        comment("Syscalls (allow list; everything else fails with EPERM)")
        set("SystemCallArchitectures", "native")
        set("SystemCallErrorNumber", "EPERM")
        for chunk in stride(from: 0, to: allowList.count, by: 12) {
            set("SystemCallFilter", allowList[chunk..<min(chunk + 12, allowList.count)].joined(separator: " "))
        }
        if allowList.isEmpty { set("SystemCallFilter", "~@known") }
        if restrictNamespaces { set("RestrictNamespaces", "yes") }
        set("LockPersonality", "yes")

        // Filesystem.
        comment("Filesystem (the policy's paths with ${workspace}=\(bindings.workspace), ${home}=\(bindings.home), ${tmp}=\(bindings.tmp))")
        let fs = ExportFilesystem(policy, bindings: bindings)
        set("ProtectSystem", "strict")
        // ProtectHome= hides /home, /root and /run/user wholesale; when an allowed path lies
        // there, the hiding below (an empty tmpfs with the allowed paths bound back) does it instead.
        let underHome = fs.grants.contains { g in ["/home", "/root", "/run/user"].contains { g.expanded == $0 || g.expanded.hasPrefix($0 + "/") } }
        if !underHome { set("ProtectHome", "yes") }
        if fs.grants.contains(where: { $0.place == .tmp }) { set("PrivateTmp", "yes") } else { set("PrivateTmp", "yes"); set("InaccessiblePaths", "-/tmp -/var/tmp") }
        let extraDevices = fs.grants.filter { $0.expanded.hasPrefix("/dev/") && $0.place != .device }
        if extraDevices.isEmpty { set("PrivateDevices", "yes") } else {
            note(.weaker, "device paths \(extraDevices.map(\.expanded).joined(separator: ", ")) need the host /dev, so PrivateDevices= is off and every device node the service's user can open is reachable", extraDevices[0].location)
        }
        set("ProtectKernelTunables", "yes")
        set("ProtectKernelModules", "yes")
        set("ProtectKernelLogs", "yes")
        set("ProtectControlGroups", "yes")
        set("ProtectClock", "yes")
        set("ProtectHostname", "yes")
        var rw = fs.grants.filter { $0.access.contains(.write) && !$0.inherited && $0.place != .device && $0.place != .tmp && $0.place != .proc }
        // Who runs it: a transient user when systemd can make every writable path for it.
        var userLines: [String] = []
        var managed: [String] = []
        switch user {
        case .fixed(let uid, let gid):
            userLines = ["User=\(uid)", "Group=\(gid)"]
        case .automatic:
            let dynamic = dynamicUserDirectories(rw.map(\.expanded))
            if let obstacle = dynamic.obstacle {
                userLines = ["# No User=: the service runs as root (without capabilities). DynamicUser= needs every writable path under /var/lib or /var/cache,",
                             "# where systemd makes directories for a transient user; \(obstacle) is not. Pass --user UID[:GID], or use such a --workspace."]
            } else {
                userLines = ["DynamicUser=yes"] + dynamic.settings.map { "\($0.key)=\($0.value)" }
                managed = rw.map(\.expanded)
                rw = []
            }
        }
        if !rw.isEmpty { set("ReadWritePaths", rw.map { "-" + $0.expanded }.joined(separator: " ")) }
        set("NoExecPaths", "/")
        let exec = fs.grants.filter { $0.access.contains(.exec) && !$0.inherited }
        if !exec.isEmpty { set("ExecPaths", exec.map { "-" + $0.expanded }.joined(separator: " ")) }
        var inaccessible: [String] = []
        var readOnly: [String] = []
        var noExec: [String] = []
        for step in fs.mounts {
            let p = bindings.expand(step.path)
            switch step.kind {
            case .mask: inaccessible.append("-" + p)
            case .readOnly: readOnly.append("-" + p)
            case .noExec: noExec.append("-" + p)
            }
        }
        // Reads outside the allowed paths (systemd has no default deny): top-level directories
        // off every allowed path become inaccessible, deeper ancestors become empty read-only
        // tmpfs, and the allowed paths below them are bound back.
        let visible = fs.grants.filter { $0.place != .device && $0.place != .tmp && $0.place != .proc && !managed.contains($0.expanded) }
        // A managed directory's first component below /var/lib or /var/cache stays visible.
        let managedTops = Set(managed.compactMap { path in
            managedRoots.first { path.hasPrefix($0.root + "/") }.map { $0.root + "/" + (path.dropFirst($0.root.count + 1).split(separator: "/").first ?? "") }
        })
        let hiding = Self.hiding(visible.map { ($0.expanded, $0.access.contains(.write)) }, listRoot: listHost, managed: managedTops.sorted())
        if !listHost {
            note(.weaker, "only the standard top-level directories are hidden (not this host's list), so others outside the allowed paths stay readable (export on the target host for the full list)")
        }
        inaccessible += hiding.inaccessible.map { "-" + $0 }
        if !hiding.tmpfs.isEmpty { set("TemporaryFileSystem", hiding.tmpfs.map { $0 + ":ro" }.joined(separator: " ")) }
        if !hiding.bindRW.isEmpty { set("BindPaths", hiding.bindRW.map { "-" + $0 }.joined(separator: " ")) }
        if !hiding.bindRO.isEmpty { set("BindReadOnlyPaths", hiding.bindRO.map { "-" + $0 }.joined(separator: " ")) }
        if !readOnly.isEmpty { set("ReadOnlyPaths", readOnly.joined(separator: " ")) }
        if !noExec.isEmpty { set("NoExecPaths", noExec.joined(separator: " ")) }
        for chunk in stride(from: 0, to: inaccessible.count, by: 8) {
            set("InaccessiblePaths", inaccessible[chunk..<min(chunk + 8, inaccessible.count)].joined(separator: " "))
        }
        set("WorkingDirectory", bindings.workspace)
        comment("User")
        lines += userLines

        // Network.
        comment("Network")
        if let first = policy.http.first {
            note(.stricter, "HTTP rules need Warden's broker, which an export cannot carry: their hosts stay unreachable and no secret is injected", first.provenance.location)
        }
        if policy.net.isEmpty {
            set("PrivateNetwork", "yes")
            if let families { set("RestrictAddressFamilies", familyNames(families).joined(separator: " ")) }
        } else {
            set("IPAddressDeny", "any")
            var allowed: [String] = []
            var binds: [String] = []
            for rule in policy.net {
                let at = rule.provenance.location
                if rule.direction == .bind {
                    // SocketBindAllow= takes protocol and ports; the peers of accepted
                    // connections must still pass IPAddressAllow= (stricter).
                    if rule.effect == .deny {
                        note(.weaker, "deny bind \(rule.endpoint): SocketBindDeny= cannot take exceptions out of an allowed bind", at)
                        continue
                    }
                    let ports = rule.endpoint.ports
                    binds.append("\(rule.proto.rawValue):" + (ports.isAny ? "" : ports.lower == ports.upper ? "\(ports.lower)" : "\(ports.lower)-\(ports.upper)"))
                    note(.stricter, "bind \(rule.endpoint): connections to it are accepted only from addresses in IPAddressAllow= (systemd's address filter has no direction)", at)
                    continue
                }
                switch rule.endpoint.host {
                case .ipv4, .ipv6, .any:
                    if rule.effect == .deny {
                        note(.weaker, "deny \(rule.endpoint): IPAddressDeny= loses to a matching IPAddressAllow=, so a deny inside an allowed network is not enforced", at)
                        continue
                    }
                    allowed.append(rule.endpoint.host == .any ? "any" : "\(rule.endpoint.host)".strippingBrackets())
                    if !rule.endpoint.ports.isAny {
                        note(.weaker, "\(rule.endpoint): IPAddressAllow= has no ports or protocol; every port of \(rule.endpoint.host) is reachable", at)
                    }
                case .domain, .wildcardDomain:
                    note(rule.effect == .allow ? .stricter : .weaker,
                         rule.effect == .allow ? "\(rule.endpoint): IPAddressAllow= takes addresses, not names; the domain stays unreachable"
                                               : "deny \(rule.endpoint): a domain cannot be denied by address; its addresses may lie in an allowed network", at)
                }
            }
            if !allowed.isEmpty { set("IPAddressAllow", allowed.joined(separator: " ")) }
            set("SocketBindDeny", "any")
            if !binds.isEmpty { set("SocketBindAllow", binds.map { $0.hasSuffix(":") ? String($0.dropLast()) : $0 }.joined(separator: " ")) }
            if let families { set("RestrictAddressFamilies", familyNames(families).joined(separator: " ")) }
        }

        // Limits.
        comment("Limits")
        set("LimitCORE", "0")
        for kind in LimitKind.allCases {
            guard let g = policy.limits[kind] else { continue }
            let n = g.value.amount
            switch kind {
            case .processes: set("TasksMax", "\(n)")
            case .openFiles: set("LimitNOFILE", "\(n)")
            case .memory: set("MemoryMax", "\(n)"); set("MemorySwapMax", "0")
            case .addressSpace: set("LimitAS", "\(n)")
            case .fileSize: set("LimitFSIZE", "\(n)")
            case .cpuTime: set("LimitCPU", "\(n)")
            case .wallTime: set("RuntimeMaxSec", "\(n)")
            }
        }
        // Environment.
        comment("Environment (`env pass` names come from the service manager's environment)")
        for (name, value) in policy.envSet { set("Environment", quoteEnv("\(name)=\(bindings.expand(envValue: value))")) }
        set("Environment", quoteEnv("TMPDIR=\(bindings.tmp)"))
        if !policy.envPass.isEmpty { comment("env pass: \(policy.envPass.joined(separator: ", "))") }

        var header = ["# Generated by `warden compile --emit systemd` for identity \(policy.identity); regenerate rather than edit."]
        if let d = policy.description { header.append("# \(d)") }
        for n in notes { header.append("# \(n.kind.rawValue.uppercased()): \(n.location): \(n.message)") }
        return ((header + lines).joined(separator: "\n") + "\n", notes)
    }

    /// Domains of a socket allow list made only of `domain == v` / `domain in [...]` conditions.
    static func socketDomains(_ allows: [SyscallGrant]) -> [UInt64]? {
        var out: [UInt64] = []
        for a in allows {
            guard a.conditions.count == 1, let c = a.conditions.first, c.argument == 0 else { return nil }
            switch c.test {
            case .compare(.equal, let v): out.append(v)
            case .oneOf(let vs): out += vs
            default: return nil
            }
        }
        return Array(Set(out)).sorted()
    }

    static func familyNames(_ values: [UInt64]) -> [String] {
        let names: [UInt64: String] = [1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET"]
        return values.compactMap { names[$0] }
    }

    /// An `Environment=` assignment, quoted for systemd (`"` and `\` escaped, `%` doubled).
    static func quoteEnv(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "%": out += "%%"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

extension String {
    /// Without the `[` `]` around an IPv6 address.
    func strippingBrackets() -> String {
        let set = "[]"
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
