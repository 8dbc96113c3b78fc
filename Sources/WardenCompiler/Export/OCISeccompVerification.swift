import CSeccomp
import WardenKernel

/// Compiles an exported OCI seccomp profile the way runc does (libseccomp, rules added in
/// array order with `seccomp_rule_add_array`, rules with the default action skipped, unknown
/// names ignored) and checks the program against the policy with the BPF compiler's verifier.
/// libseccomp 2.5.4 was seen to miscompile some rule sets, so a profile that a runtime would
/// compile wrongly is refused rather than exported.
extension OCISeccompExport {
    public static func verifyAsRuntime(_ profile: ExportValue, policy: SeccompPolicy) throws(SeccompCompileError) {
        let defaultAction = parseAction(profile["defaultAction"], errno: profile["defaultErrnoRet"]) ?? .errno(1)
        guard let ctx = seccomp_init(defaultAction.raw) else { throw .libseccomp(call: "seccomp_init", syscall: nil, code: -12) }
        defer { seccomp_release(ctx) }
        let native = seccomp_arch_native()
        if native != policy.arch.auditArch {
            try SeccompCompiler.check(seccomp_arch_add(ctx, policy.arch.auditArch), "seccomp_arch_add")
            try SeccompCompiler.check(seccomp_arch_remove(ctx, native), "seccomp_arch_remove")
        }
        guard case .array(let rules)? = profile["syscalls"] else { return }
        for rule in rules {
            guard let action = parseAction(rule["action"], errno: rule["errnoRet"]), action != defaultAction,
                  case .array(let names)? = rule["names"] else { continue }
            var cmps: [scmp_arg_cmp] = []
            if case .array(let args)? = rule["args"] {
                for a in args {
                    guard case .uint(let index)? = a["index"], case .uint(let value)? = a["value"],
                          case .uint(let two)? = a["valueTwo"], case .string(let op)? = a["op"],
                          let code = operators[op] else { continue }
                    cmps.append(scmp_arg_cmp(arg: UInt32(index), op: scmp_compare(code), datum_a: value, datum_b: two))
                }
            }
            for case .string(let name) in names {
                let nr = seccomp_syscall_resolve_name(name)
                if nr < 0 { continue }
                let rc = cmps.withUnsafeMutableBufferPointer { buf in
                    seccomp_rule_add_array(ctx, action.raw, nr, UInt32(buf.count), buf.baseAddress)
                }
                try SeccompCompiler.check(rc, "seccomp_rule_add_array", name)
            }
        }
        let bytes = try SeccompCompiler.export(ctx)
        guard let program = BPFProgram(bytes: bytes) else { throw .libseccomp(call: "seccomp_export_bpf", syscall: nil, code: -5) }
        // Architectures are left out: runc sets no bad-architecture action, so libseccomp's
        // default (kill the thread) answers foreign and x32 calls where Warden kills the process.
        try SeccompVerifier.verify(program, policy: policy, compiled: [], architectures: false)
    }

    static let operators: [String: UInt32] = [
        "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
        "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7,
    ]

    static func parseAction(_ action: ExportValue?, errno: ExportValue?) -> SeccompAction? {
        switch action {
        case .string("SCMP_ACT_ALLOW")?: return .allow
        case .string("SCMP_ACT_ERRNO")?:
            if case .uint(let e)? = errno { return .errno(UInt16(truncatingIfNeeded: e)) }
            return .errno(1)
        case .string("SCMP_ACT_KILL_PROCESS")?: return .killProcess
        case .string("SCMP_ACT_KILL_THREAD")?, .string("SCMP_ACT_KILL")?: return .killThread
        case .string("SCMP_ACT_LOG")?: return .log
        default: return nil
        }
    }
}
