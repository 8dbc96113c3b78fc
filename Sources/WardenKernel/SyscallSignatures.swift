/// One argument of a syscall, as far as a seccomp filter can see it.
public struct SyscallArgument: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// An integer (including flags and file descriptors): seccomp can compare it.
        case integer
        /// A pointer: seccomp sees only the address, so conditions on it are rejected.
        case pointer
    }
    public let name: String
    public let kind: Kind
    /// True when the kernel reads only the low 32 bits (an `int`), so the filter must
    /// compare 32-bit values and ignore the upper half.
    public let is32Bit: Bool

    public init(name: String, kind: Kind, is32Bit: Bool) {
        self.name = name
        self.kind = kind
        self.is32Bit = is32Bit
    }
}

/// Argument signatures of the syscalls on which policies may put conditions.
public enum SyscallSignatures {
    /// The arguments of `syscall`, or nil when Warden has no signature for it (then
    /// argument conditions on it are rejected).
    public static func arguments(of syscall: String) -> [SyscallArgument]? {
        SyscallSignatureData.table[syscall]
    }
}

enum SyscallSignatureData {
    static let table: [String: [SyscallArgument]] = [
        "socket": [
            .init(name: "domain", kind: .integer, is32Bit: true),
            .init(name: "type", kind: .integer, is32Bit: true),
            .init(name: "protocol", kind: .integer, is32Bit: true),
        ],
    ]
}
