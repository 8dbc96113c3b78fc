import Testing
import WardenAudit
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// `warden learn`'s proposal generator on synthetic observations: generalization, what is
/// never proposed, determinism, and a lint-clean result.
@Suite struct LearnProposalTests {
    static let toolchain = """
    warden 1
    identity agent {
      description "learns"
      allow fs read, exec "/usr", "/bin", "/lib"
      allow fs read "/etc"
      deny  fs read "${home}/.ssh"
      deny  fs write "${workspace}/.git/hooks"
      allow fs exec "${workspace}"
      allow syscall @default
    }
    """
    static let bindings = PathBindings(workspace: "/work/ws", home: "/home/u", tmp: "/tmp")

    func effective(_ text: String = LearnProposalTests.toolchain) throws -> EffectivePolicy {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        return try EffectivePolicy(policy: analysis.policy, identity: "agent")
    }

    func propose(_ obs: [LearnObservation], text: String = LearnProposalTests.toolchain,
                 exists: @escaping @Sendable (String) -> Bool = { _ in true }) throws -> LearnProposal {
        LearnProposer(effective: try effective(text), bindings: Self.bindings, hostPathExists: exists).propose(obs)
    }

    static func fs(_ path: String, _ access: FsAccess, program: String = "python3", count: Int64 = 1) -> LearnObservation {
        .fs(FsObservation(path: path, access: access, count: count, program: program, syscall: "openat"))
    }

    func texts(_ p: LearnProposal) -> [String] { p.rules.map(\.text) }

    // MARK: - Generalization

    @Test func pathsAreWrittenWithTheRunsVariables() throws {
        let p = try propose([Self.fs("/work/ws/notes.txt", .write), Self.fs("/home/u/.config/tool.toml", .read)])
        #expect(texts(p) == ["allow fs read \"${home}/.config/tool.toml\"", "allow fs write \"${workspace}/notes.txt\""])
    }

    @Test func temporaryNamesPidsAndHashesCollapseToTheirDirectory() throws {
        let p = try propose([
            Self.fs("/tmp/tmpa8zk2q1x/out.txt", .write),
            Self.fs("/work/ws/build/12345/log", .write),
            Self.fs("/home/u/.cache/pip/3f2a9c1b7e6d5a4c/wheel", .read),
        ])
        #expect(texts(p) == ["allow fs read \"${home}/.cache/pip\"", "allow fs write \"${tmp}\"", "allow fs write \"${workspace}/build\""])
        // A volatile name right under a top-level directory would need a grant on that
        // directory: too broad, listed instead. (`/proc` itself is the run's own, allowed.)
        let srv = try propose([Self.fs("/srv/4242/status", .read)])
        #expect(srv.rules.isEmpty)
        #expect(srv.notProposed.contains { $0.reason.contains("too broad") && $0.what.contains("/srv/4242/status") }, "\(srv.notProposed)")
    }

    @Test func volatileNameHeuristic() {
        for name in ["12345", "3f2a9c1b", "tmpa8zk2q_x", "tmp.Ab3dE9", "ccXyZ123.s", "ccab12CD", "build-a1b2c3d4", "550e8400-e29b"] {
            #expect(VolatileNames.isVolatile(name), "\(name)")
        }
        for name in ["python3.11", "sha256sum", "x86_64-linux-gnu", "libQt5Core.so", "cc1plus", "tmpfiles.d", "README.md", "v2", "lib64", "deadbeef"] {
            #expect(!VolatileNames.isVolatile(name), "\(name)")
        }
    }

    @Test func aDirectoryOnlyWithTwoWrittenFilesOrThreeRead() throws {
        let one = try propose([Self.fs("/work/ws/out/a.txt", .write)])
        #expect(texts(one) == ["allow fs write \"${workspace}/out/a.txt\""])
        let two = try propose([Self.fs("/work/ws/out/a.txt", .write), Self.fs("/work/ws/out/b.txt", .write), Self.fs("/work/ws/out/a.txt", .write)])
        #expect(texts(two) == ["allow fs write \"${workspace}/out\""])
        #expect(two.rules.first?.evidence.contains("2 files under it, 3 accesses by python3") == true, "\(two.rules)")
        let twoReads = try propose([Self.fs("/opt/tool/a", .read), Self.fs("/opt/tool/b", .read)])
        #expect(texts(twoReads) == ["allow fs read \"/opt/tool/a\"", "allow fs read \"/opt/tool/b\""])
        let threeReads = try propose([Self.fs("/opt/tool/a", .read), Self.fs("/opt/tool/b", .read), Self.fs("/opt/tool/c", .read)])
        #expect(texts(threeReads) == ["allow fs read \"/opt/tool\""])
    }

    /// The Kelvin sign U+212A and "K" are one string to Swift, two files to the kernel: a
    /// write of the one never widens the proposal for the other (and a name the policy
    /// language cannot write is listed, not proposed).
    @Test func canonicallyEquivalentNamesAreNotMerged() throws {
        let p = try propose([Self.fs("/opt/tool/K", .read), Self.fs("/opt/tool/\u{212A}", .write)])
        #expect(texts(p) == ["allow fs read \"/opt/tool/K\""], "\(texts(p)) \(p.notProposed)")
        #expect(p.notProposed.contains { $0.what.hasPrefix("write /opt/tool/") })
    }

    @Test func neverATopLevelDirectoryOrHome() throws {
        let p = try propose([Self.fs("/srv/a", .read), Self.fs("/srv/b", .read), Self.fs("/srv/c", .read),
                             Self.fs("/home/u/a", .write), Self.fs("/home/u/b", .write)])
        #expect(!texts(p).contains { $0.hasSuffix("\"/srv\"") || $0.hasSuffix("\"${home}\"") }, "\(texts(p))")
        #expect(texts(p).contains("allow fs write \"${home}/a\""))
    }

    /// What gcc does choosing a temporary directory, and a shell searching PATH: asked, not used.
    @Test func probesAndMissingHostPathsAreNoNeed() throws {
        let probe = LearnObservation.fs(FsObservation(path: "/var/tmp", access: .write, program: "cc", syscall: "access"))
        let search = LearnObservation.fs(FsObservation(path: "/root/.cargo/bin/cat", access: .read, program: "sh", syscall: "newfstatat"))
        let p = try propose([probe, search], exists: { $0 == "/var/tmp" })
        #expect(p.rules.isEmpty, "\(p.rules)")
        #expect(p.notProposed.contains { $0.reason == "only asked with access, never done" && $0.what.contains("/var/tmp") })
        #expect(p.notProposed.contains { $0.reason == "does not exist on the host" && $0.what.contains("/root/.cargo/bin/cat") })
        // The same write done (opened for writing) is proposed.
        let done = try propose([.fs(FsObservation(path: "/var/tmp/x", access: .write, program: "cc", syscall: "openat"))])
        #expect(texts(done) == ["allow fs write \"/var/tmp/x\""])
        // `.` components and trailing slashes are spelled away.
        #expect(texts(try propose([Self.fs("/work/ws/./out/", .write)])) == ["allow fs write \"${workspace}/out\""])
    }

    @Test func neverAWriteOverWardensAuditTrail() throws {
        let obs = [Self.fs("/srv/logs/a", .write), Self.fs("/srv/logs/b", .write)]
        let p = LearnProposer(effective: try effective(Self.toolchain), bindings: Self.bindings,
                              protectedPaths: ["/srv/logs/audit.jsonl", "/srv/logs"], hostPathExists: { _ in true }).propose(obs)
        #expect(p.rules.isEmpty, "\(p.rules)")
        #expect(p.notProposed.contains { $0.reason.contains("Warden's audit trail") })
    }

    @Test func readOnlyHostPathsMustExist() throws {
        let p = try propose([Self.fs("/opt/missing/x", .read), Self.fs("/opt/there/y", .read)], exists: { $0.hasPrefix("/opt/there") })
        #expect(texts(p) == ["allow fs read \"/opt/there/y\""])
        #expect(p.notProposed.contains { $0.reason == "does not exist on the host" && $0.what.contains("/opt/missing/x") })
    }

    // MARK: - Never proposed

    @Test func execIsNeverProposed() throws {
        let p = try propose([Self.fs("/home/u/bin/tool", .exec, program: "sh"), Self.fs("/opt/x/run", .exec)])
        #expect(p.rules.isEmpty)
        #expect(p.notProposed.filter { $0.reason == "exec is never widened" }.count == 2)
        #expect(p.block().contains("  # not proposed (exec is never widened): exec ${home}/bin/tool (1 time by sh)"))
    }

    @Test func whatADenyRuleDecidesIsNotProposed() throws {
        let p = try propose([Self.fs("/home/u/.ssh/id_ed25519", .read), Self.fs("/work/ws/.git/hooks/pre-commit", .write),
                             Self.fs("/work/ws/.git/hooks/post-commit", .write)])
        #expect(p.rules.isEmpty, "\(texts(p))")
        #expect(p.notProposed.count == 3)
        #expect(p.notProposed.allSatisfy { $0.reason.hasPrefix("denied by /p.warden:") })
    }

    @Test func dangerousSyscallsAreNeverProposed() throws {
        let text = "warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n"
        let p = try propose([.syscall(name: "ptrace", arguments: [16], count: 1), .syscall(name: "bpf", arguments: [5], count: 2),
                             .syscall(name: "unshare", arguments: [0x1000_0000], count: 1), .syscall(name: "mount", arguments: [], count: 1),
                             .syscall(name: "io_uring_setup", arguments: [], count: 1), .syscall(name: "getrandom", arguments: [], count: 3)],
                            text: text)
        #expect(texts(p) == ["allow syscall getrandom"])
        let refused = Set(p.notProposed.filter { $0.reason.hasPrefix("dangerous syscalls are never proposed") }.map { $0.what.split(separator: " ")[1].split(separator: "(")[0] })
        #expect(refused == ["ptrace", "bpf", "unshare", "mount", "io_uring_setup"])
    }

    @Test func syscallsWithArgumentRulesAreProposedForTheObservedValues() throws {
        let text = "warden 1\nidentity agent {\n  allow syscall socket(domain in [AF_UNIX, AF_INET])\n}\n"
        let p = try propose([.syscall(name: "socket", arguments: [10, 1, 0], count: 1)], text: text)
        #expect(texts(p) == ["allow syscall socket(domain == 0xa)"])
    }

    @Test func namesOverAddresses() throws {
        let p = try propose([
            .net(NetObservation(direction: .connect, proto: .tcp, address: "151.101.0.223", port: 443, name: "pypi.org")),
            .net(NetObservation(direction: .connect, proto: .tcp, address: "1.1.1.1", port: 443)),
            .net(NetObservation(direction: .connect, proto: .tcp, address: "10.20.0.5", port: 5432)),
            .net(NetObservation(direction: .connect, proto: .tcp, address: "10.20.0.9", port: 22, decidedBy: "rule")),
            .lookup(name: "pypi.org", count: 1), .lookup(name: "probe.example", count: 2),
        ])
        #expect(texts(p) == ["allow net connect tcp \"10.20.0.5:5432\"", "allow net connect tcp \"pypi.org:443\""])
        #expect(p.notProposed.contains { $0.reason.contains("bare public address") && $0.what.contains("1.1.1.1:443") })
        #expect(p.notProposed.contains { $0.reason.contains("deny rule") && $0.what.contains("10.20.0.9:22") })
        #expect(p.notProposed.contains { $0.what.hasPrefix("lookup probe.example") })
        #expect(!p.notProposed.contains { $0.what.hasPrefix("lookup pypi.org") })
    }

    // MARK: - Agent text, determinism, records

    @Test func agentTextCannotBreakThePolicy() throws {
        let p = try propose([Self.fs("/work/ws/a\"b", .write), Self.fs("/work/ws/x${home}", .write),
                             Self.fs("/work/ws/ok.txt", .write, program: "evil\n  allow fs write \"/\"\u{1B}[2J")])
        #expect(texts(p) == ["allow fs write \"${workspace}/ok.txt\""])
        #expect(p.notProposed.filter { $0.reason == "the path cannot be written in a policy" }.count == 2)
        let block = p.block()
        #expect(block.allSatisfy { line in line.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f } })
        #expect(block.filter { $0.drop(while: { $0 == " " }).hasPrefix("allow") } == ["  allow fs write \"${workspace}/ok.txt\""])
    }

    @Test func deterministic() throws {
        let obs: [LearnObservation] = [
            Self.fs("/work/ws/out/a", .write), Self.fs("/work/ws/out/b", .write, program: "cc"), Self.fs("/opt/t/x", .read),
            .syscall(name: "getrandom", arguments: [], count: 1), Self.fs("/opt/t/x", .exec),
            .net(NetObservation(direction: .connect, proto: .tcp, address: "1.2.3.4", port: 443, name: "example.org")),
        ]
        let text = "warden 1\nidentity agent {\n  allow fs read \"/usr\"\n}\n"
        let first = try propose(obs, text: text)
        for _ in 0..<5 {
            #expect(try propose(obs.shuffled(), text: text).block() == first.block())
        }
    }

    @Test func recordsBecomeObservations() {
        let fsRecord = LearnObservation.from(kind: "learn.fs", fields: [
            "path": .string("/work/ws/a"), "policy_path": .string("${workspace}/a"), "access": .string("write"),
            "syscall": .string("openat"), "count": .int(3), "program": .string("sh"),
        ])
        #expect(fsRecord == .fs(FsObservation(path: "/work/ws/a", policyPath: "${workspace}/a", access: .write, count: 3, program: "sh", syscall: "openat")))
        let net = LearnObservation.from(kind: "deny.net", fields: [
            "destination": .string("1.2.3.4"), "port": .int(443), "protocol": .string("tcp"), "domain": .string("example.org"),
            "decided_by": .string("default"), "count": .int(2),
        ])
        #expect(net == .net(NetObservation(direction: .connect, proto: .tcp, address: "1.2.3.4", port: 443, name: "example.org", count: 2)))
        let sys = LearnObservation.from(kind: "deny.syscall", fields: ["name": .string("bpf"), "args": .array([.string("0x5"), .string("0x0")])])
        #expect(sys == .syscall(name: "bpf", arguments: [5, 0], count: 1))
        #expect(LearnObservation.from(kind: "learn.fs", fields: ["path": .string("relative"), "access": .string("read")]) == nil)
        #expect(LearnObservation.from(kind: "learn.fs", fields: ["path": .string("/x"), "access": .string("fly")]) == nil)
        #expect(LearnObservation.from(kind: "run.start", fields: [:]) == nil)
    }

    // MARK: - Patch and lint

    @Test func theProposalGoesBeforeTheClosingBraceAndIsLintClean() throws {
        let text = Self.toolchain + "\n"
        let provider = InMemorySourceProvider(["/p.warden": text])
        let proposal = try propose([Self.fs("/work/ws/out/a", .write), Self.fs("/work/ws/out/b", .write), Self.fs("/etc/app/a.conf", .write),
                                    Self.fs("/etc/app/b.conf", .write)])
        #expect(texts(proposal).contains("allow fs write \"/etc/app\""))
        let linted = try ProposalLint(proposal: proposal, root: "/p.warden", identity: "agent", provider: provider)
        // Writing a system path is a lint finding: that rule is withdrawn, with the finding.
        #expect(linted.proposal.rules.map(\.text) == ["allow fs write \"${workspace}/out\""])
        #expect(linted.proposal.notProposed.contains { $0.reason.hasPrefix("lint writable-system-path") && $0.what.contains("/etc/app") })
        let lines = linted.patch.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let begin = try #require(lines.firstIndex(of: "  " + LearnProposal.beginMarker))
        #expect(lines[begin - 1] == "  allow syscall @default")
        let end = try #require(lines.firstIndex(of: "  " + LearnProposal.endMarker))
        #expect(lines[end + 1] == "}")
        #expect(linted.patch.insertedLines == (begin + 1)...(end + 1))
        // The patched policy checks, and the original text is unchanged around the block.
        let again = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": linted.patch.text])).analyze("/p.warden")
        #expect(!again.hasErrors)
        let diff = linted.patch.unifiedDiff(oldName: "p.warden", newName: "p.warden")
        #expect(diff.hasPrefix("--- p.warden\n+++ p.warden\n@@ -7,4 +7,"))
        #expect(diff.split(separator: "\n").filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }.count == linted.proposal.block().count)
    }

    @Test func oneLineIdentityGetsTheBlockOnItsOwnLines() throws {
        let text = "warden 1\nidentity agent { allow fs read \"/usr\" }\n"
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        let decl = try #require(analysis.policy.identities["agent"]?.declaration)
        let patch = PolicyPatch(text: text, identity: decl, block: ["  # x", "  allow fs write \"${tmp}\""])
        #expect(patch.text == "warden 1\nidentity agent { allow fs read \"/usr\" \n  # x\n  allow fs write \"${tmp}\"\n}\n")
        #expect(patch.insertedLines == 3...4)
        #expect(patch.unifiedDiff(oldName: "a", newName: "b") ==
                "--- a\n+++ b\n@@ -1,2 +1,5 @@\n warden 1\n-identity agent { allow fs read \"/usr\" }\n+identity agent { allow fs read \"/usr\" \n+  # x\n+  allow fs write \"${tmp}\"\n+}\n")
    }
}
