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

/// A small deterministic RNG (SplitMix64) so generated tests are reproducible.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
