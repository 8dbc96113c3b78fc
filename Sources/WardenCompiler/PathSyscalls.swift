import WardenKernel
import WardenPolicy

/// The syscalls that name files by path, and how each one's arguments say which files it
/// touches and how: observing mode (`warden learn`) sends their allowed calls to the
/// supervisor, which reads the paths and records what the policy's world would refuse.
///
/// Only registers are read here; the path strings themselves are in the agent's memory.
public enum PathSyscalls {
    /// How one operand's access is told from the call.
    public enum AccessSource: Sendable, Equatable {
        /// Always this access.
        case fixed(FsAccess)
        /// From `open` flags in this argument (O_ACCMODE, O_CREAT, O_TRUNC; O_PATH: none).
        case openFlags(argument: Int)
        /// From the flags of the `struct open_how` this argument points at (openat2).
        case openHow(argument: Int)
        /// From an `access` mode in this argument (R_OK, W_OK, X_OK; F_OK counts as read).
        case accessMode(argument: Int)
    }

    /// One path a call names.
    public struct Operand: Sendable, Equatable {
        /// The argument holding the pointer to the path string.
        public var path: Int
        /// The argument holding the directory descriptor a relative path starts from; nil:
        /// the calling thread's working directory.
        public var directory: Int?
        public var access: AccessSource
    }

    /// Per syscall name (as `SyscallTable` spells it), the paths it names.
    public static let operands: [String: [Operand]] = {
        func at(_ d: Int?, _ p: Int, _ a: AccessSource) -> Operand { Operand(path: p, directory: d, access: a) }
        let read = AccessSource.fixed(.read), write = AccessSource.fixed(.write), exec = AccessSource.fixed(.exec)
        return [
            "open": [at(nil, 0, .openFlags(argument: 1))],
            "openat": [at(0, 1, .openFlags(argument: 2))],
            "openat2": [at(0, 1, .openHow(argument: 2))],
            "creat": [at(nil, 0, write)],
            "stat": [at(nil, 0, read)], "lstat": [at(nil, 0, read)],
            "newfstatat": [at(0, 1, read)], "statx": [at(0, 1, read)], "statfs": [at(nil, 0, read)],
            "access": [at(nil, 0, .accessMode(argument: 1))],
            "faccessat": [at(0, 1, .accessMode(argument: 2))],
            "faccessat2": [at(0, 1, .accessMode(argument: 2))],
            "readlink": [at(nil, 0, read)], "readlinkat": [at(0, 1, read)],
            "chdir": [at(nil, 0, read)],
            "getxattr": [at(nil, 0, read)], "lgetxattr": [at(nil, 0, read)],
            "listxattr": [at(nil, 0, read)], "llistxattr": [at(nil, 0, read)],
            "execve": [at(nil, 0, exec)], "execveat": [at(0, 1, exec)],
            "mkdir": [at(nil, 0, write)], "mkdirat": [at(0, 1, write)],
            "mknod": [at(nil, 0, write)], "mknodat": [at(0, 1, write)],
            "unlink": [at(nil, 0, write)], "unlinkat": [at(0, 1, write)], "rmdir": [at(nil, 0, write)],
            "rename": [at(nil, 0, write), at(nil, 1, write)],
            "renameat": [at(0, 1, write), at(2, 3, write)],
            "renameat2": [at(0, 1, write), at(2, 3, write)],
            "link": [at(nil, 0, read), at(nil, 1, write)],
            "linkat": [at(0, 1, read), at(2, 3, write)],
            "symlink": [at(nil, 1, write)], "symlinkat": [at(1, 2, write)],
            "truncate": [at(nil, 0, write)],
            "chmod": [at(nil, 0, write)], "fchmodat": [at(0, 1, write)], "fchmodat2": [at(0, 1, write)],
            "chown": [at(nil, 0, write)], "lchown": [at(nil, 0, write)], "fchownat": [at(0, 1, write)],
            "utime": [at(nil, 0, write)], "utimes": [at(nil, 0, write)],
            "utimensat": [at(0, 1, write)], "futimesat": [at(0, 1, write)],
            "setxattr": [at(nil, 0, write)], "lsetxattr": [at(nil, 0, write)],
            "removexattr": [at(nil, 0, write)], "lremovexattr": [at(nil, 0, write)],
        ]
    }()

    /// The accesses of one operand, given the call's register arguments and, for openat2,
    /// the `flags` of its `struct open_how` (nil when it could not be read: read assumed).
    public static func accesses(_ source: AccessSource, arguments: [UInt64], openHowFlags: UInt64? = nil) -> [FsAccess] {
        func arg(_ i: Int) -> UInt64 { i < arguments.count ? arguments[i] : 0 }
        switch source {
        case .fixed(let a): return [a]
        case .openFlags(let i): return openAccesses(flags: arg(i))
        case .openHow: return openHowFlags.map(openAccesses(flags:)) ?? [.read]
        case .accessMode(let i):
            let mode = arg(i) & 7
            var out: [FsAccess] = []
            if mode & 4 != 0 || mode == 0 { out.append(.read) }
            if mode & 2 != 0 { out.append(.write) }
            if mode & 1 != 0 { out.append(.exec) }
            return out
        }
    }

    /// `O_PATH` opens touch no content (none); otherwise the access mode, plus write for
    /// `O_CREAT` or `O_TRUNC` (the values are the same on x86_64 and aarch64).
    public static func openAccesses(flags: UInt64) -> [FsAccess] {
        let oPath: UInt64 = 0o10000000, oCreat: UInt64 = 0o100, oTrunc: UInt64 = 0o1000
        if flags & oPath != 0 { return [] }
        var out: [FsAccess] = []
        switch flags & 3 {
        case 0: out = [.read]
        case 1: out = [.write]
        default: out = [.read, .write]
        }
        if flags & (oCreat | oTrunc) != 0, !out.contains(.write) { out.append(.write) }
        return out
    }
}

extension EffectivePolicy {
    /// `policy` for observing mode: every path syscall the policy allows anywhere goes to the
    /// supervisor (one unconditional notify rule replaces its rules). The supervisor decides
    /// each such call with the normal filter (`baseline`), on registers, so every decision
    /// stays the filter's; it only adds the observation. Needs `notify` (denials notify too).
    public static func observingPaths(_ policy: SeccompPolicy) -> SeccompPolicy {
        guard policy.defaultDeny == .notify else { return policy }
        let allowed = Set(policy.rules.filter { $0.effect == .allow && PathSyscalls.operands[$0.syscall] != nil }.map(\.syscall))
        var out = policy
        out.rules.removeAll { allowed.contains($0.syscall) }
        for name in allowed.sorted() {
            out.rules.append(SyscallRule(syscall: name, effect: .deny, source: "built-in: observing mode (warden learn)"))
        }
        return out
    }
}
