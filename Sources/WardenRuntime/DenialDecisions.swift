import Synchronization
import WardenCompiler
import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's answer to a denied syscall the filter notified: the errno to return and
/// the rule to record, from the policy model (`EffectivePolicy.decideSyscall`).
///
/// A syscall whose rules test no argument gets the same answer every time, so it is decided
/// once and kept (by number): a looping agent's denials cost a dictionary lookup, not a
/// walk over every syscall rule. Calls whose rules test arguments are decided each time.
final class DenialDecisions: Sendable {
    struct Answer: Sendable {
        var name: String
        var errno: Int32
        var rule: String?
    }

    private let effective: EffectivePolicy
    private let conditional: Set<String>
    private let known = Mutex<[Int32: Answer]>([:])

    init(effective: EffectivePolicy) {
        self.effective = effective
        conditional = Set(effective.syscalls.filter { !$0.conditions.isEmpty }.map(\.syscall))
    }

    func answer(_ nr: Int32, arguments: [UInt64]) -> Answer {
        if let cached = known.withLock({ $0[nr] }) { return cached }
        let name = SyscallTable.name(of: nr, arch: Architecture.native) ?? "syscall_\(nr)"
        let decision = effective.decideSyscall(name, arguments: arguments)
        // The filter only notifies denials; if the model disagrees, stay closed.
        let answer = Answer(name: name, errno: decision.errno ?? EPERM,
                            rule: decision.rules.first.map { "\($0.location): \($0.rule)" })
        if !conditional.contains(name) { known.withLock { $0[nr] = answer } }
        return answer
    }
}
