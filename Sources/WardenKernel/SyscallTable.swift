import CSeccomp

/// Syscall names and numbers, always from libseccomp's resolver (never a hand-written table).
public enum SyscallTable {
    /// The highest syscall number probed when listing a table.
    static let probeLimit: Int32 = 1024

    /// The number of `name` on `arch`, or nil when the architecture has no such syscall.
    public static func number(of name: String, arch: Architecture = .native) -> Int32? {
        let nr = seccomp_syscall_resolve_name_arch(arch.auditArch, name)
        return nr >= 0 ? nr : nil
    }

    /// The name of syscall `number` on `arch`, or nil when it has none.
    public static func name(of number: Int32, arch: Architecture = .native) -> String? {
        guard let cString = seccomp_syscall_resolve_num_arch(arch.auditArch, number) else { return nil }
        defer { free(cString) }
        return String(cString: cString)
    }

    /// Whether `name` is a syscall on at least one supported architecture.
    public static func isKnown(_ name: String) -> Bool {
        Architecture.allCases.contains { number(of: name, arch: $0) != nil }
    }

    /// Every syscall of `arch`, sorted by number.
    public static func all(arch: Architecture = .native) -> [(name: String, number: Int32)] {
        cache[arch] ?? []
    }

    /// Every syscall name known on any supported architecture, sorted.
    public static let allNames: [String] = {
        Set(Architecture.allCases.flatMap { arch in (cache[arch] ?? []).map(\.name) }).sorted()
    }()

    private static let cache: [Architecture: [(name: String, number: Int32)]] = {
        var result: [Architecture: [(name: String, number: Int32)]] = [:]
        for arch in Architecture.allCases {
            var list: [(name: String, number: Int32)] = []
            for nr in 0..<probeLimit {
                if let n = name(of: nr, arch: arch) { list.append((n, nr)) }
            }
            result[arch] = list
        }
        return result
    }()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
