/// The CPU architectures whose syscall tables Warden compiles filters for.
public enum Architecture: String, CaseIterable, Sendable, Codable {
    case x86_64
    case aarch64

    /// The kernel's AUDIT_ARCH value, which is also libseccomp's architecture token
    /// and what `seccomp_data.arch` holds.
    public var auditArch: UInt32 {
        switch self {
        case .x86_64: return 0xC000_003E   // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
        case .aarch64: return 0xC000_00B7  // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
        }
    }

    /// The architecture this binary runs on.
    public static var native: Architecture {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #else
        #error("Warden supports x86_64 and aarch64 only")
        #endif
    }
}
