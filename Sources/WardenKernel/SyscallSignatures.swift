/// One argument of a syscall, as far as a seccomp filter can see it.
public struct SyscallArgument: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// An integer (including flags and file descriptors): seccomp can compare it.
        case integer
        /// A pointer: seccomp sees only the address, so conditions on it are rejected.
        case pointer
    }
    public let name: String
    public let kind: Kind
    /// True when the kernel acts only on the low 32 bits (an `int`/`unsigned int`, or a
    /// `long` it truncates or rejects above 32 bits), so the filter must compare 32-bit
    /// values and ignore the upper half, which a caller may fill with garbage.
    public let is32Bit: Bool

    public init(name: String, kind: Kind, is32Bit: Bool) {
        self.name = name
        self.kind = kind
        self.is32Bit = is32Bit
    }
}

/// Argument signatures of the syscalls on which policies may put conditions.
///
/// Argument order is the same on x86_64 and aarch64 except for `clone`: x86_64 passes
/// `(flags, newsp, parent_tid, child_tid, tls)`, aarch64 (CONFIG_CLONE_BACKWARDS)
/// `(flags, newsp, parent_tid, tls, child_tid)`. `flags` is argument 0 on both, and the two
/// that differ are pointers, so conditions (which must be on integers) mean the same on both.
public enum SyscallSignatures {
    /// The arguments of `syscall` as on x86_64, or nil when Warden has no signature for it
    /// (then argument conditions on it are rejected).
    public static func arguments(of syscall: String) -> [SyscallArgument]? {
        SyscallSignatureData.table[syscall]
    }

    /// The arguments of `syscall` on `arch` (differs from x86_64 only for `clone`).
    public static func arguments(of syscall: String, arch: Architecture) -> [SyscallArgument]? {
        if arch == .aarch64, syscall == "clone" { return SyscallSignatureData.cloneAarch64 }
        return SyscallSignatureData.table[syscall]
    }

    /// The index of argument `name` of `syscall`, or nil.
    public static func index(of name: String, in syscall: String) -> Int? {
        arguments(of: syscall)?.firstIndex { $0.name == name }
    }

    /// Every syscall with a signature, sorted.
    public static var allSyscalls: [String] { SyscallSignatureData.table.keys.sorted() }
}

/// Signature data. `i32` = the kernel uses only the low 32 bits; `i64` = all 64 bits matter;
/// `ptr` = an address. Chosen from the kernel's SYSCALL_DEFINE parameter types and what the
/// implementation does with the upper half.
enum SyscallSignatureData {
    static func i32(_ n: String) -> SyscallArgument { .init(name: n, kind: .integer, is32Bit: true) }
    static func i64(_ n: String) -> SyscallArgument { .init(name: n, kind: .integer, is32Bit: false) }
    static func ptr(_ n: String) -> SyscallArgument { .init(name: n, kind: .pointer, is32Bit: false) }

    static let cloneAarch64: [SyscallArgument] = [i32("flags"), ptr("newsp"), ptr("parent_tid"), ptr("tls"), ptr("child_tid")]

    static let table: [String: [SyscallArgument]] = [
        // Sockets: every int argument is 32-bit.
        "socket": [i32("domain"), i32("type"), i32("protocol")],
        "socketpair": [i32("domain"), i32("type"), i32("protocol"), ptr("sv")],
        "setsockopt": [i32("fd"), i32("level"), i32("optname"), ptr("optval"), i32("optlen")],
        "getsockopt": [i32("fd"), i32("level"), i32("optname"), ptr("optval"), ptr("optlen")],
        "connect": [i32("fd"), ptr("addr"), i32("addrlen")],
        "bind": [i32("fd"), ptr("addr"), i32("addrlen")],
        "listen": [i32("fd"), i32("backlog")],
        "accept4": [i32("fd"), ptr("addr"), ptr("addrlen"), i32("flags")],
        "sendto": [i32("fd"), ptr("buf"), i64("len"), i32("flags"), ptr("addr"), i32("addrlen")],
        "recvfrom": [i32("fd"), ptr("buf"), i64("len"), i32("flags"), ptr("addr"), ptr("addrlen")],
        "sendmsg": [i32("fd"), ptr("msg"), i32("flags")],
        "recvmsg": [i32("fd"), ptr("msg"), i32("flags")],
        "shutdown": [i32("fd"), i32("how")],
        // Processes. clone uses lower_32_bits(flags); unshare rejects unknown (upper) bits.
        "clone": [i32("flags"), ptr("newsp"), ptr("parent_tid"), ptr("child_tid"), ptr("tls")],
        "unshare": [i32("flags")],
        "setns": [i32("fd"), i32("nstype")],
        "execveat": [i32("dirfd"), ptr("pathname"), ptr("argv"), ptr("envp"), i32("flags")],
        "prctl": [i32("option"), i64("arg2"), i64("arg3"), i64("arg4"), i64("arg5")],
        "personality": [i32("persona")],
        "kill": [i32("pid"), i32("sig")],
        "tkill": [i32("tid"), i32("sig")],
        "tgkill": [i32("tgid"), i32("tid"), i32("sig")],
        "pidfd_open": [i32("pid"), i32("flags")],
        "pidfd_send_signal": [i32("pidfd"), i32("sig"), ptr("info"), i32("flags")],
        "ptrace": [i64("request"), i32("pid"), ptr("addr"), ptr("data")],
        "setuid": [i32("uid")], "setgid": [i32("gid")],
        "prlimit64": [i32("pid"), i32("resource"), ptr("new_limit"), ptr("old_limit")],
        "setrlimit": [i32("resource"), ptr("rlim")],
        "seccomp": [i32("operation"), i32("flags"), ptr("args")],
        "bpf": [i32("cmd"), ptr("attr"), i32("size")],
        "perf_event_open": [ptr("attr"), i32("pid"), i32("cpu"), i32("group_fd"), i64("flags")],
        "getrandom": [ptr("buf"), i64("count"), i32("flags")],
        // Memory. mmap's prot/flags are unsigned long, but the kernel tests only known low bits.
        "mmap": [ptr("addr"), i64("length"), i32("prot"), i32("flags"), i32("fd"), i64("offset")],
        "mprotect": [ptr("addr"), i64("len"), i32("prot")],
        "pkey_mprotect": [ptr("addr"), i64("len"), i32("prot"), i32("pkey")],
        "madvise": [ptr("addr"), i64("length"), i32("advice")],
        "mremap": [ptr("old_address"), i64("old_size"), i64("new_size"), i32("flags"), ptr("new_address")],
        "memfd_create": [ptr("name"), i32("flags")],
        "mlockall": [i32("flags")],
        // Files.
        "open": [ptr("pathname"), i32("flags"), i32("mode")],
        "openat": [i32("dirfd"), ptr("pathname"), i32("flags"), i32("mode")],
        "creat": [ptr("pathname"), i32("mode")],
        // fcntl's arg is unsigned long, but every integer command truncates it to int.
        "fcntl": [i32("fd"), i32("cmd"), i32("arg")],
        // ioctl's arg depends on the request (mostly a pointer); compared as 64 bits.
        "ioctl": [i32("fd"), i32("request"), i64("arg")],
        "close": [i32("fd")],
        "dup2": [i32("oldfd"), i32("newfd")],
        "dup3": [i32("oldfd"), i32("newfd"), i32("flags")],
        "pipe2": [ptr("pipefd"), i32("flags")],
        "fchmod": [i32("fd"), i32("mode")],
        "chmod": [ptr("pathname"), i32("mode")],
        "fchmodat": [i32("dirfd"), ptr("pathname"), i32("mode")],
        "mknod": [ptr("pathname"), i32("mode"), i32("dev")],
        "mknodat": [i32("dirfd"), ptr("pathname"), i32("mode"), i32("dev")],
        "linkat": [i32("olddirfd"), ptr("oldpath"), i32("newdirfd"), ptr("newpath"), i32("flags")],
        "renameat2": [i32("olddirfd"), ptr("oldpath"), i32("newdirfd"), ptr("newpath"), i32("flags")],
        "unlinkat": [i32("dirfd"), ptr("pathname"), i32("flags")],
        "umask": [i32("mask")],
        "flock": [i32("fd"), i32("operation")],
        "inotify_init1": [i32("flags")],
        "eventfd2": [i32("initval"), i32("flags")],
        "epoll_create1": [i32("flags")],
        "faccessat2": [i32("dirfd"), ptr("pathname"), i32("mode"), i32("flags")],
    ]
}
