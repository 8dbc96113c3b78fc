import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy

/// Loads an in-memory policy (plus optional includes) and builds one identity.
func effective(_ text: String, identity: String = "agent", includes: [String: String] = [:]) throws -> EffectivePolicy {
    var files = includes
    files["/p/main.warden"] = text
    let analysis = try PolicyLoader(provider: InMemorySourceProvider(files)).analyze("/p/main.warden")
    let errors = analysis.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "\(errors.map(\.message))")
    return try EffectivePolicy(policy: analysis.policy, identity: identity)
}

func path(_ s: String) -> PolicyPath {
    guard case .success(let p) = PolicyPath.parse(s) else { fatalError("bad test path \(s)") }
    return p
}

@Suite struct EffectivePolicyTests {
    @Test func denyWinsWhateverTheOrderNestingAndInclude() throws {
        let base = """
        warden 1
        permissions secrets-off {
          deny fs read "${home}/.ssh"
        }
        """
        for order in [0, 1] {
            let rules = [#"allow fs read "${home}""#, #"use secrets-off"#]
            let body = order == 0 ? rules.joined(separator: "\n  ") : rules.reversed().joined(separator: "\n  ")
            let p = try effective("""
            warden 1
            include "base.warden"
            identity agent {
              \(body)
            }
            """, includes: ["/p/base.warden": base])
            let d = p.decideFs(.read, path("${home}/.ssh/id_rsa"))
            #expect(d.effect == .deny)
            #expect(d.rules.first?.file == "/p/base.warden")
            #expect(d.rules.first?.via == ["secrets-off"])
            #expect(d.mechanism.hasPrefix("mount"))
            #expect(p.decideFs(.read, path("${home}/notes.txt")).effect == .allow)
        }
    }

    @Test func defaultDenyHasNoRuleAndSaysSo() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n")
        let d = p.decideFs(.write, path("/usr/bin/ls"))
        #expect(d.effect == .deny && d.isDefaultDeny)
        #expect(p.decideFs(.read, path("/usr/bin/ls")).effect == .allow)
        #expect(p.decideFs(.read, path("/usrx")).effect == .deny, "a rule covers a subtree, not a string prefix")
    }

    @Test func syscallConditionsAndBuiltins() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow syscall socket(domain in [AF_UNIX, AF_INET])
          allow syscall clone, ioctl
          deny syscall kill errno ESRCH
        }
        """)
        #expect(p.decideSyscall("socket", arguments: [2]).effect == .allow)
        #expect(p.decideSyscall("socket", arguments: [10]).effect == .deny)
        // 32-bit argument: garbage in the upper half does not change the answer.
        #expect(p.decideSyscall("socket", arguments: [0x1_0000_0002]).effect == .allow)
        #expect(p.decideSyscall("clone", arguments: [0x11]).effect == .allow)
        let userns = p.decideSyscall("clone", arguments: [0x1000_0000])
        #expect(userns.effect == .deny)
        #expect(userns.rules.first?.file == nil, "decided by a built-in safeguard")
        #expect(p.decideSyscall("ioctl", arguments: [0, 0x5412]).effect == .deny, "TIOCSTI")
        #expect(p.decideSyscall("ioctl", arguments: [0, 0xFFFF_FFFF_0000_5412]).effect == .deny, "TIOCSTI with upper-half garbage")
        #expect(p.decideSyscall("ioctl", arguments: [0, 0x5401]).effect == .allow, "TCGETS")
        #expect(p.decideSyscall("clone3").effect == .deny)
        #expect(p.decideSyscall("kill").note?.contains("ESRCH") == true)
    }

    @Test func ioUringNeedsBecause() throws {
        let text = "warden 1\nidentity agent {\n  allow syscall io_uring_setup\n}\n"
        #expect(throws: EffectivePolicyError.self) { try effective(text) }
        _ = try effective("warden 1\nidentity agent {\n  allow syscall io_uring_setup because \"benchmarks\"\n}\n")
    }

    @Test func capabilitiesStartEmptyAndDenyWins() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow capability NET_BIND_SERVICE, CAP_CHOWN
          deny capability chown
        }
        """)
        #expect(p.grantedCapabilities == ["CAP_NET_BIND_SERVICE"])
        #expect(p.decideCapability("CAP_CHOWN").effect == .deny)
        #expect(p.decideCapability("CAP_SYS_ADMIN").isDefaultDeny)
    }

    @Test func networkDecisions() throws {
        let none = try effective("warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n")
        guard case .success(let ep) = Endpoint.parse("example.com:443") else { Issue.record(); return }
        #expect(none.decideNet(.connect, .tcp, ep).mechanism.contains("namespace"))
        let p = try effective("""
        warden 1
        identity agent {
          allow net connect tcp "*.example.com:443", "10.0.0.0/8:5432"
          deny net connect tcp "evil.example.com:*"
        }
        """)
        func decide(_ s: String) -> Effect {
            guard case .success(let e) = Endpoint.parse(s) else { return .allow }
            return p.decideNet(.connect, .tcp, e).effect
        }
        #expect(decide("api.example.com:443") == .allow)
        #expect(decide("example.com:443") == .deny, "*.domain matches names strictly under it")
        #expect(decide("evil.example.com:443") == .deny)
        #expect(decide("10.1.2.3:5432") == .allow)
        #expect(decide("11.1.2.3:5432") == .deny)
        #expect(decide("[::ffff:10.1.2.3]:5432") == .allow, "IPv4-mapped IPv6 is the IPv4 address")
    }
}

@Suite struct FilesystemPlanTests {
    @Test func denyInsideAllowBecomesMountAndDenyOverAllowShrinksLandlock() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow fs read, write, exec "${workspace}"
          allow fs read, write "${workspace}/out"
          deny fs write "${workspace}/.git/hooks"
          deny fs read "${workspace}/secrets"
          deny fs write "${workspace}/out"
        }
        """)
        let plan = p.filesystemPlan
        let out = plan.landlock.first { $0.path == path("${workspace}/out") }
        #expect(out?.access == [.read], "write on out is denied, so Landlock must not grant it there")
        #expect(plan.mounts.contains { $0.kind == .readOnly && $0.path == path("${workspace}/.git/hooks") })
        #expect(plan.mounts.contains { $0.kind == .mask && $0.path == path("${workspace}/secrets") })
        #expect(plan.mounts.contains { $0.kind == .readOnly && $0.path == path("${workspace}/out") })
    }

    @Test func denyOutsideAnyAllowNeedsNoMount() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow fs read "/usr"
          deny fs read "/home/user/.ssh"
        }
        """)
        #expect(p.filesystemPlan.mounts.isEmpty)
    }
}

@Suite struct PlanTests {
    @Test func compilingTwiceIsByteIdentical() throws {
        let text = """
        warden 1
        identity agent {
          allow fs read, exec "/usr"
          allow syscall @default
          allow syscall socket(domain in [AF_UNIX, AF_INET])
          deny syscall kill errno ESRCH
          limit memory 1GiB
        }
        """
        let a = try effective(text).enforcementPlan()
        let b = try effective(text).enforcementPlan()
        #expect(a.filter.program.bytes == b.filter.program.bytes)
        #expect(a.plan.json() == b.plan.json())
        #expect(a.plan.json().contains("\"defaultAction\""))
        for arch in Architecture.allCases {
            let x = try effective(text).enforcementPlan(arch: arch).filter.program.bytes
            let y = try effective(text).enforcementPlan(arch: arch).filter.program.bytes
            #expect(x == y)
        }
    }

    @Test func interpretedFilterAgreesWithDecisions() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow syscall @default
          allow syscall socket(domain in [AF_UNIX, AF_INET])
          deny syscall kill errno ESRCH
        }
        """)
        for arch in Architecture.allCases {
            let filter = try SeccompCompiler.compile(p.seccompPolicy(arch: arch, notify: false))
            let interpreter = try BPFInterpreter(filter.program)
            let samples: [[UInt64]] = [[], [1], [2], [10], [0x1_0000_0002], [0, 0x5412], [0x1000_0000], [0x11]]
            for (name, nr) in SyscallTable.all(arch: arch) {
                for args in samples {
                    let run = interpreter.run(SeccompData(nr: nr, arch: arch.auditArch, args: args))
                    let expected = p.decideSyscall(name, arguments: args).effect
                    let actual: Effect = run.action == .allow ? .allow : .deny
                    #expect(actual == expected, "\(arch) \(name)\(args)")
                }
            }
        }
    }
}

/// The ID-switch calls (`@id-switch`, in `@default`) and the capabilities that make them
/// powerful.
@Suite struct IDSwitchTests {
    @Test func defaultAllowsTheIDSwitchCallsWithoutTheCapabilities() throws {
        let p = try effective("warden 1\nidentity agent {\n  allow syscall @default\n}\n")
        for name in ["setuid", "setresuid", "setresgid", "setfsuid", "setfsgid"] {
            #expect(p.decideSyscall(name).effect == .allow, "\(name)")
        }
        #expect(p.decideSyscall("setgroups").effect == .deny, "setgroups is not an ID switch")
    }

    @Test func holdingSetuidWithdrawsTheDefaultAllowVisibly() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow syscall @default
          allow capability SETUID because "test"
        }
        """)
        let d = p.decideSyscall("setresuid", arguments: [UInt64.max, 0, UInt64.max])
        #expect(d.effect == .deny)
        #expect(d.rules.first?.file == nil, "a built-in decides")
        #expect(d.rules.first?.because?.contains("CAP_SETUID") == true, "\(d.rules)")
        #expect(p.decideSyscall("read").effect == .allow, "the rest of @default stays")
    }

    @Test func aRuleNamingTheCallsStillAllowsThemWithTheCapability() throws {
        let p = try effective("""
        warden 1
        identity agent {
          allow syscall @default
          allow syscall setresuid because "the service drops to its own user"
          allow capability SETUID because "test"
        }
        """)
        #expect(p.decideSyscall("setresuid").effect == .allow)
        #expect(p.decideSyscall("setuid").effect == .deny, "only the named call")
    }
}
