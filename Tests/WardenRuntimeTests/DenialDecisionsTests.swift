import Testing
@testable import WardenCompiler
import WardenKernel
import WardenPolicy
@testable import WardenRuntime

/// The supervisor's answers to notified denials agree with the policy model: a syscall
/// without argument rules is answered from the cache, one whose rules test arguments is
/// decided again for each call.
@Suite struct DenialDecisionsTests {
    static let text = """
    warden 1
    identity agent {
      allow syscall @default
      deny syscall ptrace errno EACCES
      deny syscall socket(domain == AF_NETLINK) errno EAFNOSUPPORT
      allow syscall socket(domain in [AF_UNIX, AF_INET])
    }

    """

    @Test func answersMatchTheModelAndArgumentRulesAreNotCached() throws {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": Self.text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        let effective = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        let decisions = DenialDecisions(effective: effective)
        let ptrace = try #require(SyscallTable.number(of: "ptrace", arch: .native))
        let socket = try #require(SyscallTable.number(of: "socket", arch: .native))
        for _ in 0..<3 {
            let a = decisions.answer(ptrace, arguments: [0, 0, 0, 0, 0, 0])
            #expect(a.name == "ptrace" && a.errno == 13 && a.rule?.contains("deny syscall ptrace") == true, "\(a)")
        }
        let netlink = decisions.answer(socket, arguments: [16, 3, 0, 0, 0, 0])
        #expect(netlink.errno == 97, "AF_NETLINK: EAFNOSUPPORT, \(netlink)")
        let other = decisions.answer(socket, arguments: [17, 3, 0, 0, 0, 0])
        #expect(other.errno == 1, "AF_PACKET: allowed by the model (the filter would not notify it), closed anyway: \(other)")
        #expect(decisions.answer(socket, arguments: [16, 3, 0, 0, 0, 0]).errno == 97, "still decided per call")
    }
}
