import Testing
import WardenCompiler
import WardenKernel
import WardenPolicy
@testable import WardenRuntime

/// Observing mode's parts without a launch: the access classification, the observing
/// filter (verified like every compiled filter), the bounded recorder, the learning resolver.
@Suite struct LearnUnitTests {
    @Test func openFlagsAndAccessModesClassifyTheAccess() {
        #expect(PathSyscalls.openAccesses(flags: 0) == [.read])                       // O_RDONLY
        #expect(PathSyscalls.openAccesses(flags: 1) == [.write])                      // O_WRONLY
        #expect(PathSyscalls.openAccesses(flags: 2) == [.read, .write])               // O_RDWR
        #expect(PathSyscalls.openAccesses(flags: 0o100) == [.read, .write])           // O_RDONLY|O_CREAT
        #expect(PathSyscalls.openAccesses(flags: 0o1000) == [.read, .write])          // O_TRUNC
        #expect(PathSyscalls.openAccesses(flags: 0o10000000).isEmpty)                  // O_PATH
        #expect(PathSyscalls.accesses(.accessMode(argument: 1), arguments: [0, 0]) == [.read])      // F_OK
        #expect(PathSyscalls.accesses(.accessMode(argument: 1), arguments: [0, 1]) == [.exec])      // X_OK
        #expect(PathSyscalls.accesses(.accessMode(argument: 1), arguments: [0, 6]) == [.read, .write])
        #expect(PathSyscalls.accesses(.openHow(argument: 2), arguments: [0, 0, 0], openHowFlags: 0o101) == [.write])
        #expect(PathSyscalls.accesses(.openHow(argument: 2), arguments: [0, 0, 0], openHowFlags: nil) == [.read])
        #expect(PathSyscalls.operands["renameat2"]?.map(\.path) == [1, 3])
        #expect(PathSyscalls.operands["execve"] == nil, "the launch's own execve must never wait for the supervisor")
        #expect(PathSyscalls.operands["faccessat2"]?.first?.access == .accessMode(argument: 2))
    }

    @Test func everyObservedSyscallExistsOnSomeArchitecture() {
        for name in PathSyscalls.operands.keys {
            #expect(Architecture.allCases.contains { SyscallTable.number(of: name, arch: $0) != nil }, "\(name)")
        }
    }

    private func defaultPolicy() throws -> EffectivePolicy {
        let path = Fixture.packageRoot + "/policies/default.warden"
        let analysis = try PolicyLoader().analyze(path)
        return try EffectivePolicy(policy: analysis.policy, identity: "default")
    }

    /// The observing filter compiles (the compiler verifies every program against the
    /// reference evaluator) and sends allowed path calls to the supervisor; the normal filter
    /// allows them; everything else is the same.
    @Test func theObservingFilterIsVerifiedAndNotifiesOnlyWhatTheNormalOneAllows() throws {
        let effective = try defaultPolicy()
        for arch in Architecture.allCases {
            let normal = effective.seccompPolicy(arch: arch, notify: true)
            let observing = EffectivePolicy.observingPaths(normal)
            let normalFilter = try SeccompCompiler.compile(normal)
            let observingFilter = try SeccompCompiler.compile(observing)
            let n = try BPFInterpreter(normalFilter.program), o = try BPFInterpreter(observingFilter.program)
            for name in ["openat", "newfstatat", "unlinkat", "mkdirat"] {
                guard let nr = SyscallTable.number(of: name, arch: arch) else { continue }
                let data = SeccompData(nr: nr, arch: arch.auditArch, args: [UInt64(bitPattern: -100), 0x1000, 0o101])
                #expect(n.run(data).action == .allow, "\(arch) \(name)")
                #expect(o.run(data).action == .userNotif, "\(arch) \(name)")
            }
            // Not a path syscall: unchanged.
            for name in ["read", "getpid", "ptrace", "bpf"] {
                guard let nr = SyscallTable.number(of: name, arch: arch) else { continue }
                let data = SeccompData(nr: nr, arch: arch.auditArch)
                #expect(n.run(data).action == o.run(data).action, "\(arch) \(name)")
            }
        }
        // Without notification there is nothing to observe with: unchanged.
        let plain = effective.seccompPolicy(arch: .native, notify: false)
        #expect(EffectivePolicy.observingPaths(plain) == plain)
    }

    @Test func theRecorderKeepsAtMostItsCapAndCountsTheRest() {
        let recorder = LearnRecorder(cap: 3)
        for i in 0..<10 {
            let key = LearnRecorder.FileKey(path: "/x/\(i)", access: .read)
            if recorder.countFile(key) || !recorder.roomForNewKey() { continue }
            recorder.addFile(key, .init(policyPath: "/x/\(i)", syscall: "openat", program: "p", count: 1))
        }
        #expect(recorder.countFile(.init(path: "/x/0", access: .read)))
        recorder.addName("a.example", qtype: "A")
        recorder.addName("a.example", qtype: "A")
        let events = recorder.events()
        #expect(events.filter { $0.kind == "learn.fs" }.count == 3)
        #expect(events.first { $0.kind == "learn.fs" }?.fields["count"] == .int(2))
        #expect(events.first { $0.kind == "learn.dns" }?.fields["count"] == .int(2))
        #expect(events.last?.kind == "learn.overflow")
        #expect(events.last?.fields["count"] == .int(7))
    }

    @Test func pathsAreNormalizedLexically() {
        #expect(LearnObserver.normalize("/a//b/./c/../d") == "/a/b/d")
        #expect(LearnObserver.normalize("/../..") == "/")
        #expect(LearnObserver.normalize("/tmp/x/") == "/tmp/x")
    }

    /// In observing mode a name no rule allows is answered from upstream and recorded; its
    /// address names refused connects but never joins the connectable names.
    @Test func theLearningResolverAnswersRecordsAndKeepsAddressesApart() throws {
        let effective = try defaultPolicy()
        let recorder = LearnRecorder()
        let learned = LearnedLookups(recorder: recorder, names: ResolvedNames())
        let names = ResolvedNames()
        let upstream = FakeUpstream(["unlisted.example": [aRecord("unlisted.example", [10, 9, 8, 7])]])
        var responder = DNSResponder(decide: { effective.decideLookup($0) }, resolve: upstream.resolve,
                                     names: names)
        let (refusedReply, refused) = responder.answer(DNSPacket.query("unlisted.example"), overTCP: false)
        #expect(refused.denied)
        #expect(refusedReply.map { $0[3] & 0xF } == 3, "NXDOMAIN without observing mode")
        responder.learn = learned
        let (reply, record) = responder.answer(DNSPacket.query("unlisted.example"), overTCP: false)
        #expect(record.denied, "still recorded as refused by the policy")
        #expect(reply.map { $0[3] & 0xF } == 0, "answered")
        #expect(reply.map { Array($0.suffix(4)) } == [10, 9, 8, 7])
        let host = DNSResponder.host([10, 9, 8, 7])
        #expect(learned.names.names(for: host) == ["unlisted.example"])
        #expect(names.names(for: host).isEmpty, "never connectable")
        #expect(recorder.events().contains { $0.kind == "learn.dns" && $0.fields["name"] == .string("unlisted.example") && $0.fields["qtype"] == .string("A") })
        // The mediator names a refused connect by it.
        let mediator = NetworkMediator(effective: effective, audit: nil, names: names, learnedNames: learned.names)
        #expect(mediator.learnedName(SocketAddress(ipv4: 0x0A09_0807, port: 443)) == "unlisted.example")
    }
}
