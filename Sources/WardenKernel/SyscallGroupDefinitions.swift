/// The group definitions (data only), modelled on systemd's `SystemCallFilter=` sets.
///
/// Members are syscall names as libseccomp spells them, or other groups (`@name`). A member
/// that does not exist on an architecture (`open` on aarch64) is skipped there by the compiler.
/// `clone3` is deliberately in no group: the seccomp compiler always answers it with ENOSYS
/// (its flags live in a struct the filter cannot read), so libc falls back to `clone`.
enum SyscallGroupDefinitions {
    static let groups: [SyscallGroup] = safe + dangerous

    /// Groups that ordinary programs need; all are part of `@default`.
    static let safe: [SyscallGroup] = [
        SyscallGroup(name: "default", summary: "What ordinary programs (sh, git, python3, cc, a Swift build) need; no privileged, debugging or namespace calls", members: [
            "@basic-io", "@file-system", "@io-event", "@ipc", "@network-io", "@process", "@signal",
            "@timer", "@memory", "@sync", "@system-info", "@credentials-read", "@chown", "@scheduler",
            "@resources", "@aio", "@threads", "@sandbox", "@id-switch",
            "ioctl", "getrandom", "restart_syscall", "arch_prctl",
        ]),
        SyscallGroup(name: "basic-io", summary: "Read, write, seek and close already open file descriptors", members: [
            "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
            "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3",
        ]),
        SyscallGroup(name: "file-system", summary: "Open, stat, create, rename, link and remove files and directories; extended attributes; inotify", members: [
            "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat",
            "fchmodat2", "creat", "open", "openat", "openat2", "stat", "lstat", "fstat", "newfstatat", "statx",
            "statfs", "fstatfs", "fcntl", "flock", "fallocate", "fadvise64", "readahead", "ftruncate",
            "truncate", "getdents", "getdents64", "mkdir", "mkdirat", "mknod", "mknodat", "link", "linkat",
            "symlink", "symlinkat", "readlink", "readlinkat", "rename", "renameat", "renameat2", "rmdir",
            "unlink", "unlinkat", "umask", "utime", "utimes", "utimensat", "futimesat", "getxattr",
            "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr",
            "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
            "inotify_add_watch", "inotify_rm_watch", "sendfile", "splice", "tee", "vmsplice",
            "copy_file_range", "cachestat",
        ]),
        SyscallGroup(name: "chown", summary: "Change file ownership (the kernel still requires CAP_CHOWN for other owners)", members: [
            "chown", "fchown", "fchownat", "lchown",
        ]),
        SyscallGroup(name: "io-event", summary: "Wait for events on file descriptors: poll, select, epoll, eventfd", members: [
            "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
            "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
        ]),
        SyscallGroup(name: "ipc", summary: "Pipes, memfd, System V and POSIX message queues, semaphores, shared memory", members: [
            "pipe", "pipe2", "memfd_create", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget",
            "semop", "semtimedop", "shmat", "shmctl", "shmdt", "shmget", "mq_open", "mq_unlink",
            "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
        ]),
        SyscallGroup(name: "network-io", summary: "Sockets (connect, bind and send are mediated by network rules, not here)", members: [
            "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "getsockname",
            "getpeername", "getsockopt", "setsockopt", "sendto", "sendmsg", "sendmmsg", "recvfrom",
            "recvmsg", "recvmmsg", "shutdown",
        ]),
        SyscallGroup(name: "process", summary: "Create, execute, wait for and identify processes; prctl (clone3 is answered ENOSYS)", members: [
            "clone", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
            "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "prctl",
            "pidfd_open", "times", "getrusage",
        ]),
        SyscallGroup(name: "signal", summary: "Handle, block, wait for and send signals", members: [
            "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigreturn", "rt_sigsuspend",
            "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
            "signalfd4", "kill", "tkill", "tgkill", "pidfd_send_signal", "pause",
        ]),
        SyscallGroup(name: "timer", summary: "Read clocks, sleep, and arm timers", members: [
            "clock_gettime", "clock_getres", "clock_nanosleep", "gettimeofday", "time", "nanosleep",
            "alarm", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
            "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime", "timerfd_settime",
        ]),
        SyscallGroup(name: "memory", summary: "Map, protect, lock and advise the process's own memory", members: [
            "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock",
            "mlock2", "munlock", "mlockall", "munlockall", "membarrier", "pkey_alloc", "pkey_free",
            "pkey_mprotect", "map_shadow_stack", "get_mempolicy", "set_mempolicy", "mbind",
            "set_mempolicy_home_node", "remap_file_pages", "memfd_secret",
        ]),
        SyscallGroup(name: "sync", summary: "Flush file data to storage", members: [
            "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
        ]),
        SyscallGroup(name: "system-info", summary: "Read system identity and load: uname, sysinfo, getcpu", members: [
            "uname", "sysinfo", "getcpu",
        ]),
        SyscallGroup(name: "credentials-read", summary: "Read user, group and capability credentials", members: [
            "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "capget",
        ]),
        SyscallGroup(name: "scheduler", summary: "Read and lower scheduling priority and CPU affinity", members: [
            "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
            "sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr",
            "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "getpriority",
            "setpriority", "ioprio_get", "ioprio_set",
        ]),
        SyscallGroup(name: "resources", summary: "Read and lower resource limits", members: [
            "getrlimit", "setrlimit", "prlimit64",
        ]),
        SyscallGroup(name: "aio", summary: "Legacy Linux asynchronous I/O (io_submit); not io_uring", members: [
            "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
        ]),
        SyscallGroup(name: "threads", summary: "Threads: futexes, robust lists, restartable sequences, TID address", members: [
            "futex", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue", "get_robust_list",
            "set_robust_list", "rseq", "set_tid_address",
        ]),
        // GNU make's child spawn calls setresuid(-1, 0, -1); denying it breaks `make`. Without
        // CAP_SETUID/CAP_SETGID (and with no_new_privs) the kernel lets these calls only
        // switch among the IDs the process already holds, so they gain nothing. An identity
        // granted either capability loses them again (see BuiltinSafeguards.applyIDSwitch).
        // setgroups stays out: it needs CAP_SETGID and the agent's user namespace denies it.
        SyscallGroup(name: "id-switch", summary: "Switch among the user and group IDs the process already holds (make calls setresuid(-1, 0, -1)); without CAP_SETUID/CAP_SETGID the kernel refuses any other ID", members: [
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
        ]),
        SyscallGroup(name: "sandbox", summary: "Restrict oneself further: Landlock and more seccomp filters", members: [
            "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "seccomp",
        ]),
    ]

    /// Groups that are not part of `@default` (`@setuid` only through `@id-switch`, whose
    /// calls gain nothing without CAP_SETUID/CAP_SETGID).
    static let dangerous: [SyscallGroup] = [
        // Naming this group allows the switch calls even with CAP_SETUID/CAP_SETGID, and setgroups.
        SyscallGroup(name: "setuid", summary: "Change user and group IDs to any value (needs CAP_SETUID/CAP_SETGID), and setgroups", members: [
            "@id-switch", "setgroups",
        ]),
        SyscallGroup(name: "mount", summary: "Mount, unmount, pivot and chroot: change the filesystem view", members: [
            "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
            "move_mount", "open_tree", "mount_setattr",
        ]),
        SyscallGroup(name: "module", summary: "Load and unload kernel modules", members: [
            "init_module", "finit_module", "delete_module",
        ]),
        SyscallGroup(name: "raw-io", summary: "Direct hardware port I/O", members: ["ioperm", "iopl"]),
        SyscallGroup(name: "reboot", summary: "Reboot or load a new kernel", members: [
            "reboot", "kexec_load", "kexec_file_load",
        ]),
        SyscallGroup(name: "swap", summary: "Enable and disable swap", members: ["swapon", "swapoff"]),
        SyscallGroup(name: "clock", summary: "Set the system clock", members: [
            "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
        ]),
        SyscallGroup(name: "debug", summary: "Inspect or control other processes: ptrace, process_vm_*, pidfd_getfd, perf, kcmp", members: [
            "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "perf_event_open",
            "kcmp", "process_madvise", "process_mrelease", "lookup_dcookie",
        ]),
        SyscallGroup(name: "keyring", summary: "The kernel key retention service", members: [
            "add_key", "keyctl", "request_key",
        ]),
        SyscallGroup(name: "io-uring", summary: "io_uring, whose operations bypass seccomp filtering", members: [
            "io_uring_setup", "io_uring_enter", "io_uring_register",
        ]),
        SyscallGroup(name: "bpf", summary: "Load eBPF programs and maps", members: ["bpf"]),
        SyscallGroup(name: "namespaces", summary: "Enter or create namespaces (clone with CLONE_NEW* flags is a condition matter)", members: [
            "unshare", "setns",
        ]),
        SyscallGroup(name: "file-handles", summary: "Open files by handle, bypassing path-based checks", members: [
            "name_to_handle_at", "open_by_handle_at",
        ]),
        SyscallGroup(name: "cpu-emulation", summary: "Legacy x86 segment and TLS descriptors, and execution domains (personality)", members: [
            "modify_ldt", "get_thread_area", "set_thread_area", "personality",
        ]),
        SyscallGroup(name: "numa-other", summary: "Move other processes' pages between NUMA nodes", members: [
            "migrate_pages", "move_pages",
        ]),
        SyscallGroup(name: "obsolete", summary: "Obsolete or unimplemented syscalls", members: [
            "_sysctl", "afs_syscall", "create_module", "epoll_ctl_old", "epoll_wait_old",
            "get_kernel_syms", "getpmsg", "putpmsg", "query_module", "security", "sysfs", "tuxcall",
            "uselib", "ustat", "vserver", "nfsservctl", "vhangup",
        ]),
        SyscallGroup(name: "privileged", summary: "Everything that needs capabilities or changes the whole system", members: [
            "@setuid", "@mount", "@module", "@raw-io", "@reboot", "@swap", "@clock", "@bpf",
            "@file-handles", "acct", "capset", "quotactl", "quotactl_fd", "sethostname",
            "setdomainname", "syslog", "fanotify_init", "fanotify_mark", "userfaultfd",
        ]),
    ]
}
