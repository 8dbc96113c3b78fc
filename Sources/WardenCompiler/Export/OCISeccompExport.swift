import WardenKernel

/// A `SeccompPolicy` as an OCI runtime-spec `linux.seccomp` object (also the seccomp profile
/// format of containerd, CRI-O, Docker and Kubernetes' `Localhost` profiles).
///
/// Runtimes hand these rules to libseccomp, which does not say which action wins when two
/// rules for one syscall overlap. So the rules are first split into disjoint regions with
/// the same code the BPF compiler uses (`SeccompRegions`): each emitted rule already excludes
/// every stricter region, deny wins by construction, and each rule has at most one comparison
/// per argument (runc turns several comparisons on one argument into an OR of rules).
public enum OCISeccompExport {
    /// `SCMP_ARCH_…` for an architecture.
    public static func archName(_ arch: Architecture) -> String {
        switch arch {
        case .x86_64: return "SCMP_ARCH_X86_64"
        case .aarch64: return "SCMP_ARCH_AARCH64"
        }
    }

    /// The profile. `defaultErrnoRet: false` leaves out `defaultErrnoRet` (for the Security
    /// Profiles Operator, whose API lacks it; runtimes default to EPERM).
    public static func profile(_ policy: SeccompPolicy, includeDefaultErrno: Bool = true,
                               ruleLimit: Int = SeccompCompiler.defaultRuleLimit) throws(SeccompCompileError) -> ExportValue {
        try SeccompValidation.validate(policy)
        let defaultAction = SeccompAction(policy.defaultDeny)
        var grouped: [String: [SyscallRule]] = [:]
        for r in policy.rules { grouped[r.syscall, default: []].append(r) }
        grouped["clone3", default: []] += []

        // Unconditional rules share one entry per action; conditional rules stay per syscall,
        // in the order the BPF compiler adds them (lowest argument first: libseccomp 2.5.4
        // loses rules merged in other orders), since a runtime adds them in array order.
        var entries: [(action: SeccompAction, args: [ExportValue], names: [String])] = []
        var unconditional: [UInt32: Int] = [:]
        for name in grouped.keys.sorted() where SyscallTable.number(of: name, arch: policy.arch) != nil {
            let regions = try SeccompRegions.compute(name, rules: grouped[name] ?? [], defaultDeny: policy.defaultDeny, limit: ruleLimit)
            var ordered: [(SeccompAction, Term)] = []
            for region in regions.regions where region.action != defaultAction {
                for term in region.terms { ordered.append((region.action, term.sorted())) }
            }
            ordered.sort { l, r in
                let la = l.1.map(\.arg), ra = r.1.map(\.arg)
                return la != ra ? la.lexicographicallyPrecedes(ra) : l.1.lexicographicallyPrecedes(r.1)
            }
            for (action, term) in ordered {
                if term.isEmpty, let i = unconditional[action.raw] {
                    entries[i].names.append(name)
                } else {
                    if term.isEmpty { unconditional[action.raw] = entries.count }
                    entries.append((action, term.map(argument), [name]))
                }
            }
        }
        var fields: [(String, ExportValue)] = action(defaultAction, prefix: "default", includeErrno: includeDefaultErrno)
        fields.append(("architectures", .array([.string(archName(policy.arch))])))
        fields.append(("syscalls", .array(entries.map { e in
            var f: [(String, ExportValue)] = [("names", .array(e.names.map { .string($0) }))]
            f += action(e.action, prefix: "", includeErrno: true)
            if !e.args.isEmpty { f.append(("args", .array(e.args))) }
            return .object(f)
        })))
        return .object(fields)
    }

    /// `action`/`errnoRet` (or `defaultAction`/`defaultErrnoRet`) fields.
    static func action(_ a: SeccompAction, prefix: String, includeErrno: Bool) -> [(String, ExportValue)] {
        let key = prefix.isEmpty ? "action" : "defaultAction"
        let errnoKey = prefix.isEmpty ? "errnoRet" : "defaultErrnoRet"
        switch a {
        case .allow: return [(key, .string("SCMP_ACT_ALLOW"))]
        case .errno(let e):
            return includeErrno ? [(key, .string("SCMP_ACT_ERRNO")), (errnoKey, .uint(UInt64(e)))] : [(key, .string("SCMP_ACT_ERRNO"))]
        case .killProcess: return [(key, .string("SCMP_ACT_KILL_PROCESS"))]
        case .killThread: return [(key, .string("SCMP_ACT_KILL_THREAD"))]
        case .trap: return [(key, .string("SCMP_ACT_TRAP"))]
        case .log: return [(key, .string("SCMP_ACT_LOG"))]
        case .userNotif: return [(key, .string("SCMP_ACT_NOTIFY"))]
        case .trace: return [(key, .string("SCMP_ACT_TRACE"))]
        case .unknown: return [(key, .string("SCMP_ACT_KILL_PROCESS"))]
        }
    }

    /// One comparison as an OCI `SyscallArg` (masked-equal: `value` is the mask, `valueTwo` the datum,
    /// as runc passes them to libseccomp).
    static func argument(_ c: Comparison) -> ExportValue {
        let op: String
        switch c.op {
        case .ne: op = "SCMP_CMP_NE"
        case .lt: op = "SCMP_CMP_LT"
        case .le: op = "SCMP_CMP_LE"
        case .eq: op = "SCMP_CMP_EQ"
        case .ge: op = "SCMP_CMP_GE"
        case .gt: op = "SCMP_CMP_GT"
        case .maskedEq: op = "SCMP_CMP_MASKED_EQ"
        }
        let (value, two) = c.op == .maskedEq ? (c.mask, c.datum) : (c.datum, UInt64(0))
        return .object([("index", .uint(UInt64(c.arg))), ("value", .uint(value)), ("valueTwo", .uint(two)), ("op", .string(op))])
    }
}
