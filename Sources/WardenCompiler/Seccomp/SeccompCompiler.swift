import CSeccomp
import WardenKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One rule as handed to libseccomp (after splitting into disjoint regions).
public struct CompiledSeccompRule: Hashable, Sendable {
    public var syscall: String
    public var number: Int32
    public var action: SeccompAction
    /// Human-readable comparisons (a conjunction; empty = always).
    public var comparisons: [String]
    /// Sources of the policy rules that produced this region.
    public var sources: [String]
}

/// A compiled seccomp filter.
public struct SeccompFilter: Sendable {
    public let policy: SeccompPolicy
    public let program: BPFProgram
    /// The libseccomp rules the program was generated from.
    public let rules: [CompiledSeccompRule]
    /// Syscalls named by rules that do not exist on the target architecture (skipped).
    public let absentOnArch: [String]

    /// Per return instruction: the action, the syscalls that can reach it, and their sources.
    public func annotations() -> [Int: String] {
        let reach = BPFReachability.syscallsReaching(program, arch: policy.arch)
        var bySyscallAction: [String: [SeccompAction: [String]]] = [:]
        for r in rules { bySyscallAction[r.syscall, default: [:]][r.action, default: []] += r.sources }
        var out: [Int: String] = [:]
        for (pc, names) in reach {
            let action = SeccompAction(raw: program.instructions[pc].k)
            var sources: [String] = []
            for n in names.sorted() { sources += bySyscallAction[n]?[action] ?? [] }
            sources = Array(Set(sources.filter { !$0.isEmpty })).sorted()
            let list = names.sorted()
            var s = list.prefix(6).joined(separator: " ")
            if list.count > 6 { s += " +\(list.count - 6) more" }
            if list.isEmpty { s = "(no syscall: bad arch, x32 or default)" }
            if !sources.isEmpty { s += " <- " + sources.prefix(4).joined(separator: ", ") + (sources.count > 4 ? ", ..." : "") }
            out[pc] = s
        }
        return out
    }

    /// The filter disassembled, annotated with the syscalls and rule sources behind each return.
    public func disassembly() -> String {
        BPFDisassembler.disassemble(program, arch: policy.arch, annotations: annotations())
    }
}

/// Compiles a `SeccompPolicy` to a BPF program through libseccomp.
///
/// Overlapping allow and deny rules are first split into disjoint regions (libseccomp does
/// not guarantee which action wins when rules overlap: an unconditional rule silently replaces
/// conditional ones with another action). Settings: binary-tree syscall dispatch
/// (`SCMP_FLTATR_CTL_OPTIMIZE` = 2); any other architecture (i386 via `int 0x80`) kills the
/// process (`SCMP_FLTATR_ACT_BADARCH`); libseccomp's x86_64 filter kills x32 numbers
/// (nr ≥ 0x40000000, except -1); `clone3` always fails with ENOSYS.
///
/// `ioctl`'s denies of single request values (the built-in TIOCSTI/TIOCLINUX guard) are
/// checked by a short hand-written prefix before libseccomp's program instead (see
/// `SeccompPrefilter`); the whole program is verified against the reference evaluator.
public enum SeccompCompiler {
    /// The most libseccomp rules one syscall may expand to (each costs 3 to 8 instructions
    /// and a filter holds at most 4096).
    public static let defaultRuleLimit = 256

    /// The layout of the programs this compiler emits. It is part of the filter cache's key
    /// (`SeccompFilterArchive.compilerInput`): bump it whenever the program emitted for the
    /// same policy changes, so no cache ever serves a program of another layout.
    /// 1: libseccomp's program alone; 2: the `ioctl` prefix before it.
    public static let layout = 2

    public static func compile(_ policy: SeccompPolicy, ruleLimit: Int = defaultRuleLimit) throws(SeccompCompileError) -> SeccompFilter {
        try compile(policy, ruleLimit: ruleLimit, prefilter: true)
    }

    /// - Parameter prefilter: place the `ioctl` prefix before libseccomp's program when a
    ///   rule can move there (false: libseccomp's program alone, the layout before 2; kept
    ///   for comparisons in tests).
    static func compile(_ policy: SeccompPolicy, ruleLimit: Int = defaultRuleLimit, prefilter: Bool) throws(SeccompCompileError) -> SeccompFilter {
        try SeccompValidation.validate(policy)
        let defaultAction = SeccompAction(policy.defaultDeny)
        let prefix = prefilter ? SeccompPrefilter.plan(policy) : nil
        var grouped: [String: [SyscallRule]] = [:]
        for r in prefix?.remaining ?? policy.rules { grouped[r.syscall, default: []].append(r) }
        grouped["clone3", default: []] += []

        var compiled: [CompiledSeccompRule] = []
        var absent: [String] = []
        var numbered: [(Int32, String)] = []
        for name in grouped.keys.sorted() {
            guard let nr = SyscallTable.number(of: name, arch: policy.arch) else { absent.append(name); continue }
            numbered.append((nr, name))
        }
        guard let ctx = seccomp_init(defaultAction.raw) else { throw .libseccomp(call: "seccomp_init", syscall: nil, code: -12) }
        defer { seccomp_release(ctx) }
        try check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "seccomp_attr_set(CTL_OPTIMIZE)")
        try check(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SeccompAction.killProcess.raw), "seccomp_attr_set(ACT_BADARCH)")
        let native = seccomp_arch_native()
        if native != policy.arch.auditArch {
            try check(seccomp_arch_add(ctx, policy.arch.auditArch), "seccomp_arch_add")
            try check(seccomp_arch_remove(ctx, native), "seccomp_arch_remove")
        }
        for (nr, name) in numbered.sorted(by: { $0.0 < $1.0 }) {
            let regions = try SeccompRegions.compute(name, rules: grouped[name] ?? [], defaultDeny: policy.defaultDeny, limit: ruleLimit)
            // libseccomp 2.5.4 loses rules when merging chains that share a prefix after a
            // chain on a later argument was added (seen with masked-equals of different masks
            // on one argument): add each syscall's rules ordered by their comparisons, lowest
            // argument first, which avoids that pattern; `verify` below checks the result.
            var ordered: [(SyscallRegions.Region, Term)] = []
            for region in regions.regions where region.action != defaultAction {
                for term in region.terms { ordered.append((region, term.sorted())) }
            }
            ordered.sort { l, r in
                let la = l.1.map(\.arg), ra = r.1.map(\.arg)
                return la != ra ? la.lexicographicallyPrecedes(ra) : l.1.lexicographicallyPrecedes(r.1)
            }
            for (region, term) in ordered {
                do {  // one libseccomp rule
                    var cmps = term.map { c in
                        scmp_arg_cmp(arg: UInt32(c.arg), op: scmp_compare(UInt32(c.op.rawValue)),
                                     datum_a: c.op == .maskedEq ? c.mask : c.datum,
                                     datum_b: c.op == .maskedEq ? c.datum : 0)
                    }
                    // libseccomp's API takes syscall numbers in the native numbering (or its
                    // pseudo-numbers) and translates them for the filter's architecture.
                    let apiNr = seccomp_syscall_resolve_name(name)
                    let rc = cmps.withUnsafeMutableBufferPointer { buf in
                        seccomp_rule_add_exact_array(ctx, region.action.raw, apiNr, UInt32(buf.count), buf.baseAddress)
                    }
                    try check(rc, "seccomp_rule_add_exact_array", name)
                    compiled.append(CompiledSeccompRule(syscall: name, number: nr, action: region.action,
                                                        comparisons: term.map(describe), sources: region.sources))
                }
            }
        }
        let bytes = try export(ctx)
        guard var program = BPFProgram(bytes: bytes) else {
            throw .libseccomp(call: "seccomp_export_bpf", syscall: nil, code: -5)
        }
        if let prefix {
            program.instructions = prefix.instructions + program.instructions
            compiled = prefix.compiledRules + compiled
        }
        try SeccompVerifier.verify(program, policy: policy, compiled: compiled)
        return SeccompFilter(policy: policy, program: program, rules: compiled, absentOnArch: absent)
    }

    static func check(_ rc: Int32, _ call: String, _ syscall: String? = nil) throws(SeccompCompileError) {
        if rc < 0 { throw .libseccomp(call: call, syscall: syscall, code: rc) }
    }

    /// Exports the filter through an anonymous temporary file (libseccomp 2.5 writes to an fd).
    static func export(_ ctx: scmp_filter_ctx) throws(SeccompCompileError) -> [UInt8] {
        guard let file = tmpfile() else { throw .libseccomp(call: "tmpfile", syscall: nil, code: -errno) }
        defer { fclose(file) }
        let fd = fileno(file)
        try check(seccomp_export_bpf(ctx, fd), "seccomp_export_bpf")
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw .libseccomp(call: "lseek", syscall: nil, code: -errno) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .libseccomp(call: "read", syscall: nil, code: -errno)
            }
            if n == 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    static func describe(_ c: Comparison) -> String {
        let hex = { (v: UInt64) in "0x" + String(v, radix: 16) }
        switch c.op {
        case .maskedEq: return "arg\(c.arg) & \(hex(c.mask)) == \(hex(c.datum))"
        case .eq: return "arg\(c.arg) == \(hex(c.datum))"
        case .ne: return "arg\(c.arg) != \(hex(c.datum))"
        case .lt: return "arg\(c.arg) < \(hex(c.datum))"
        case .le: return "arg\(c.arg) <= \(hex(c.datum))"
        case .gt: return "arg\(c.arg) > \(hex(c.datum))"
        case .ge: return "arg\(c.arg) >= \(hex(c.datum))"
        }
    }
}
