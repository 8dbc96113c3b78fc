import CSeccomp
import Foundation

/// A compiled filter written out for a later run (`SeccompFilterCache` in WardenRuntime):
/// the program, the libseccomp rules it came from and the syscalls absent on the
/// architecture. The policy is not stored: the entry is found by, and carries, a key
/// derived from the exact compiler input, and a reader gives the policy it asked for.
public enum SeccompFilterArchive {
    /// The entry format; a reader refuses any other.
    public static let format = 1

    struct Entry: Codable {
        var format: Int
        var key: String
        var program: Data
        var rules: [Rule]
        var absentOnArch: [String]
    }

    struct Rule: Codable {
        var syscall: String
        var number: Int32
        var action: UInt32
        var comparisons: [String]
        var sources: [String]
    }

    /// The compiler's whole input, canonically: the policy (sorted keys), the libseccomp
    /// version that compiles it, and this archive's format. Hash it with whatever else the
    /// caller's key must cover (Warden's version, the policy files).
    public static func compilerInput(_ policy: SeccompPolicy) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(policy)).map { Array($0) } ?? []
        let v = seccomp_version()?.pointee
        let library = "libseccomp \(v?.major ?? 0).\(v?.minor ?? 0).\(v?.micro ?? 0)"
        return Array("seccomp-filter-archive \(format)\n\(library)\n".utf8) + json
    }

    /// The entry's bytes.
    public static func encode(_ filter: SeccompFilter, key: String) -> [UInt8] {
        let entry = Entry(format: format, key: key, program: Data(filter.program.bytes),
                          rules: filter.rules.map { Rule(syscall: $0.syscall, number: $0.number, action: $0.action.raw,
                                                         comparisons: $0.comparisons, sources: $0.sources) },
                          absentOnArch: filter.absentOnArch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(entry)).map { Array($0) } ?? []
    }

    /// The filter for `policy` from an entry's bytes; nil unless the entry is of this
    /// format, carries `key`, and holds a well-formed program.
    public static func decode(_ bytes: [UInt8], key: String, policy: SeccompPolicy) -> SeccompFilter? {
        guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)),
              entry.format == format, entry.key == key,
              !entry.program.isEmpty, entry.program.count <= 4096 * 8,
              let program = BPFProgram(bytes: Array(entry.program)) else { return nil }
        let rules = entry.rules.map {
            CompiledSeccompRule(syscall: $0.syscall, number: $0.number, action: SeccompAction(raw: $0.action),
                                comparisons: $0.comparisons, sources: $0.sources)
        }
        return SeccompFilter(policy: policy, program: program, rules: rules, absentOnArch: entry.absentOnArch)
    }
}
