import Testing
import WardenKernel
@testable import WardenCompiler
@testable import WardenPolicy

@Suite("network: lowering and DNS decisions")
struct NetworkLoweringTests {
    static let text = """
    warden 1
    identity agent {
      allow syscall @default
      allow net connect tcp "registry.example.org:443", "*.cdn.example.org:443", "10.0.0.0/8:5432"
      allow net connect tcp "blocked.example.org:443"
      deny net connect tcp "blocked.example.org:*"
      allow net bind tcp "127.0.0.1:8080"
    }
    """

    @Test func mediatedCallsGoToTheSupervisorEvenWhenAllowed() throws {
        let policy = try effective(Self.text)
        let evaluator = try SeccompEvaluator(policy: policy.seccompPolicy(arch: .x86_64, notify: true))
        for name in ["connect", "bind", "listen", "sendmsg", "sendmmsg"] {
            #expect(evaluator.evaluate(syscall: name, args: [3, 0x1000, 16, 0, 0, 0]) == .userNotif, "\(name)")
        }
        // sendto: only with an address; on a connected socket it runs unmediated.
        #expect(evaluator.evaluate(syscall: "sendto", args: [3, 0x1000, 10, 0, 0x2000, 16]) == .userNotif)
        #expect(evaluator.evaluate(syscall: "sendto", args: [3, 0x1000, 10, 0, 0, 0]) == .allow)
        #expect(evaluator.evaluate(syscall: "recvfrom", args: [3, 0x1000, 10, 0, 0, 0]) == .allow)
    }

    @Test func withoutNetRulesNothingIsMediated() throws {
        let policy = try effective("warden 1\nidentity agent {\n  allow syscall @default\n}\n")
        let evaluator = try SeccompEvaluator(policy: policy.seccompPolicy(arch: .x86_64, notify: true))
        #expect(evaluator.evaluate(syscall: "connect", args: [3, 0x1000, 16, 0, 0, 0]) == .allow)
        #expect(evaluator.evaluate(syscall: "socket", args: [16, 3, 0, 0, 0, 0]) == .allow) // own netns
    }

    @Test func socketKindsThatBypassMediationAreRefused() throws {
        let policy = try effective(Self.text)
        for notify in [true, false] {
            let evaluator = try SeccompEvaluator(policy: policy.seccompPolicy(arch: .x86_64, notify: notify))
            let refused: SeccompAction = notify ? .userNotif : .errno(13)
            #expect(evaluator.evaluate(syscall: "socket", args: [16, 3, 0, 0, 0, 0]) == refused)           // AF_NETLINK
            #expect(evaluator.evaluate(syscall: "socket", args: [17, 3, 0, 0, 0, 0]) == refused)           // AF_PACKET
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 3, 1, 0, 0, 0]) == refused)            // SOCK_RAW
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 0x80803, 1, 0, 0, 0]) == refused)      // SOCK_RAW|CLOEXEC|NONBLOCK
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 10, 0, 0, 0, 0]) == refused)           // SOCK_PACKET
            #expect(evaluator.evaluate(syscall: "socket", args: [0xFFFF_FFFF_0000_0010, 1, 0, 0, 0, 0]) == refused) // upper half garbage
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 1, 132, 0, 0, 0]) == refused)          // SCTP
            #expect(evaluator.evaluate(syscall: "socket", args: [10, 2, 1, 0, 0, 0]) == refused)          // ICMP
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 1, 0x1_0000_0084, 0, 0, 0]) == refused) // SCTP, upper garbage
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 1, 6, 0, 0, 0]) == .allow)
            #expect(evaluator.evaluate(syscall: "socket", args: [10, 2, 17, 0, 0, 0]) == .allow)
            #expect(evaluator.evaluate(syscall: "socket", args: [1, 1, 132, 0, 0, 0]) == .allow)            // unix ignores it
            #expect(evaluator.evaluate(syscall: "socket", args: [2, 1, 0, 0, 0, 0]) == .allow)
            #expect(evaluator.evaluate(syscall: "socket", args: [10, 0x80002, 0, 0, 0, 0]) == .allow)
            #expect(evaluator.evaluate(syscall: "socket", args: [1, 1, 0, 0, 0, 0]) == .allow)
        }
        // Source routing: under mediation every setsockopt goes to the supervisor, which
        // decides on the (register) level and optname; the policy's decision refuses these.
        let mediated = try SeccompEvaluator(policy: policy.seccompPolicy(arch: .x86_64, notify: true))
        for args: [UInt64] in [[3, 0, 4], [3, 41, 57], [3, 41, 6], [3, 6, 4], [3, 1, 6]] {
            #expect(mediated.evaluate(syscall: "setsockopt", args: args + [0, 0, 0]) == .userNotif)
        }
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 0, 4]).effect == .deny)    // IP_OPTIONS
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 41, 57]).effect == .deny)  // IPV6_RTHDR
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 41, 6]).effect == .deny)   // IPV6_2292PKTOPTIONS
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 6, 4]).effect == .allow)   // TCP_KEEPIDLE
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 1, 6]).effect == .allow)   // SO_BROADCAST
        #expect(policy.decideSyscall("setsockopt", arguments: [3, 0, 4]).note?.contains("EACCES") == true)
        // Without mediation (exports) the engine's own packet filter sees the first hop; the
        // filter stays compilable (these denies would expand into thousands of rules).
        let unmediated = try SeccompCompiler.compile(policy.seccompPolicy(arch: .x86_64, notify: false))
        #expect(unmediated.program.count > 0)
        let d = policy.decideSyscall("socket", arguments: [16, 3, 0])
        #expect(d.effect == .deny && d.rules.first?.file == nil)
    }

    @Test func lookupsFollowTheDomainRules() throws {
        let policy = try effective(Self.text)
        #expect(policy.hasDomainRules)
        #expect(policy.decideLookup("registry.example.org").effect == .allow)
        #expect(policy.decideLookup("REGISTRY.example.org").effect == .allow)
        #expect(policy.decideLookup("a.cdn.example.org").effect == .allow)
        #expect(policy.decideLookup("cdn.example.org").effect == .deny)
        #expect(policy.decideLookup("blocked.example.org").effect == .deny)
        #expect(policy.decideLookup("blocked.example.org").rules.isEmpty == false)
        #expect(policy.decideLookup("evil.example.com").isDefaultDeny)
        #expect(policy.decideLookup("registry.example.org.evil.com").effect == .deny)
    }
}
