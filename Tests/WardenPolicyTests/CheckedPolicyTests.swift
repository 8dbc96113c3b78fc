import Testing
@testable import WardenPolicy

@Suite struct CheckedPolicyTests {
    static let policy = """
    warden 1
    permissions base {
      allow fs read "/usr"
      deny syscall ptrace errno EACCES because "no debugging"
    }
    permissions net {
      use base
      allow net connect tcp "registry.example.org:443"
    }
    identity updater {
      description "updates things"
      use net, base
      allow fs read, write "${workspace}"
      allow syscall socket(domain in [AF_UNIX, AF_INET], type & 0xf == 1), @default
      deny syscall bpf
      allow capability net_bind_service
      limit memory 4G
      limit cpu-time 90m
      env pass PATH, HOME, PATH
      env set CI = "true"
    }
    test "t" {
      identity updater
      expect allow syscall socket(AF_INET, 1)
      expect deny fs write "/usr/x"
      expect allow net connect tcp "[::ffff:10.0.0.1]:443"
      expect deny capability sys_admin
    }
    """

    @Test func flattenedRulesCarryProvenance() throws {
        let a = analyze(Self.policy)
        #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")
        let id = try #require(a.policy.identities["updater"])
        #expect(id.description == "updates things")
        // Statement order, `use` expanded in place (net uses base first); base again is deduplicated.
        let summary = id.rules.map { r -> String in
            let via = r.via.map(\.setName).joined(separator: ">")
            switch r.action {
            case .fs(let access, let path): return "\(r.effect) fs \(access.map(\.rawValue)) \(path) [\(via)]"
            case .net(let d, let p, let e): return "\(r.effect) net \(d) \(p) \(e) [\(via)]"
            case .syscall(let m): return "\(r.effect) syscall \(m.written) errno=\(m.errno.map(String.init) ?? "-") [\(via)]"
            case .capability(let c): return "\(r.effect) cap \(c) [\(via)]"
            case .http(let h): return "\(r.effect) \(h.scheme) \(h.pattern) [\(via)]"
            case .gitPush(let repo, let ref): return "\(r.effect) git push \(repo) \(ref) [\(via)]"
            }
        }
        #expect(summary == [
            "allow fs [\"read\"] /usr [net>base]",
            "deny syscall ptrace errno=13 [net>base]",
            "allow net connect tcp registry.example.org:443 [net]",
            "allow fs [\"read\", \"write\"] ${workspace} []",
            "allow syscall socket errno=- []",
            "allow syscall @default errno=- []",
            "deny syscall bpf errno=1 []",
            "allow cap CAP_NET_BIND_SERVICE []",
        ])
        let ptrace = try #require(id.rules.count > 1 ? id.rules[1] : nil)
        #expect(ptrace.because == "no debugging")
        #expect(ptrace.span.start.line == 4 && ptrace.ruleSpan.start.column == 3)
        #expect(ptrace.via.map { "\($0.span)" } == ["main.warden:12:7", "main.warden:7:7"])
    }

    @Test func syscallConditionsAreResolved() throws {
        let a = analyze(Self.policy)
        let id = try #require(a.policy.identities["updater"])
        try #require(id.rules.count == 8)
        guard case .syscall(let m) = id.rules[4].action else { Issue.record("no socket rule"); return }
        #expect(m.syscalls == ["socket"] && m.group == nil)
        #expect(m.conditions.map(\.argument) == [0, 1])
        #expect(m.conditions.map(\.argumentName) == ["domain", "type"])
        #expect(m.conditions.map(\.test) == [.oneOf([1, 2]), .masked(mask: 15, value: 1)])
        #expect(m.conditions.allSatisfy { $0.is32Bit })
        guard case .syscall(let g) = id.rules[5].action else { Issue.record("no group rule"); return }
        #expect(g.group == "default" && g.syscalls.contains("read"))
    }

    @Test func limitsAndEnvironment() throws {
        let id = try #require(analyze(Self.policy).policy.identities["updater"])
        #expect(id.limits[.memory]?.value == LimitValue(amount: 4 << 30, canonical: "4GiB"))
        #expect(id.limits[.cpuTime]?.value.amount == 5400)
        #expect(id.envPass == ["PATH", "HOME"])
        #expect(id.envSet.map(\.name) == ["CI"] && id.envSet.map(\.value) == ["true"])
    }

    @Test func testsAreResolved() throws {
        let a = analyze(Self.policy)
        let t = try #require(a.policy.tests.first)
        #expect(t.identity == "updater")
        #expect(t.expectations.map(\.action) == [
            .syscall("socket", arguments: [2, 1]),
            .fs(.write, PolicyPath(base: nil, components: ["usr", "x"])),
            .net(.connect, .tcp, Endpoint(host: .ipv4(IPv4Network(address: 0x0A00_0001, prefixLength: 32)), ports: PortRange(lower: 443, upper: 443))),
            .capability("CAP_SYS_ADMIN"),
        ])
        #expect(t.expectations.map(\.effect) == [.allow, .deny, .allow, .deny])
    }

    @Test func setsAndDeclarationsByName() {
        let a = analyze(Self.policy)
        #expect(a.policy.permissionSets.keys.sorted() == ["base", "net"])
        #expect(a.policy.permissionSets["net"]?.name.span.start.line == 6)
        #expect(a.policy.identities["updater"]?.declaration.span.start.line == 10)
    }

    @Test func twelveMistakesAllReported() {
        let text = """
        warden 1
        permissions tools {
          allow fs read "usr"
          allow syscall opne
          limit processes 5
        }
        identity agent {
          use tool
          allow net connect tcp "10.1.2.3/16:443"
          allow syscall socket(domian == AF_INET)
          deny syscall ptrace errno EPERN
          allow capability SYS_ADMINN
          limit memory 0
          limit wall-time 5x
          env pass BAD-NAME
          allow fs raed "/x"
        }
        test "t" {
          identity agnt
          expect allow net connect tcp "*:443"
        }
        """
        let a = analyze(text)
        #expect(locations(a.diagnostics) == [
            "relative-path@3:17", "unknown-syscall@4:17", "statement-not-allowed@5:3",
            "unknown-permission-set@8:7", "cidr-host-bits@9:25", "unknown-argument@10:24",
            "unknown-errno@11:29", "unknown-capability@12:20", "zero-limit@13:16",
            "invalid-limit-value@14:19", "invalid-env-name@15:12", "syntax-error@16:12",
            "unknown-identity@19:12", "non-concrete-test-target@20:32",
        ])
        #expect(a.diagnostics.map(\.help).filter { $0?.hasPrefix("did you mean") == true }.count == 8)
    }

    @Test func stockPoliciesAreClean() throws {
        let loader = PolicyLoader()
        let dir = packageRoot + "/policies"
        let names = ["default.warden"] + StockPolicies.list(dir).filter { $0 != "default.warden" }
        for name in Set(names).sorted() {
            let a = try loader.analyze(dir + "/" + name)
            #expect(a.diagnostics.filter { $0.severity == .error }.isEmpty, "\(name): \(DiagnosticRenderer.text(a.diagnostics, sources: a.sources))")
            // A file without identities is a library of permission sets (base.warden).
            #expect(!a.policy.identities.isEmpty || (!a.policy.permissionSets.isEmpty && a.policy.tests.isEmpty), "\(name)")
        }
    }
}

/// Lists `*.warden` files in a directory without Foundation.
enum StockPolicies {
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".warden") { names.append(name) }
        }
        return names
    }
}

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ConvenienceTests {
    @Test func kindAccessorsAndProvenance() throws {
        let a = analyze(CheckedPolicyTests.policy)
        let id = try #require(a.policy.identities["updater"])
        #expect(id.fsRules.map(\.path.description) == ["/usr", "${workspace}"])
        #expect(id.netRules.map(\.endpoint.description) == ["registry.example.org:443"])
        #expect(id.syscallRules.map(\.match.written) == ["ptrace", "socket", "@default", "bpf"])
        #expect(id.capabilityRules.map(\.capability) == ["CAP_NET_BIND_SERVICE"])
        #expect(id.fsRules.first?.rule.provenance == "main.warden:3:3 (via net > base)")
        #expect(id.fsRules.last?.rule.provenance == "main.warden:13:3")
    }

    @Test func sourceTextOfSpan() throws {
        let (file, _) = parse(inIdentity("  allow syscall socket(type & 0xff == 0o1)"))
        guard case .rule(let r)? = statements(file).first, case .syscall(let s) = r.body,
              case .masked(let mask, let value)? = s.specs.first?.conditions?.first?.test else {
            Issue.record("no masked condition"); return
        }
        #expect(file.source.text(of: mask.span) == "0xff")
        #expect(file.source.text(of: value.span) == "0o1")
    }
}
