import Testing
@testable import WardenKernel

@Suite struct SyscallGroupTests {
    @Test func everyMemberIsARealSyscallOrGroup() {
        for group in SyscallGroups.all {
            for member in group.members {
                if member.hasPrefix("@") {
                    #expect(SyscallGroups.named(member) != nil, "\(group.name): unknown group \(member)")
                } else {
                    #expect(SyscallTable.isKnown(member), "\(group.name): \(member) is no syscall on x86_64 or aarch64")
                }
            }
            #expect(!group.summary.isEmpty)
        }
    }

    @Test func groupNamesAreUnique() {
        let names = SyscallGroups.all.map(\.name)
        #expect(Set(names).count == names.count)
    }

    @Test func defaultExcludesDangerousSyscalls() throws {
        let members = Set(try #require(SyscallGroups.expand("@default")))
        let forbidden = [
            "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "bpf", "perf_event_open",
            "userfaultfd", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
            "init_module", "finit_module", "delete_module", "mount", "umount2", "pivot_root", "fsopen",
            "fsmount", "move_mount", "open_tree", "unshare", "setns", "io_uring_setup", "io_uring_enter",
            "io_uring_register", "open_by_handle_at", "name_to_handle_at", "clone3", "reboot", "swapon",
            "swapoff", "acct", "settimeofday", "clock_settime", "iopl", "ioperm", "kcmp", "chroot",
            "setgroups", "capset", "modify_ldt", "personality", "syslog", "fanotify_init",
        ]
        for name in forbidden {
            #expect(!members.contains(name), "@default must not contain \(name)")
        }
    }

    @Test func defaultCoversOrdinaryPrograms() throws {
        let members = Set(try #require(SyscallGroups.expand("default")))
        for name in ["read", "write", "openat", "execve", "clone", "mmap", "futex", "rseq", "rt_sigaction",
                     "socket", "connect", "exit_group", "wait4", "ioctl", "getrandom", "prlimit64", "newfstatat",
                     "statx", "pipe2", "epoll_wait", "set_robust_list", "clock_nanosleep"] {
            #expect(members.contains(name), "@default lacks \(name)")
        }
    }

    /// GNU make calls setresuid(-1, 0, -1) before each child: the ID-switch calls are in
    /// @default (they gain nothing without CAP_SETUID/CAP_SETGID), setgroups is not.
    @Test func defaultHoldsTheIDSwitchCallsButNotSetgroups() throws {
        let members = Set(try #require(SyscallGroups.expand("@default")))
        for name in ["setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid"] {
            #expect(members.contains(name), "@default lacks \(name)")
        }
        #expect(!members.contains("setgroups"))
        #expect(Set(try #require(SyscallGroups.expand("@setuid"))) == Set(try #require(SyscallGroups.expand("@id-switch"))).union(["setgroups"]))
    }

    @Test func dangerousGroupsExpandThroughPrivileged() throws {
        let privileged = Set(try #require(SyscallGroups.expand("@privileged")))
        #expect(privileged.isSuperset(of: ["mount", "init_module", "reboot", "bpf", "open_by_handle_at", "setuid"]))
        #expect(SyscallGroups.expand("@no-such-group") == nil)
        #expect(SyscallGroups.expand("@debug")?.contains("ptrace") == true)
    }
}
