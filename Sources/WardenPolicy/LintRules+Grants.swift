import WardenKernel

// Rules about what a policy grants: dangerous syscalls and capabilities, broad network
// access, sensitive or system paths, writable-and-executable paths.

extension LintRules {
    /// Syscalls that reach kernel attack surface or escape the sandbox (exact names).
    static let dangerousSyscalls: Set<String> = [
        "ptrace", "bpf", "mount", "umount", "umount2", "unshare", "setns", "perf_event_open", "keyctl",
        "add_key", "request_key", "init_module", "finit_module", "delete_module", "open_by_handle_at",
        "name_to_handle_at", "userfaultfd", "pivot_root", "chroot", "swapon", "swapoff", "reboot",
        "iopl", "ioperm", "fsopen", "fsmount", "fsconfig", "move_mount", "open_tree", "mount_setattr",
        "pidfd_getfd", "lookup_dcookie", "acct", "quotactl", "settimeofday", "clock_settime", "adjtimex",
        "clock_adjtime", "syslog", "vhangup", "nfsservctl", "create_module", "get_kernel_syms",
    ]
    /// Prefixes of dangerous syscall families (`io_uring_setup`, `process_vm_readv`, `kexec_load`).
    static let dangerousPrefixes = ["io_uring_", "process_vm_", "kexec_"]

    /// Whether allowing `name` reaches kernel attack surface or escapes the sandbox (the
    /// `dangerous-grant` lint; `warden learn` never proposes these).
    public static func isDangerousSyscall(_ name: String) -> Bool {
        dangerousSyscalls.contains(name) || dangerousPrefixes.contains { name.hasPrefix($0) }
    }

    /// Capabilities that amount to root, or to reading or changing what the sandbox protects.
    static let dangerousCapabilities: Set<String> = [
        "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_RAWIO", "CAP_BPF", "CAP_PERFMON", "CAP_SETUID", "CAP_SETGID",
        "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_SETPCAP", "CAP_SETFCAP", "CAP_FOWNER", "CAP_CHOWN",
        "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_SYS_TIME", "CAP_SYSLOG",
        "CAP_CHECKPOINT_RESTORE", "CAP_AUDIT_CONTROL", "CAP_SYS_RESOURCE",
    ]

    static let dangerousGrant = LintRule(
        id: "dangerous-grant", severity: .warning,
        rationale: "Allowing a syscall or capability that reaches kernel attack surface or escapes the sandbox needs a written reason (`because`).",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        let help = "add `because \"why the agent needs it\"` to the rule, or remove the grant"
        for rule in allRuleStatements(policy) where rule.effect.value == .allow && rule.because == nil {
            switch rule.body {
            case .syscall(let s):
                for spec in s.specs {
                    if spec.isGroup {
                        let bad = (SyscallGroups.expand(spec.name.value) ?? []).filter(isDangerousSyscall)
                        if !bad.isEmpty {
                            findings.append(LintFinding("syscall group `@\(spec.name.value)` allows dangerous syscalls: " + bad.sorted().joined(separator: ", "),
                                                        at: spec.span, help: help))
                        }
                    } else if isDangerousSyscall(spec.name.value) {
                        findings.append(LintFinding("allowing syscall `\(spec.name.value)` is dangerous", at: spec.span, help: help))
                    }
                }
            case .capability(let c):
                for n in c.names {
                    if let canonical = Capabilities.canonicalName(n.value), dangerousCapabilities.contains(canonical) {
                        findings.append(LintFinding("granting capability `\(canonical)` is dangerous", at: n.span, help: help))
                    }
                }
            default: break
            }
        }
        return findings
    }

    static let broadNetwork = LintRule(
        id: "broad-network", severity: .warning,
        rationale: "Connecting to any host (`*`, 0.0.0.0/0, ::/0, or a whole top-level domain) lets an agent exfiltrate anywhere.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        for rule in allRuleStatements(policy) where rule.effect.value == .allow {
            guard case .net(let net) = rule.body, net.direction.value == .connect else { continue }
            for e in net.endpoints {
                guard let ep = e.value else { continue }
                let what: String?
                switch ep.host {
                case .any: what = "any host"
                case .ipv4(let n) where n.prefixLength == 0: what = "every IPv4 address"
                case .ipv6(let n) where n.prefixLength == 0: what = "every IPv6 address"
                case .wildcardDomain(let d) where !d.contains("."): what = "every name under `.\(d)`"
                default: what = nil
                }
                if let what {
                    findings.append(LintFinding("`\(e.literal.value)` allows connecting to \(what)\(ep.ports.isAny ? " on any port" : "")",
                                                at: e.literal.span, help: "list the hosts the agent needs, such as \"registry.example.org:443\""))
                }
            }
        }
        return findings
    }

    /// Paths whose contents are secrets or control the host.
    static let sensitivePaths = [
        "/etc/shadow", "/etc/gshadow", "/root", "/proc/kcore", "/dev/mem", "/dev/kmem",
        "/dev/port", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/run/podman", "/var/lib/docker",
        "${home}/.ssh", "${home}/.aws", "${home}/.gnupg", "${home}/.kube", "${home}/.docker", "${home}/.netrc",
        "${home}/.git-credentials", "${home}/.config/gh", "${home}/.config/gcloud", "${home}/.azure", "${home}/.npmrc",
        "${home}/.pypirc",
    ].map(knownPath)

    /// For each grant of `identity` that exposes some of `paths` to `access`, the grant and the
    /// paths it exposes, in the order the grants are first met.
    static func exposures(of paths: [PolicyPath], to access: FsAccess, in identity: CheckedIdentity)
        -> [(rule: EffectiveRule, paths: [String])] {
        var byGrant: [SourceSpan: (rule: EffectiveRule, paths: [String])] = [:]
        var order: [SourceSpan] = []
        let view = FsView(identity)
        for s in paths {
            guard let r = view.exposing(access, s) else { continue }
            if byGrant[r.span] == nil { order.append(r.span); byGrant[r.span] = (r, []) }
            byGrant[r.span]?.paths.append(s.description)
        }
        return order.compactMap { byGrant[$0] }
    }

    static let sensitivePathReadable = LintRule(
        id: "sensitive-path-readable", severity: .warning,
        rationale: "Reading credentials (${home}/.ssh, ~/.aws, /etc/shadow) or host control sockets (docker.sock) exposes secrets to the agent.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        var reported: Set<SourceSpan> = []
        for identity in identitiesInOrder(policy) {
            for (r, paths) in exposures(of: sensitivePaths, to: .read, in: identity) where reported.insert(r.span).inserted {
                guard case .fs(_, let path) = r.action else { continue }
                let list = paths.map { "`\($0)`" }.joined(separator: ", ")
                findings.append(LintFinding("identity `\(identity.name)` can read \(list) through `\(path)`\(viaText(r))", at: r.span,
                                            help: "narrow the path, or add `deny fs read " + paths.map { "\"\($0)\"" }.joined(separator: ", ") + "`",
                                            notes: identityNote(identity, r)))
            }
        }
        return findings
    }

    /// System locations an agent must never change (and exceptions: harmless devices).
    static let systemPaths = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/sys",
                              "/proc", "/dev", "/root", "/var/lib", "/var/log", "/opt", "/srv"].map(knownPath)
    static let harmlessDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/ptmx", "/dev/shm",
                                  "/dev/stdout", "/dev/stderr", "/dev/random", "/dev/urandom", "/dev/fd"].map(knownPath)

    static let writableSystemPath = LintRule(
        id: "writable-system-path", severity: .warning,
        rationale: "Writing to system locations (/usr, /etc, /bin, /lib, /boot, /proc, /sys, /dev, /root, or `/` itself) lets an agent change the host for everyone.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        for rule in allRuleStatements(policy) where rule.effect.value == .allow {
            guard case .fs(let fs) = rule.body, fs.access.contains(where: { $0.value == .write }) else { continue }
            for p in fs.paths {
                guard let path = p.value, path.base == nil else { continue }
                if harmlessDevices.contains(where: { pathWithin(path, $0) }) { continue }
                let hit = systemPaths.first { pathWithin(path, $0) || pathWithin($0, path) }
                guard let hit else { continue }
                let what = path.components.isEmpty ? "the whole file system" : pathWithin(hit, path) && hit != path ? "`\(hit)` and more" : "`\(hit)`"
                findings.append(LintFinding("allowing write to `\(path)` lets the agent change \(what)", at: p.literal.span,
                                            help: "grant write only to ${workspace}, ${tmp} or a dedicated directory"))
            }
        }
        return findings
    }

    /// Files a shell or a login runs later, outside the sandbox.
    static let startupFiles = [
        "${home}/.bashrc", "${home}/.bash_profile", "${home}/.bash_login", "${home}/.bash_logout", "${home}/.profile",
        "${home}/.zshrc", "${home}/.zshenv", "${home}/.zprofile", "${home}/.zlogin", "${home}/.config/fish",
        "${home}/.ssh", "${home}/.config/autostart", "${home}/.config/systemd", "${home}/.gitconfig", "${home}/.local/bin",
        "/etc/profile", "/etc/profile.d", "/etc/bash.bashrc", "/etc/cron.d", "/etc/crontab", "/etc/systemd",
    ].map(knownPath)

    static let writableStartupFile = LintRule(
        id: "writable-startup-file", severity: .warning,
        rationale: "Shell start-up files, ~/.ssh, ~/.gitconfig, cron and systemd units run later outside the sandbox: writing them escapes it.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        var reported: Set<SourceSpan> = []
        for identity in identitiesInOrder(policy) {
            for (r, paths) in exposures(of: startupFiles, to: .write, in: identity) where reported.insert(r.span).inserted {
                guard case .fs(_, let path) = r.action else { continue }
                let shown = paths.prefix(4).map { "`\($0)`" }.joined(separator: ", ") + (paths.count > 4 ? " and \(paths.count - 4) more" : "")
                let through = paths == [path.description] ? "" : " through `\(path)`"
                findings.append(LintFinding("identity `\(identity.name)` can write \(shown)\(through)\(viaText(r))", at: r.span,
                                            help: "narrow the path, or deny write to the start-up files it covers",
                                            notes: identityNote(identity, r)))
            }
        }
        return findings
    }

    static let writableExecutablePath = LintRule(
        id: "writable-executable-path", severity: .warning,
        rationale: "A path outside ${workspace} and ${tmp} that is both writable and executable lets an agent plant and run code that persists.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        var reported: Set<[SourceSpan]> = []
        for identity in identitiesInOrder(policy) {
            // Only paths outside ${workspace} and ${tmp} matter. A write and an exec grant
            // meet when one path lies within the other: look up the ancestors of each
            // grant's path in the index (not every pair of grants, which is quadratic).
            let view = FsView(identity)
            func grants(_ e: FsView.Entry) -> Bool { e.allow && e.path.base != .workspace && e.path.base != .tmp }
            var pairs: Set<[Int]> = []
            for e in view.entries where grants(e) && (e.write || e.exec) {
                for k in view.covering(e.path) where grants(view.entries[k]) {
                    let a = view.entries[k]
                    if e.exec && a.write { pairs.insert([a.index, e.index]) }
                    if e.write && a.exec { pairs.insert([e.index, a.index]) }
                }
            }
            for pair in pairs.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let w = identity.rules[pair[0]], x = identity.rules[pair[1]]
                guard case .fs(_, let wp) = w.action, case .fs(_, let xp) = x.action else { continue }
                // Report at the rule naming the deeper path (where write and exec meet).
                let at: EffectiveRule, overlap: PolicyPath, notes: [RelatedNote]
                if pair[0] == pair[1] {
                    (at, overlap, notes) = (w, wp, [])
                } else if pathWithin(xp, wp) {
                    (at, overlap, notes) = (x, xp, [RelatedNote("write is granted here", at: w.span)])
                } else {
                    (at, overlap, notes) = (w, wp, [RelatedNote("exec is granted here", at: x.span)])
                }
                if view.denies(.write, overlap) || view.denies(.exec, overlap) { continue }
                guard reported.insert([at.span] + notes.map(\.span)).inserted else { continue }
                findings.append(LintFinding("`\(overlap)` is both writable and executable for identity `\(identity.name)`\(viaText(at))", at: at.span,
                                            help: "keep write and exec apart, or work in ${workspace} or ${tmp}",
                                            notes: notes + identityNote(identity, at)))
            }
        }
        return findings
    }
}
