/// Why a `SeccompPolicy` cannot be compiled (or evaluated).
public enum SeccompCompileError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownSyscall(String, source: String)
    case argumentIndexOutOfRange(syscall: String, arg: Int, source: String)
    /// A 32-bit argument compared with a value that does not fit in 32 bits.
    case valueDoesNotFit32Bits(syscall: String, condition: ArgCondition, source: String)
    /// `arg & mask == value` where `value` has bits outside `mask`: it can never match.
    case maskedValueOutsideMask(syscall: String, condition: ArgCondition, source: String)
    case invalidErrno(Int32, source: String)
    /// Negating overlapping conditions produced more filter rules than the limit.
    case tooComplex(syscall: String, rules: Int, limit: Int)
    /// libseccomp refused a call; `code` is its negative errno.
    case libseccomp(call: String, syscall: String?, code: Int32)
    /// The generated program disagrees with the policy on a sampled input (a libseccomp
    /// miscompilation); the filter is refused rather than loaded.
    case verificationFailed(syscall: String, args: [UInt64], filter: String, policy: String)

    public var description: String {
        func at(_ s: String) -> String { s.isEmpty ? "" : " (\(s))" }
        switch self {
        case .unknownSyscall(let n, let s):
            return "unknown syscall '\(n)'\(at(s)): not a syscall on x86_64 or aarch64 (see `warden syscalls`)"
        case .argumentIndexOutOfRange(let n, let a, let s):
            return "\(n): argument index \(a) is out of range 0...5\(at(s))"
        case .valueDoesNotFit32Bits(let n, let c, let s):
            return "\(n): \(c) compares a 32-bit argument with a value that does not fit in 32 bits\(at(s))"
        case .maskedValueOutsideMask(let n, let c, let s):
            return "\(n): \(c) can never match: the value has bits outside the mask\(at(s))"
        case .invalidErrno(let e, let s):
            return "errno \(e) is out of range 1...4095\(at(s))"
        case .tooComplex(let n, let r, let l):
            return "\(n): the allow and deny conditions expand to \(r) filter rules (limit \(l)); simplify the overlapping conditions"
        case .verificationFailed(let n, let args, let f, let p):
            let a = args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
            return "\(n)(\(a)): the generated filter answers \(f) but the policy says \(p); refusing the filter (libseccomp miscompiled overlapping rules)"
        case .libseccomp(let call, let n, let code):
            return "libseccomp \(call)\(n.map { " for \($0)" } ?? "") failed with error \(code)"
        }
    }
}
