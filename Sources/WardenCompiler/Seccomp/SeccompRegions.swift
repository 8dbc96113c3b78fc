import WardenKernel

/// One syscall's rules compiled into disjoint regions, each with one action.
struct SyscallRegions: Sendable {
    struct Region: Sendable {
        var action: SeccompAction
        var terms: DNF
        var sources: [String]
    }
    var syscall: String
    var regions: [Region]
}

/// Splits each syscall's allow and deny rules into non-overlapping regions:
/// deny regions by strictness (each minus every stricter deny), then the allow region minus
/// every deny. Whatever is left falls to the default action.
enum SeccompRegions {
    static func compute(_ syscall: String, rules: [SyscallRule], defaultDeny: DenyAction, limit: Int) throws(SeccompCompileError) -> SyscallRegions {
        if syscall == "clone3" {
            return SyscallRegions(syscall: syscall, regions: [.init(action: .errno(UInt16(SeccompValidation.enosys)), terms: ConditionAlgebra.always, sources: ["clone3 is always ENOSYS"])])
        }
        func dnf(_ r: SyscallRule) throws(SeccompCompileError) -> DNF {
            try ConditionAlgebra.and(r.conditions.map(ConditionAlgebra.positive), limit: limit, syscall: syscall)
        }
        func notDNF(_ r: SyscallRule) -> DNF {
            r.conditions.flatMap(ConditionAlgebra.negative)
        }
        let denies = rules.filter { $0.effect == .deny }
        let allows = rules.filter { $0.effect == .allow }
        let byAction = Dictionary(grouping: denies) { $0.errno.map { DenyAction.errno($0) } ?? defaultDeny }
        let actions = byAction.keys.sorted { SeccompValidation.stricter($0, $1) }

        var regions: [SyscallRegions.Region] = []
        var stricter: [SyscallRule] = []
        for action in actions {
            let group = byAction[action] ?? []
            var union: DNF = []
            for r in group { union += try dnf(r) }
            union = ConditionAlgebra.reduce(union)
            let minus = try ConditionAlgebra.and([union] + stricter.map(notDNF), limit: limit, syscall: syscall)
            regions.append(.init(action: SeccompAction(action), terms: minus, sources: group.map(\.source)))
            stricter += group
        }
        var allowUnion: DNF = []
        for r in allows { allowUnion += try dnf(r) }
        allowUnion = ConditionAlgebra.reduce(allowUnion)
        let allowRegion = try ConditionAlgebra.and([allowUnion] + denies.map(notDNF), limit: limit, syscall: syscall)
        regions.append(.init(action: .allow, terms: allowRegion, sources: allows.map(\.source)))
        return SyscallRegions(syscall: syscall, regions: regions.filter { !$0.terms.isEmpty })
    }
}
