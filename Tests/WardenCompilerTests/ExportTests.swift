import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy

/// Interprets an exported OCI seccomp profile the way a runtime hands it to libseccomp:
/// a rule matches when its name matches and all its comparisons hold (64-bit, unsigned).
/// Returns every distinct action that matches, so a test can check the rules are disjoint.
private func ociActions(_ profile: ExportValue, syscall: String, args: [UInt64]) -> [SeccompAction] {
    guard case .array(let rules)? = profile["syscalls"] else { return [] }
    var out: [SeccompAction] = []
    for rule in rules {
        guard case .array(let names)? = rule["names"], names.contains(.string(syscall)) else { continue }
        var holds = true
        if case .array(let conds)? = rule["args"] {
            for c in conds {
                guard case .uint(let i)? = c["index"], case .uint(let v)? = c["value"], case .uint(let v2)? = c["valueTwo"],
                      case .string(let op)? = c["op"] else { holds = false; break }
                let x = args[Int(i)]
                switch op {
                case "SCMP_CMP_NE": holds = x != v
                case "SCMP_CMP_LT": holds = x < v
                case "SCMP_CMP_LE": holds = x <= v
                case "SCMP_CMP_EQ": holds = x == v
                case "SCMP_CMP_GE": holds = x >= v
                case "SCMP_CMP_GT": holds = x > v
                case "SCMP_CMP_MASKED_EQ": holds = x & v == v2
                default: holds = false
                }
                if !holds { break }
            }
        }
        guard holds else { continue }
        let action: SeccompAction
        switch rule["action"] {
        case .string("SCMP_ACT_ALLOW")?: action = .allow
        case .string("SCMP_ACT_ERRNO")?:
            guard case .uint(let e)? = rule["errnoRet"] else { continue }
            action = .errno(UInt16(e))
        case .string("SCMP_ACT_KILL_PROCESS")?: action = .killProcess
        default: continue
        }
        if !out.contains(action) { out.append(action) }
    }
    return out
}

private func defaultAction(_ profile: ExportValue) -> SeccompAction {
    guard case .uint(let e)? = profile["defaultErrnoRet"] else { return .errno(1) }
    return .errno(UInt16(e))
}

/// A small deterministic generator (xorshift) for argument values.
private struct Values {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    /// Interesting values first, then random ones with random upper halves.
    mutating func arg(_ interesting: [UInt64]) -> UInt64 {
        let r = next()
        switch r % 4 {
        case 0: return interesting.isEmpty ? r : interesting[Int(next() % UInt64(interesting.count))]
        case 1: return (interesting.isEmpty ? 0 : interesting[Int(next() % UInt64(interesting.count))]) | (next() << 32)
        case 2: return next() & 0xff
        default: return next()
        }
    }
}

@Suite struct ExportTests {
    static let overlapping = """
    warden 1
    identity agent {
      allow syscall read, write, close, exit_group, ioctl, clone, kill
      allow syscall socket(domain in [AF_UNIX, AF_INET, AF_INET6])
      deny  syscall socket(type & 0xf == 3) errno EACCES
      deny  syscall kill(sig == 9)
      allow syscall prctl(option == 15)
      allow syscall prctl(option >= 1000)
      deny  syscall prctl(option > 4000) errno EINVAL
      deny  syscall socket(domain == 10) errno EAFNOSUPPORT
      allow fs read "/usr"
    }
    """

    @Test func ociSeccompRulesAreDisjointAndAgreeWithTheEvaluator() throws {
        for arch in Architecture.allCases {
            let policy = try effective(Self.overlapping).seccompPolicy(arch: arch, notify: false)
            let profile = try OCISeccompExport.profile(policy)
            try OCISeccompExport.verifyAsRuntime(profile, policy: policy)
            #expect(profile["architectures"] == .array([.string(OCISeccompExport.archName(arch))]))
            let evaluator = try SeccompEvaluator(policy: policy)
            var values = Values()
            let interesting: [UInt64] = [0, 1, 2, 3, 9, 10, 15, 100, 101, 999, 1000, 4000, 4001, 0x5412, 0x541C, 0x7E02_0000, 0x1000_0000, 0xffff_ffff]
            for name in ["read", "write", "close", "ioctl", "clone", "kill", "socket", "prctl", "clone3", "bpf", "ptrace"] {
                for _ in 0..<150 {
                    let args = (0..<6).map { _ in values.arg(interesting) }
                    let matched = ociActions(profile, syscall: name, args: args)
                    #expect(matched.count <= 1, "\(arch) \(name)\(args): overlapping rules \(matched)")
                    let got = matched.first ?? defaultAction(profile)
                    let want = evaluator.evaluate(syscall: name, args: args)
                    #expect(got == want, "\(arch) \(name)\(args): export \(got), policy \(want)")
                }
            }
        }
    }

    @Test func defaultPolicyDeniesTheDangerousSyscallsInTheExport() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow syscall @default\n}\n")
        let profile = try OCISeccompExport.profile(p.seccompPolicy(arch: .x86_64, notify: false))
        #expect(profile["defaultAction"] == .string("SCMP_ACT_ERRNO"))
        #expect(profile["defaultErrnoRet"] == .uint(1))
        for name in ["bpf", "ptrace", "unshare", "mount", "perf_event_open", "io_uring_setup"] {
            #expect(ociActions(profile, syscall: name, args: [0, 0, 0, 0, 0, 0]).isEmpty, "\(name) must fall to the default deny")
        }
        #expect(ociActions(profile, syscall: "clone3", args: [0, 0, 0, 0, 0, 0]) == [.errno(38)])
        #expect(ociActions(profile, syscall: "clone", args: [0x1000_0000, 0, 0, 0, 0, 0]).isEmpty, "CLONE_NEWUSER")
        #expect(ociActions(profile, syscall: "ioctl", args: [0, 0x5412, 0, 0, 0, 0]).isEmpty, "TIOCSTI")
        #expect(ociActions(profile, syscall: "ioctl", args: [0, 0x1_0000_5412, 0, 0, 0, 0]).isEmpty, "TIOCSTI with garbage above bit 31")
        #expect(ociActions(profile, syscall: "ioctl", args: [0, 0x5401, 0, 0, 0, 0]) == [.allow], "TCGETS")
    }

    /// The runtime-style verification can fail: a profile whose rules disagree with the policy is refused.
    @Test func runtimeVerificationRejectsAProfileThatDisagrees() throws {
        let policy = try effective(Self.overlapping).seccompPolicy(arch: .native, notify: false)
        guard case .object(var fields) = try OCISeccompExport.profile(policy),
              let i = fields.firstIndex(where: { $0.0 == "syscalls" }), case .array(var rules) = fields[i].1 else {
            Issue.record("no syscalls"); return
        }
        // An unconditional allow for kill swallows the deny of kill(sig == 9).
        rules.append(.object([("names", .array([.string("kill")])), ("action", .string("SCMP_ACT_ALLOW"))]))
        fields[i].1 = .array(rules)
        #expect(throws: SeccompCompileError.self) { try OCISeccompExport.verifyAsRuntime(.object(fields), policy: policy) }
    }

    @Test func valuesKeepAll64BitsAndQuoteStrings() {
        let v = ExportValue.object([("big", .uint(.max)), ("s", .string("a\"b\\c\n\u{1}")), ("no", .string("no"))])
        #expect(v.json().contains("18446744073709551615"))
        #expect(v.json().contains(#""a\"b\\c\n\u0001""#))
        let yaml = v.yaml()
        #expect(yaml.contains("big: 18446744073709551615\n"))
        #expect(yaml.contains("\"no\": \"no\"\n"), "a key that YAML 1.1 reads as a boolean is quoted")
    }

    static let bindings = PathBindings(workspace: "/ws", home: "/home/u", tmp: "/tmp")

    @Test func bundleExpressesDenyExecInsideAnAllowedTreeWithANoexecBind() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow fs read, write, exec "${workspace}"
          deny fs exec "${workspace}/downloads"
          allow fs read "/etc"
        }
        """)
        let binds = OCIExportOptions(bindings: Self.bindings, rootfs: .hostBinds, args: ["/bin/true"])
        let (config, notes) = try OCIExport.config(p, options: binds)
        #expect(!notes.contains { $0.kind == .weaker && $0.message.contains("downloads") })
        guard case .array(let mounts)? = config["mounts"] else { Issue.record("no mounts"); return }
        let noexec = mounts.first { $0["destination"] == .string("/ws/downloads") }
        #expect(noexec?["options"] == .array(["bind", "nosuid", "nodev", "noexec"].map { .string($0) }), "stays writable, loses exec")
        let etc = mounts.first { $0["destination"] == .string("/etc") }
        #expect(etc?["options"] == .array(["bind", "nosuid", "nodev", "ro", "noexec"].map { .string($0) }))

        let image = OCIExportOptions(bindings: Self.bindings, rootfs: .image)
        let (_, imageNotes) = try OCIExport.config(p, options: image)
        #expect(imageNotes.contains { $0.kind == .weaker && $0.message.contains("Landlock") })
    }

    /// A cache (a writable directory under the home) in an image rootfs: a tmpfs of its own,
    /// noexec, so the image root stays read-only.
    @Test func aCacheInAnImageRootfsIsATmpfsAndTheRootStaysReadOnly() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  cache \"${home}/.m2\"\n}\n")
        let (config, notes) = try OCIExport.config(p, options: OCIExportOptions(bindings: Self.bindings, rootfs: .image))
        #expect(config["root"]?["readonly"] == .bool(true))
        #expect(!notes.contains { $0.message.contains("image paths") })
        guard case .array(let mounts)? = config["mounts"] else { Issue.record("no mounts"); return }
        let m2 = mounts.first { $0["destination"] == .string(Self.bindings.home + "/.m2") }
        #expect(m2?["type"] == .string("tmpfs"))
        #expect(m2?["options"] == .array(["nosuid", "nodev", "noexec", "mode=0700"].map { .string($0) }))
    }

    @Test func grantsWithoutReadAreWeakerAsBinds() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  allow fs exec \"/opt/tool\"\n}\n")
        let (_, notes) = try OCIExport.config(p, options: OCIExportOptions(bindings: Self.bindings, rootfs: .hostBinds))
        #expect(notes.contains { $0.kind == .weaker && $0.message.contains("/opt/tool") && $0.message.contains("without read") })
    }

    @Test func rlimitProcessesForRootIsWeakerButCgroupIsNot() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  limit processes 64\n}\n")
        let cg = try OCIExport.config(p, options: OCIExportOptions(bindings: Self.bindings, rootfs: .hostBinds))
        #expect(cg.notes.filter { $0.kind == .weaker }.isEmpty)
        #expect(cg.config["linux"]?["resources"]?["pids"]?["limit"] == .int(64))
        let rl = try OCIExport.config(p, options: OCIExportOptions(bindings: Self.bindings, rootfs: .hostBinds, cgroupLimits: false))
        #expect(rl.notes.contains { $0.kind == .weaker && $0.message.contains("RLIMIT_NPROC") })
        let user = try OCIExport.config(p, options: OCIExportOptions(bindings: Self.bindings, rootfs: .hostBinds, uid: 1000, gid: 1000, cgroupLimits: false))
        #expect(user.notes.filter { $0.kind == .weaker }.isEmpty)
    }

    @Test func networkPolicyTurnsDeniedSubnetsIntoExceptAndNamesDomainsAsInexpressible() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow net connect tcp "10.0.0.0/8:443", "registry.example.org:443"
          deny  net connect tcp "10.9.0.0/16:*"
          allow fs read "/usr"
        }
        """)
        let out = try KubernetesExport.export(p, options: KubernetesExportOptions())
        #expect(out.yaml.contains("cidr: \"10.0.0.0/8\""))
        #expect(out.yaml.contains("- \"10.9.0.0/16\""), "\(out.yaml)")
        #expect(out.yaml.contains("# Not expressible (NetworkPolicy has no domain names): allow connect tcp registry.example.org:443"))
        #expect(out.notes.contains { $0.kind == .stricter && $0.message.contains("registry.example.org") })

        let q = try effective("""
        warden 1
        identity agent {
          allow net connect tcp "10.0.0.0/8:443"
          deny  net connect tcp "evil.example.org:443"
          allow fs read "/usr"
        }
        """)
        let weak = try KubernetesExport.export(q, options: KubernetesExportOptions())
        #expect(weak.notes.contains { $0.kind == .weaker && $0.message.contains("evil.example.org") })
    }

    /// A cache (a writable directory under the home): an emptyDir of its own, so the root
    /// filesystem stays read-only; no noexec in the Pod API (weaker, said).
    @Test func kubernetesGivesACacheAnEmptyDirAndKeepsTheRootReadOnly() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  cache \"${home}/.m2\"\n}\n")
        let out = try KubernetesExport.export(p, options: KubernetesExportOptions())
        #expect(out.yaml.contains("readOnlyRootFilesystem: true"), "\(out.yaml)")
        #expect(out.yaml.contains("- name: \"home-0\"") && out.yaml.contains("/.m2\""), "\(out.yaml)")
        #expect(out.notes.contains { $0.kind == .weaker && $0.message.contains(".m2") && $0.message.contains("noexec") })
        #expect(!out.notes.contains { $0.message.contains("image paths") })
    }

    @Test func kubernetesUsesItsCapabilitySpellingAndRootOnlyWithCapabilities() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  allow capability NET_BIND_SERVICE\n}\n")
        let out = try KubernetesExport.export(p, options: KubernetesExportOptions())
        #expect(out.yaml.contains("add:\n              - \"NET_BIND_SERVICE\"\n"), "\(out.yaml)")
        #expect(!out.yaml.contains("runAsNonRoot: true"))
        #expect(out.yaml.contains("runAsUser: 0"))
        let q = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n")
        let plain = try KubernetesExport.export(q, options: KubernetesExportOptions())
        #expect(plain.yaml.contains("runAsNonRoot: true"))
    }

    @Test func systemdLeavesConditionalSyscallsOutAndMapsBuiltinsToSettings() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow syscall read, write, ioctl, clone, exit_group
          allow syscall prctl(option == 15)
          allow syscall socket(domain in [AF_UNIX, AF_INET])
          allow fs read, write, exec "${workspace}"
          allow fs read, exec "/usr"
          deny fs exec "${workspace}/bin"
          limit processes 32
          limit wall-time 10m
        }
        """)
        let (text, notes) = SystemdExport.dropIn(p, bindings: Self.bindings, listHost: false)
        let filter = text.split(separator: "\n").filter { $0.hasPrefix("SystemCallFilter=") }.joined(separator: " ")
        #expect(filter.contains("ioctl") && filter.contains("clone") && filter.contains("socket"))
        #expect(!filter.contains("prctl"))
        #expect(notes.contains { $0.kind == .stricter && $0.message.contains("prctl") })
        #expect(text.contains("RestrictNamespaces=yes\n"))
        #expect(text.contains("RestrictAddressFamilies=AF_UNIX AF_INET\n"))
        #expect(text.contains("PrivateDevices=yes\n"))
        #expect(text.contains("NoExecPaths=-/ws/bin\n"))
        #expect(text.contains("ExecPaths=-/usr -/ws\n") || text.contains("ExecPaths=-/ws -/usr\n"))
        #expect(text.contains("ReadWritePaths=-/ws\n"))
        #expect(text.contains("TasksMax=32\n") && text.contains("RuntimeMaxSec=600\n"))
        #expect(text.contains("PrivateNetwork=yes\n"))
        #expect(text.contains("CapabilityBoundingSet=\n"))

        #expect(text.contains("ProtectHome=yes\n"))

        // A workspace under /home: no ProtectHome=, but /home becomes an empty tmpfs with the workspace bound back.
        let (homeText, _) = SystemdExport.dropIn(p, bindings: PathBindings(workspace: "/home/dev/repo", home: "/home/dev", tmp: "/tmp"), listHost: false)
        #expect(!homeText.contains("ProtectHome="))
        #expect(homeText.contains("TemporaryFileSystem=/home:ro\n"))
        #expect(homeText.contains("BindPaths=-/home/dev/repo\n"))

        let admin = try effective("warden 1\nidentity agent {\n  allow syscall ioctl\n  allow capability SYS_ADMIN\n  allow fs read \"/usr\"\n}\n")
        let (_, adminNotes) = SystemdExport.dropIn(admin, bindings: Self.bindings, listHost: false)
        #expect(adminNotes.contains { $0.kind == .weaker && $0.message.contains("TIOCSTI") })
    }

    /// `env set` variables: the plan keeps the value as written (like paths); each export
    /// binds it with its own bindings.
    @Test func envSetVariablesAreExpandedByExportsAndKeptInThePlan() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n  env set CACHE = \"${tmp}/c:${workspace}/x\"\n  limit address-space 2GiB\n}\n")
        let (text, _) = SystemdExport.dropIn(p, bindings: Self.bindings, listHost: false)
        #expect(text.contains("CACHE=/tmp/c:/ws/x"), "\(text)")
        #expect(text.contains("LimitAS=\(2 << 30)"))
        let k8s = try KubernetesExport.export(p, options: KubernetesExportOptions())
        #expect(k8s.yaml.contains("/tmp/c:/workspace/x"), "\(k8s.yaml)")
        let plan = try p.enforcementPlan().plan
        #expect(plan.env.set["CACHE"] == "${tmp}/c:${workspace}/x")
    }
}
