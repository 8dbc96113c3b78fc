@testable import WardenCompiler
import WardenKernel

/// Helpers shared by the seccomp tests.
enum TS {
    static func c(_ arg: Int, _ op: ComparisonOp, _ value: UInt64, mask: UInt64 = 0, is32: Bool = true) -> ArgCondition {
        ArgCondition(arg: arg, op: op, value: value, mask: mask, is32Bit: is32)
    }

    static func allow(_ s: String, _ conds: [ArgCondition] = [], source: String = "") -> SyscallRule {
        SyscallRule(syscall: s, effect: .allow, conditions: conds, source: source.isEmpty ? "allow \(s)" : source)
    }

    static func deny(_ s: String, _ conds: [ArgCondition] = [], errno: Int32? = nil, source: String = "") -> SyscallRule {
        SyscallRule(syscall: s, effect: .deny, conditions: conds, errno: errno, source: source.isEmpty ? "deny \(s)" : source)
    }

    /// Allow rules for every member of `@default`.
    static func defaultAllows() -> [SyscallRule] {
        SyscallRule.allowing(group: "@default", source: "@default") ?? []
    }
}

