#if canImport(Glibc)
import Glibc
#endif
import WardenCompiler
import WardenPolicy

/// Builds `warden learn`'s proposal from what runs in observing mode recorded: pure (the
/// host is asked only whether a path exists, through `hostPathExists`), deterministic, and
/// always relative to the ORIGINAL policy, so proposing again from every observation so far
/// gives the whole proposal.
public struct LearnProposer: Sendable {
    public var effective: EffectivePolicy
    /// The run's agent view of `${workspace}`, `${home}`, `${tmp}`.
    public var bindings: PathBindings
    public var hostPathExists: @Sendable (String) -> Bool
    /// Warden's own files (the audit log, its directory, the signing key): never proposed
    /// writable, whatever the run did.
    public var protectedPaths: [String]

    public init(effective: EffectivePolicy, bindings: PathBindings, protectedPaths: [String] = [],
                hostPathExists: @escaping @Sendable (String) -> Bool = LearnProposer.pathExists) {
        self.effective = effective
        self.bindings = bindings
        self.protectedPaths = protectedPaths
        self.hostPathExists = hostPathExists
    }

    /// Whether `path` exists on this host (without following a final symlink).
    public static let pathExists: @Sendable (String) -> Bool = { path in
        var st = stat()
        return lstat(path, &st) == 0
    }

    public func propose(_ observations: [LearnObservation]) -> LearnProposal {
        var fs: [FsObservation] = []
        var net: [NetObservation] = []
        var lookups: [(name: String, count: Int64)] = []
        var syscalls: [(name: String, arguments: [UInt64], count: Int64)] = []
        var overflow: Int64 = 0
        for o in observations {
            switch o {
            case .fs(let f): fs.append(f)
            case .net(let n): net.append(n)
            case .lookup(let name, let count): lookups.append((name, count))
            case .syscall(let name, let args, let count): syscalls.append((name, args, count))
            case .overflow(let count): overflow += count
            }
        }
        let f = FsProposals(effective: effective, bindings: bindings, exists: hostPathExists, protected: protectedPaths).propose(fs)
        let n = NetProposals(effective: effective).propose(net, lookups: lookups)
        let s = SyscallProposals(effective: effective).propose(syscalls)
        return LearnProposal(rules: Self.merge(f.rules + n.rules + s.rules),
                             notProposed: Array(Set(f.notProposed + n.notProposed + s.notProposed)).sorted(),
                             overflow: overflow)
    }

    /// Rules sorted, one per text (evidence of duplicates kept from the first).
    static func merge(_ rules: [ProposedRule]) -> [ProposedRule] {
        var seen: Set<String> = []
        return rules.sorted().filter { seen.insert($0.text).inserted }
    }
}
