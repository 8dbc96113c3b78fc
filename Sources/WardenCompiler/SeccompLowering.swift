import WardenKernel
import WardenPolicy

extension EffectivePolicy {
    /// The seccomp half of the plan for `arch`. With `notify`, every denial goes to the
    /// supervisor (which records it and answers with the rule's errno); otherwise denials
    /// return their errno directly. `clone3` is answered ENOSYS by the compiler itself.
    public func seccompPolicy(arch: Architecture = .native, notify: Bool) -> SeccompPolicy {
        var rules: [SyscallRule] = []
        let decidedBySupervisor = isNetworkMediated ? Set(Self.supervisorDecidedSyscalls) : []
        for grant in syscalls where grant.syscall != "clone3" {
            if decidedBySupervisor.contains(grant.syscall) {
                // Under mediation every call goes to the supervisor. Without it (exports, no
                // user notification) the built-in source-routing denies are left to the
                // engine's own network control, which filters packets by their first hop.
                if notify || (grant.effect == .deny && grant.provenance.file == nil) { continue }
            }
            let source = "\(grant.provenance.location): \(grant.provenance.rule)"
            for conjunction in Self.lower(grant.conditions) {
                rules.append(SyscallRule(
                    syscall: grant.syscall,
                    effect: grant.effect == .allow ? .allow : .deny,
                    conditions: conjunction,
                    errno: grant.effect == .deny && !notify ? grant.errno : nil,
                    source: source))
            }
        }
        if notify && isNetworkMediated {
            // Network mediation: the supervisor decides these calls (their addresses are in
            // memory, which seccomp cannot read safely) and performs them itself.
            let source = "built-in: network mediation"
            for name in Self.mediatedSocketCalls {
                rules.append(SyscallRule(syscall: name, effect: .deny, source: source))
            }
            // sendto without an address (a connected socket) needs no decision.
            rules.append(SyscallRule(syscall: "sendto", effect: .deny,
                                     conditions: [ArgCondition(arg: 4, op: .ne, value: 0, is32Bit: false)], source: source))
        }
        return SeccompPolicy(arch: arch, defaultDeny: notify ? .notify : .errno(BuiltinSafeguards.defaultErrno), rules: rules)
    }

    /// Syscalls that, for identities with network rules, always go to the supervisor, which
    /// decides them on their integer (register) arguments with `decideSyscall` and lets
    /// allowed calls continue. Their built-in denies (source-routing `setsockopt` options)
    /// would otherwise expand into thousands of filter rules: libseccomp 2.5.4 is only fed
    /// equality comparisons, so "not this option" becomes one masked compare per bit.
    /// Continuing is safe: the decision never depends on memory the agent could change.
    public static let supervisorDecidedSyscalls = ["setsockopt"]

    /// Socket calls that always go to the supervisor when the identity has network rules
    /// (`sendto` only with an address).
    public static let mediatedSocketCalls = ["connect", "bind", "listen", "sendmsg", "sendmmsg"]

    /// A conjunction of policy conditions as a disjunction of seccomp conjunctions
    /// (`in [a, b]` becomes one alternative per value).
    static func lower(_ conditions: [SyscallCondition]) -> [[ArgCondition]] {
        var alternatives: [[ArgCondition]] = [[]]
        for c in conditions {
            let options: [ArgCondition]
            switch c.test {
            case .compare(let op, let value):
                options = [ArgCondition(arg: c.argument, op: op.seccomp, value: value, is32Bit: c.is32Bit)]
            case .masked(let mask, let value):
                options = [ArgCondition(arg: c.argument, op: .maskedEq, value: value, mask: mask, is32Bit: c.is32Bit)]
            case .oneOf(let values):
                options = values.map { ArgCondition(arg: c.argument, op: .eq, value: $0, is32Bit: c.is32Bit) }
            }
            alternatives = alternatives.flatMap { prefix in options.map { prefix + [$0] } }
        }
        return alternatives
    }
}

extension CompareOperator {
    var seccomp: ComparisonOp {
        switch self {
        case .equal: return .eq
        case .notEqual: return .ne
        case .less: return .lt
        case .lessEqual: return .le
        case .greater: return .gt
        case .greaterEqual: return .ge
        }
    }
}
