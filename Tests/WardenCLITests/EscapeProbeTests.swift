import Foundation
import Testing

/// Real attacks from the threat list (docs/escape-probes.md), each run by the escape probe
/// (Tests/EscapeProbes/escape.c) under the real `warden run` and policies/default.warden.
/// Every attack must end `BLOCKED` with the expected errno or signal; where the seccomp
/// supervisor sees the denial, it must be in the run's audit log.
@Suite("Escape probes")
struct EscapeProbeTests {
    /// One syscall-level attack: the probe argument, the expected result, and the syscall
    /// whose denial the audit log must hold (nil when the kernel, not the supervisor, decides).
    struct SyscallAttack: CustomTestStringConvertible, Sendable {
        var attack: String
        var expected: String
        var audited: String?
        var testDescription: String { attack }
    }

    static let syscallAttacks: [SyscallAttack] = [
        .init(attack: "io_uring", expected: "BLOCKED errno=EPERM", audited: "io_uring_setup"),
        .init(attack: "x32", expected: "BLOCKED signal=SYS", audited: nil),
        .init(attack: "int80", expected: "BLOCKED signal=SYS", audited: nil),
        .init(attack: "socketcall", expected: "BLOCKED signal=SYS", audited: nil),
        .init(attack: "clone3", expected: "BLOCKED errno=ENOSYS pthread=ok", audited: nil),
        .init(attack: "clone-newuser", expected: "BLOCKED errno=EPERM", audited: "clone"),
        .init(attack: "tiocsti", expected: "BLOCKED errno=EPERM", audited: "ioctl"),
        .init(attack: "tiocsti-upper", expected: "BLOCKED errno=EPERM", audited: "ioctl"),
        .init(attack: "tioclinux", expected: "BLOCKED errno=EPERM", audited: "ioctl"),
        .init(attack: "ptrace-init", expected: "BLOCKED errno=EPERM", audited: "ptrace"),
        .init(attack: "ptrace-sibling", expected: "BLOCKED errno=EPERM", audited: "ptrace"),
        .init(attack: "process_vm_readv", expected: "BLOCKED errno=EPERM", audited: "process_vm_readv"),
        .init(attack: "pidfd_getfd", expected: "BLOCKED errno=EPERM", audited: "pidfd_getfd"),
        .init(attack: "unshare-user", expected: "BLOCKED errno=EPERM", audited: "unshare"),
        .init(attack: "setns", expected: "BLOCKED errno=EPERM", audited: "setns"),
        .init(attack: "mount", expected: "BLOCKED errno=EPERM", audited: "mount"),
        .init(attack: "umount-proc", expected: "BLOCKED errno=EPERM", audited: "umount2"),
        .init(attack: "pivot_root", expected: "BLOCKED errno=EPERM", audited: "pivot_root"),
        .init(attack: "chroot", expected: "BLOCKED errno=EPERM", audited: "chroot"),
        .init(attack: "bpf", expected: "BLOCKED errno=EPERM", audited: "bpf"),
        .init(attack: "perf_event_open", expected: "BLOCKED errno=EPERM", audited: "perf_event_open"),
        .init(attack: "userfaultfd", expected: "BLOCKED errno=EPERM", audited: "userfaultfd"),
        .init(attack: "keyctl", expected: "BLOCKED errno=EPERM", audited: "keyctl"),
        .init(attack: "add_key", expected: "BLOCKED errno=EPERM", audited: "add_key"),
        .init(attack: "kexec_load", expected: "BLOCKED errno=EPERM", audited: "kexec_load"),
        .init(attack: "init_module", expected: "BLOCKED errno=EPERM", audited: "init_module"),
        .init(attack: "finit_module", expected: "BLOCKED errno=EPERM", audited: "finit_module"),
        .init(attack: "open_by_handle_at", expected: "BLOCKED errno=EPERM", audited: "open_by_handle_at"),
        .init(attack: "name_to_handle_at", expected: "BLOCKED errno=EPERM", audited: "name_to_handle_at"),
        .init(attack: "raw-socket", expected: "BLOCKED errno=EPERM", audited: nil),
        .init(attack: "packet-socket", expected: "BLOCKED errno=EPERM", audited: nil),
        .init(attack: "netlink-route", expected: "BLOCKED errno=EPERM (netlink ack)", audited: nil),
        .init(attack: "bind80", expected: "BLOCKED errno=EACCES", audited: nil),
        .init(attack: "rlimit", expected: "BLOCKED errno=EPERM", audited: nil),
    ]

    @Test(arguments: syscallAttacks)
    func syscallAttackIsBlocked(_ a: SyscallAttack) throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let run = try s.attack(a.attack)
        #expect(run.verdict(a.attack) == a.expected, "\(a.attack): \(run.output)")
        if let name = a.audited {
            #expect(s.auditDenied(name), "\(a.attack): no deny.syscall record for \(name): \(s.deniedSyscalls())")
        }
    }
}
