import WardenKernel

/// The reference semantics of a `SeccompPolicy`, evaluated directly (no BPF).
/// The compiled filter must agree with it on every input; the differential tests check that.
public struct SeccompEvaluator: Sendable {
    public let policy: SeccompPolicy
    private let rulesBySyscall: [String: [SyscallRule]]

    /// Validates `policy` (the same checks the compiler makes).
    public init(policy: SeccompPolicy) throws(SeccompCompileError) {
        try SeccompValidation.validate(policy)
        self.policy = policy
        self.rulesBySyscall = Dictionary(grouping: policy.rules, by: \.syscall)
    }

    /// The action the kernel should take for `data`.
    public func evaluate(_ data: SeccompData) -> SeccompAction {
        guard data.arch == policy.arch.auditArch else { return .killProcess }
        let nr = UInt32(bitPattern: data.nr)
        if policy.arch == .x86_64, nr >= SeccompValidation.x32SyscallBit, nr != 0xffff_ffff { return .killProcess }
        guard let name = SyscallTable.name(of: data.nr, arch: policy.arch) else {
            return SeccompAction(policy.defaultDeny)
        }
        return evaluate(syscall: name, args: (0..<6).map { data.arg($0) })
    }

    /// The action for syscall `name` (assumed to exist on the policy's architecture) with `args`.
    public func evaluate(syscall name: String, args: [UInt64]) -> SeccompAction {
        if name == "clone3" { return .errno(UInt16(SeccompValidation.enosys)) }
        let rules = rulesBySyscall[name] ?? []
        func matches(_ r: SyscallRule) -> Bool {
            r.conditions.allSatisfy { SeccompValidation.holds($0, args.indices.contains($0.arg) ? args[$0.arg] : 0) }
        }
        let denies = rules.filter { $0.effect == .deny && matches($0) }.map { denyAction(of: $0) }
        if let strictest = denies.min(by: { SeccompValidation.stricter($0, $1) }) {
            return SeccompAction(strictest)
        }
        if rules.contains(where: { $0.effect == .allow && matches($0) }) { return .allow }
        return SeccompAction(policy.defaultDeny)
    }

    func denyAction(of rule: SyscallRule) -> DenyAction {
        rule.errno.map { DenyAction.errno($0) } ?? policy.defaultDeny
    }
}

/// Checks and helpers shared by the evaluator and the compiler.
enum SeccompValidation {
    static let x32SyscallBit: UInt32 = 0x4000_0000
    static let enosys: Int32 = 38

    static func validate(_ policy: SeccompPolicy) throws(SeccompCompileError) {
        if case .errno(let e) = policy.defaultDeny, !(1...4095).contains(e) { throw .invalidErrno(e, source: "default") }
        for r in policy.rules {
            guard SyscallTable.isKnown(r.syscall) else { throw .unknownSyscall(r.syscall, source: r.source) }
            if let e = r.errno, !(1...4095).contains(e) { throw .invalidErrno(e, source: r.source) }
            for c in r.conditions {
                guard (0...5).contains(c.arg) else {
                    throw .argumentIndexOutOfRange(syscall: r.syscall, arg: c.arg, source: r.source)
                }
                if c.is32Bit, normalized32(c.value) == nil {
                    throw .valueDoesNotFit32Bits(syscall: r.syscall, condition: c, source: r.source)
                }
                if c.op == .maskedEq {
                    let mask = c.is32Bit ? c.mask & 0xffff_ffff : c.mask
                    let value = c.is32Bit ? (normalized32(c.value) ?? 0) : c.value
                    if value & ~mask != 0 {
                        throw .maskedValueOutsideMask(syscall: r.syscall, condition: c, source: r.source)
                    }
                }
            }
        }
    }

    /// A value compared with a 32-bit argument: fits in 32 bits, or is a sign-extended
    /// negative 32-bit value (`-1` written as 0xffff_ffff_ffff_ffff); nil otherwise.
    static func normalized32(_ v: UInt64) -> UInt64? {
        if v <= 0xffff_ffff { return v }
        if v >= 0xffff_ffff_8000_0000 { return v & 0xffff_ffff }
        return nil
    }

    /// Whether condition `c` holds for raw argument `raw`.
    static func holds(_ c: ArgCondition, _ raw: UInt64) -> Bool {
        let x = c.is32Bit ? raw & 0xffff_ffff : raw
        let v = c.is32Bit ? (normalized32(c.value) ?? c.value) : c.value
        switch c.op {
        case .eq: return x == v
        case .ne: return x != v
        case .lt: return x < v
        case .le: return x <= v
        case .gt: return x > v
        case .ge: return x >= v
        case .maskedEq: return x & (c.is32Bit ? c.mask & 0xffff_ffff : c.mask) == v
        }
    }

    /// Whether deny action `a` takes precedence over `b`: kill, then the lowest errno, then notify.
    static func stricter(_ a: DenyAction, _ b: DenyAction) -> Bool { rank(a) < rank(b) }

    static func rank(_ a: DenyAction) -> (Int, Int32) {
        switch a {
        case .kill: return (0, 0)
        case .errno(let e): return (1, e)
        case .notify: return (2, 0)
        }
    }
}
