import WardenKernel
import WardenPolicy

/// Decisions Warden adds to every identity, whatever its policy says. Each is visible in
/// `warden explain` and the compiled plan with a `built-in` provenance.
enum BuiltinSafeguards {
    /// The errno a denied syscall returns unless its rule says otherwise.
    static let defaultErrno: Int32 = 1  // EPERM

    static let enosys: Int32 = 38

    /// The namespace-creating clone flags (CLONE_NEWNS … CLONE_NEWNET).
    static let namespaceCloneFlags: [(name: String, value: UInt64)] = [
        ("CLONE_NEWNS", 0x0002_0000), ("CLONE_NEWCGROUP", 0x0200_0000), ("CLONE_NEWUTS", 0x0400_0000),
        ("CLONE_NEWIPC", 0x0800_0000), ("CLONE_NEWUSER", 0x1000_0000), ("CLONE_NEWPID", 0x2000_0000),
        ("CLONE_NEWNET", 0x4000_0000),
    ]

    /// Terminal ioctls that inject input into, or take over, a terminal.
    static let terminalInjection: [(name: String, value: UInt64)] = [
        ("TIOCSTI", NamedConstants.value(of: "TIOCSTI") ?? 0x5412),
        ("TIOCLINUX", NamedConstants.value(of: "TIOCLINUX") ?? 0x541C),
    ]

    /// Device and proc paths that ordinary programs need.
    static let fsGrants: [(access: Set<FsAccess>, path: String, why: String)] = [
        ([.read, .write], "/dev/null", "programs write to and read from /dev/null"),
        ([.read, .write], "/dev/zero", "programs read zeroes from /dev/zero"),
        ([.read, .write], "/dev/full", "programs test error paths with /dev/full"),
        ([.read], "/dev/urandom", "programs need random numbers"),
        ([.read], "/dev/random", "programs need random numbers"),
        ([.read], "/proc", "programs read their own /proc entries (a fresh /proc of the agent's PID namespace)"),
    ]

    static let span = SourceSpan(file: "<built-in>", start: SourceLocation(offset: 0, line: 0, column: 0),
                                 end: SourceLocation(offset: 0, line: 0, column: 0))

    static func apply(to policy: inout EffectivePolicy) {
        policy.syscalls.append(SyscallGrant(
            effect: .deny, syscall: "clone3", conditions: [], errno: enosys,
            provenance: .builtin("deny syscall clone3 errno ENOSYS",
                                 because: "clone3 passes its flags in memory that seccomp cannot inspect; ENOSYS makes libc fall back to clone")))
        for ioctl in terminalInjection {
            policy.syscalls.append(SyscallGrant(
                effect: .deny, syscall: "ioctl",
                conditions: [SyscallCondition.make(argument: 1, argumentName: "request", is32Bit: true,
                                              test: .compare(.equal, ioctl.value), span: span)],
                errno: defaultErrno,
                provenance: .builtin("deny syscall ioctl(request == \(ioctl.name))",
                                     because: "\(ioctl.name) injects input into or takes over a terminal outside the sandbox")))
        }
        let allowsNamespaces = policy.syscalls.contains { $0.effect == .allow && $0.syscall == "unshare" }
        if !allowsNamespaces {
            for flag in namespaceCloneFlags {
                policy.syscalls.append(SyscallGrant(
                    effect: .deny, syscall: "clone",
                    conditions: [SyscallCondition.make(argument: 0, argumentName: "flags", is32Bit: false,
                                                  test: .masked(mask: flag.value, value: flag.value), span: span)],
                    errno: defaultErrno,
                    provenance: .builtin("deny syscall clone(flags & \(flag.name) == \(flag.name))",
                                         because: "new namespaces expose kernel attack surface; allow unshare to permit them")))
            }
        }
        applySetID(to: &policy)
        if policy.isNetworkMediated { applyNetwork(to: &policy) }
        for grant in fsGrants {
            guard case .success(let path) = PolicyPath.parse(grant.path) else { continue }
            policy.fs.append(FsGrant(effect: .allow, access: grant.access, path: path,
                                     provenance: .builtin("allow fs \(grant.access.map(\.rawValue).sorted().joined(separator: ", ")) \"\(grant.path)\"",
                                                          because: grant.why)))
        }
    }

    /// The syscalls that set a file's mode from a register, with the mode's argument index.
    static let modeSetting: [(syscall: String, argument: Int)] = [
        ("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("fchmodat2", 2),
        ("open", 2), ("openat", 3), ("creat", 1), ("mknod", 1), ("mknodat", 2),
    ]

    /// The calls whose mode register counts only with some flags, with the flags' argument
    /// index: open and openat read the mode only with O_CREAT or O_TMPFILE, and otherwise
    /// leave whatever the register held (rustc's plain opens carry such garbage).
    static let modeNeedsFlags: [String: Int] = ["open": 1, "openat": 2]

    /// O_CREAT, and the bit that makes O_TMPFILE (which also sets O_DIRECTORY).
    static let creatingFlags: [(name: String, value: UInt64)] = [("O_CREAT", 0o100), ("__O_TMPFILE", 0o20000000)]

    /// The agent writes files that programs outside run later, often as root: a setuid or
    /// setgid file it leaves behind would hand its privileges to anyone on the host (nosuid
    /// holds only inside the sandbox). Setting either bit is refused; openat2, whose mode
    /// lies in memory, answers ENOSYS so callers fall back to openat.
    static func applySetID(to policy: inout EffectivePolicy) {
        for (name, bit) in [("S_ISUID", UInt64(0o4000)), ("S_ISGID", UInt64(0o2000))] {
            for call in modeSetting {
                let mode = SyscallCondition.make(argument: call.argument, argumentName: "mode", is32Bit: true,
                                                 test: .masked(mask: bit, value: bit), span: span)
                var variants: [(conditions: [SyscallCondition], label: String)] = [([mode], "mode & \(name) == \(name)")]
                if let flagsArgument = modeNeedsFlags[call.syscall] {
                    variants = creatingFlags.map { flag in
                        ([SyscallCondition.make(argument: flagsArgument, argumentName: "flags", is32Bit: true,
                                                test: .masked(mask: flag.value, value: flag.value), span: span), mode],
                         "flags & \(flag.name) == \(flag.name), mode & \(name) == \(name)")
                    }
                }
                for variant in variants {
                    policy.syscalls.append(SyscallGrant(
                        effect: .deny, syscall: call.syscall, conditions: variant.conditions, errno: defaultErrno,
                        provenance: .builtin("deny syscall \(call.syscall)(\(variant.label))",
                                             because: "a setuid or setgid file left in the workspace would run with its owner's privileges outside the sandbox")))
                }
            }
        }
        policy.syscalls.append(SyscallGrant(
            effect: .deny, syscall: "openat2", conditions: [], errno: enosys,
            provenance: .builtin("deny syscall openat2 errno ENOSYS",
                                 because: "openat2 passes the new file's mode in memory that seccomp cannot inspect; ENOSYS makes callers fall back to openat")))
    }

    /// The calls of `@id-switch`: without CAP_SETUID/CAP_SETGID they only switch among the
    /// IDs the process already holds (GNU make calls `setresuid(-1, 0, -1)` before each
    /// child), so `@default` allows them.
    static let idSwitch: Set<String> = Set(SyscallGroups.expand("@id-switch") ?? [])
    /// The groups that name the ID-switch calls on purpose (their allows always count).
    static let idSwitchGroups: Set<String> = ["id-switch", "setuid"]
    static let idCapabilities = ["CAP_SETUID", "CAP_SETGID"]

    /// With CAP_SETUID or CAP_SETGID the ID-switch calls take any ID, so the allows a broad
    /// group (`@default`) brought are withdrawn (the indices in `incidentalAllows`) and
    /// replaced by a visible built-in deny. A rule naming the calls (or `@id-switch`,
    /// `@setuid`) still allows them; deny-over-allow would not let it, so no deny is added
    /// for a call such a rule allows.
    static func applyIDSwitch(to policy: inout EffectivePolicy, incidentalAllows: Set<Int>) {
        let held = idCapabilities.filter { policy.decideCapability($0).effect == .allow }
        guard !held.isEmpty, !incidentalAllows.isEmpty else { return }
        policy.syscalls = policy.syscalls.enumerated().filter { !incidentalAllows.contains($0.offset) }.map(\.element)
        for name in idSwitch.sorted() where !policy.syscalls.contains(where: { $0.syscall == name && $0.effect == .allow }) {
            policy.syscalls.append(SyscallGrant(
                effect: .deny, syscall: name, conditions: [], errno: defaultErrno,
                provenance: .builtin("deny syscall \(name)",
                                     because: "the identity holds \(held.joined(separator: ", ")), with which \(name) takes any ID; @default allows it only without them (allow it by name, with a reason, if needed)")))
        }
    }

    /// EACCES: what mediated network calls and refused socket kinds return.
    static let eacces: Int32 = 13

    /// With network rules the agent shares the host network, so only the socket kinds that
    /// network mediation understands may be created: unix, IPv4 and IPv6 stream/datagram
    /// sockets. Raw and packet sockets, netlink and every other family are refused.
    static func applyNetwork(to policy: inout EffectivePolicy) {
        let families: [(String, UInt64)] = [("AF_UNIX", 1), ("AF_INET", 2), ("AF_INET6", 10)]
        policy.syscalls.append(SyscallGrant(
            effect: .deny, syscall: "socket",
            conditions: families.map {
                SyscallCondition.make(argument: 0, argumentName: "domain", is32Bit: true, test: .compare(.notEqual, $0.1), span: span)
            },
            errno: eacces,
            provenance: .builtin("deny syscall socket(domain not in [AF_UNIX, AF_INET, AF_INET6]) errno EACCES",
                                 because: "with network rules the agent shares the host network; netlink, packet and other families would bypass network mediation")))
        // Inet sockets: TCP and UDP only. SCTP connects through setsockopt
        // (SCTP_SOCKOPT_CONNECTX), ICMP "ping" sockets and MPTCP are other ways out.
        for (family, value) in [("AF_INET", UInt64(2)), ("AF_INET6", UInt64(10))] {
            policy.syscalls.append(SyscallGrant(
                effect: .deny, syscall: "socket",
                conditions: [SyscallCondition.make(argument: 0, argumentName: "domain", is32Bit: true, test: .compare(.equal, value), span: span)]
                    + [UInt64(0), 6, 17].map {
                        SyscallCondition.make(argument: 2, argumentName: "protocol", is32Bit: true, test: .compare(.notEqual, $0), span: span)
                    },
                errno: eacces,
                provenance: .builtin("deny syscall socket(domain == \(family), protocol not in [0, IPPROTO_TCP, IPPROTO_UDP]) errno EACCES",
                                     because: "network mediation understands TCP and UDP; SCTP, ICMP and MPTCP sockets reach destinations past it")))
        }
        // Source routing sends packets to the first hop of a route the agent chooses, not to
        // the decided destination: IPv4 IP_OPTIONS, and the IPv6 routing header (directly or
        // through the RFC 2292 packet options). Optname 57 is matched at every level (it is
        // IPV6_RTHDR; elsewhere only the read-only SO_COOKIE), which keeps the filter small.
        let sourceRouting: [(conditions: [SyscallCondition], label: String)] = [
            ([SyscallCondition.make(argument: 1, argumentName: "level", is32Bit: true, test: .compare(.equal, 0), span: span),
              SyscallCondition.make(argument: 2, argumentName: "optname", is32Bit: true, test: .compare(.equal, 4), span: span)],
             "level == IPPROTO_IP, optname == IP_OPTIONS"),
            ([SyscallCondition.make(argument: 1, argumentName: "level", is32Bit: true, test: .compare(.equal, 41), span: span),
              SyscallCondition.make(argument: 2, argumentName: "optname", is32Bit: true, test: .compare(.equal, 6), span: span)],
             "level == IPPROTO_IPV6, optname == IPV6_2292PKTOPTIONS"),
            ([SyscallCondition.make(argument: 2, argumentName: "optname", is32Bit: true, test: .compare(.equal, 57), span: span)],
             "optname == IPV6_RTHDR"),
        ]
        for rule in sourceRouting {
            policy.syscalls.append(SyscallGrant(
                effect: .deny, syscall: "setsockopt", conditions: rule.conditions, errno: eacces,
                provenance: .builtin("deny syscall setsockopt(\(rule.label)) errno EACCES",
                                     because: "source routing would send packets to a first hop the policy never decided")))
        }
        // SO_REUSEPORT joins a port another socket of the same uid holds: set on an agent's
        // loopback socket (before, during or after its bind or listen), a host service of the
        // same uid binding that port later, or already bound with it, would share it with the
        // agent (its clients load-balanced to the agent, the agent's "own" connects delivered
        // to the host service). The supervisor cannot check the flag without a race (the
        // agent shares the socket), so the call itself is refused, for every socket.
        policy.syscalls.append(SyscallGrant(
            effect: .deny, syscall: "setsockopt",
            conditions: [SyscallCondition.make(argument: 1, argumentName: "level", is32Bit: true, test: .compare(.equal, 1), span: span),
                         SyscallCondition.make(argument: 2, argumentName: "optname", is32Bit: true, test: .compare(.equal, 15), span: span)],
            errno: eacces,
            provenance: .builtin("deny syscall setsockopt(level == SOL_SOCKET, optname == SO_REUSEPORT) errno EACCES",
                                 because: "with network rules the agent shares the host network; SO_REUSEPORT would share a port with a host service of the same uid")))
        for (name, value) in [("SOCK_RAW", UInt64(3)), ("SOCK_PACKET", UInt64(10))] {
            policy.syscalls.append(SyscallGrant(
                effect: .deny, syscall: "socket",
                conditions: [SyscallCondition.make(argument: 1, argumentName: "type", is32Bit: true,
                                                   test: .masked(mask: 0xf, value: value), span: span)],
                errno: eacces,
                provenance: .builtin("deny syscall socket(type & 0xf == \(name)) errno EACCES",
                                     because: "raw and packet sockets forge traffic past network mediation")))
        }
    }
}
