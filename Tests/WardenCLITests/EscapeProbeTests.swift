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
        .init(attack: "dns", expected: "BLOCKED errno=ENETUNREACH", audited: nil),
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

// MARK: - Files: secrets, git hooks, rc files, link and rename tricks

extension EscapeProbeTests {
    /// (attack, argument, expected result). The agent's world holds only its grants: the
    /// scratch root's other directories (home, outside, audit) and the loose file beside it
    /// do not exist there (ENOENT); protected paths inside the workspace are read-only
    /// mounts (EROFS) pinned in place (EBUSY); its /tmp is its own, another mount (EXDEV).
    static func fileAttacks(_ s: Scratch) -> [(String, String, String)] {
        [
            ("read", s.home + "/.ssh/id_ed25519", "BLOCKED errno=ENOENT"),
            ("read", s.looseFile, "BLOCKED errno=ENOENT"),
            ("write", s.looseFile, "BLOCKED errno=ENOENT"),
            ("write", ".git/hooks/pre-commit", "BLOCKED errno=EROFS"),
            ("write", ".git/config", "BLOCKED errno=EROFS"),
            ("append", ".git/config", "BLOCKED errno=EROFS"),
            ("git-rename", "", "BLOCKED errno=EBUSY (rename .git)"),
            ("git-hooks-rename", "", "BLOCKED errno=EBUSY (rename .git/hooks)"),
            ("git-config-replace", "", "BLOCKED errno=EBUSY (unlink/rename .git/config)"),
            ("symlink", s.home + "/.ssh/id_ed25519", "BLOCKED errno=ENOENT"),
            ("symlink", s.looseFile, "BLOCKED errno=ENOENT"),
            ("hardlink", s.looseFile, "BLOCKED errno=ENOENT"),
            ("rename-out", s.outside, "BLOCKED errno=ENOENT"),
            ("rename-out", (s.root as NSString).deletingLastPathComponent, "BLOCKED errno=EXDEV"),
            ("rename-in", s.looseFile, "BLOCKED errno=ENOENT"),
            ("read", "/proc/self/root" + s.looseFile, "BLOCKED errno=ENOENT"),
            // The sandbox's init is not dumpable: its /proc entries are closed to the agent.
            ("read", "/proc/1/root" + s.looseFile, "BLOCKED errno=EACCES"),
            ("read", "/proc/1/root" + s.outside + "/sentinel", "BLOCKED errno=EACCES"),
            ("append", s.auditLog, "BLOCKED errno=ENOENT"),
            ("write", s.policy, "BLOCKED errno=ENOENT"),
            ("read", "/etc/shadow", "BLOCKED empty"),
        ]
    }

    @Test func fileAttacksAreBlocked() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let counting = try Scratch()
        let count = Self.fileAttacks(counting).count
        counting.remove()
        for i in 0..<count {
            // A fresh git workspace per attack: one attack's leftovers cannot help the next.
            let s = try Scratch(git: true)
            defer { s.remove() }
            let (attack, arg, expected) = Self.fileAttacks(s)[i]
            let run = try s.attack(attack, arg.isEmpty ? [] : [arg])
            #expect(run.verdict(attack) == expected, "\(attack) \(arg): \(run.output)")
        }
        // The host side really is untouched.
        let s = try Scratch(git: true)
        defer { s.remove() }
        _ = try s.attack("git-rename")
        #expect(FileManager.default.fileExists(atPath: s.workspace + "/.git/HEAD"))
        #expect(!FileManager.default.fileExists(atPath: s.workspace + "/.git/hooks/pre-commit"))
        #expect((try? String(contentsOfFile: s.looseFile, encoding: .utf8)) == "loose\n")
        // ${home} is the run's fresh, writable home: writing ~/.bashrc there succeeds inside
        // and reaches nothing on the host (the operator's file is unchanged).
        let rc = try s.attack("write", [s.home + "/.bashrc"])
        #expect(rc.verdict("write")?.hasPrefix("ESCAPED wrote") == true, "\(rc.output)")
        #expect((try? String(contentsOfFile: s.home + "/.bashrc", encoding: .utf8)) == "# rc\n")
    }

    @Test func maskedSecretInsideAReadableHome() throws {
        // A policy that grants the home directory: the deny on ~/.ssh becomes a mask.
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let text = try Escape.defaultPolicy(replacing: "  allow fs read, write, exec \"${workspace}\"",
                                            with: "  allow fs read, write, exec \"${workspace}\"\n  allow fs read, write \"${home}\"")
        let s = try Scratch(policyText: text)
        defer { s.remove() }
        var run = try s.attack("read", [s.home + "/.ssh/id_ed25519"])
        #expect(run.verdict("read") == "BLOCKED errno=ENOENT", "\(run.output)")
        // Moving the masked directory away does not unmask it: it is a mount point.
        run = try s.run(["/bin/sh", "-c", "mv \(s.home)/.ssh \(s.home)/moved; echo mv=$?; cat \(s.home)/moved/id_ed25519 \(s.home)/.ssh/id_ed25519"])
        #expect(!run.output.contains("OPENSSH"), "\(run.output)")
        #expect(run.output.contains("mv=1"), "\(run.output)")
    }

    @Test func protectedPathMissingAtLaunchHolds() throws {
        // A write deny on a path that does not exist at launch holds for the whole run: the
        // run creates an empty placeholder, mounts the deny on it, and removes it afterwards.
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch(git: true)
        defer { s.remove() }
        try FileManager.default.removeItem(atPath: s.workspace + "/.git/hooks")
        let run = try s.run(["/bin/sh", "-c", "mkdir -p .git/hooks; echo x > .git/hooks/pre-commit; echo rc=$?; mv .git/hooks .git/h2; echo mv=$?"], wardenArgs: [])
        #expect(run.output.contains("rc=2") && run.output.contains("mv=1"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: s.workspace + "/.git/hooks"), "placeholder left behind")
        #expect(!FileManager.default.fileExists(atPath: s.workspace + "/.git/h2"))
    }
}

// MARK: - Processes and signals

extension EscapeProbeTests {
    @Test func killMinusOneAndSignalsDoNotLeaveTheSandbox() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let sentinel = Process()
        sentinel.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sentinel.arguments = ["120"]
        try sentinel.run()
        defer { kill(sentinel.processIdentifier, SIGKILL); sentinel.waitUntilExit() }
        var run = try s.attack("kill-all")
        #expect(run.verdict("kill-all")?.hasPrefix("BLOCKED") == true, "\(run.output)")
        #expect(sentinel.isRunning, "kill(-1, SIGKILL) reached a process outside the sandbox")
        // The host PID of a process outside (our sentinel) means nothing inside.
        run = try s.attack("signal-outside", [String(sentinel.processIdentifier)])
        #expect(run.verdict("signal-outside") == "BLOCKED errno=ESRCH", "\(run.output)")
        #expect(sentinel.isRunning)
    }

    @Test func forkBombIsBoundedByLimitProcesses() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let text = try Escape.defaultPolicy(replacing: "limit processes 256", with: "limit processes 24")
        let s = try Scratch(policyText: text)
        defer { s.remove() }
        // The probe stops at 300 children, so a missing limit cannot take the machine down.
        let run = try s.attack("fork-bomb", ["300"])
        let v = run.verdict("fork-bomb") ?? ""
        if Escape.processLimitIsIneffective {
            // KNOWN GAP (SECURITY.md): as root without a usable cgroup v2 pids controller, the
            // limit falls back to RLIMIT_NPROC, which the kernel does not apply to uid 0.
            #expect(v.hasPrefix("ESCAPED") || v.hasPrefix("BLOCKED errno=EAGAIN"), "\(run.output)")
            if v.hasPrefix("ESCAPED") { print("KNOWN GAP: limit processes is not enforced for root without cgroup v2 pids: \(v)") }
            return
        }
        #expect(v.hasPrefix("BLOCKED errno=EAGAIN after="), "\(run.output)")
        let made = Int(v.split(separator: "=").last ?? "") ?? .max
        #expect(made < 24, "\(run.output)")
    }
}

// MARK: - Network and unix sockets

extension EscapeProbeTests {
    /// A listening unix socket at `path` (or abstract `@name`), made on the host.
    static func unixListener(_ name: String, abstract: Bool = false) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let start = abstract ? 1 : 0
            for (i, b) in bytes.prefix(raw.count - 1 - start).enumerated() { raw[start + i] = b }
        }
        let len = abstract ? socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count) : socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard rc == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return fd
    }

    /// A TCP listener on 127.0.0.1; returns (fd, port).
    static func tcpListener() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { close(fd); throw POSIXError(.EIO) }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    @Test func hostListenersAreUnreachable() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let tag = "warden-esc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        fds.append(try Self.unixListener(tag, abstract: true))
        let (tcp, port) = try Self.tcpListener()
        fds.append(tcp)
        var run = try s.attack("unix-abstract", [tag])
        #expect(run.verdict("unix-abstract") == "BLOCKED errno=ECONNREFUSED", "\(run.output)")
        run = try s.attack("tcp-host", [String(port)])
        #expect(run.verdict("tcp-host") == "BLOCKED errno=ECONNREFUSED", "\(run.output)")
        run = try s.attack("tcp6-mapped", [String(port)])
        #expect(run.verdict("tcp6-mapped") == "BLOCKED errno=ECONNREFUSED", "\(run.output)")

        // Path sockets: in the host's /tmp, in a per-user socket directory (tmux-*), and in an
        // ungranted top-level directory (/run) do not exist in the agent's world.
        let tmuxDir = "/tmp/tmux-esc-\(tag)"
        try FileManager.default.createDirectory(atPath: tmuxDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmuxDir) }
        var paths = ["/tmp/\(tag).sock": "BLOCKED errno=ENOENT", tmuxDir + "/default": "BLOCKED errno=ENOENT"]
        if access("/run", W_OK) == 0 { paths["/run/\(tag).sock"] = "BLOCKED errno=ENOENT" }
        for (path, expected) in paths {
            let fd = try Self.unixListener(path)
            defer { close(fd); unlink(path) }
            run = try s.attack("unix-path", [path])
            #expect(run.verdict("unix-path") == expected, "\(path): \(run.output)")
        }
        // A socket in a directory beside the workspace, whatever the size of the parent.
        let nearby = s.outside + "/agent.sock"
        let fd = try Self.unixListener(nearby)
        defer { close(fd); unlink(nearby) }
        run = try s.attack("unix-path", [nearby])
        #expect(run.verdict("unix-path") == "BLOCKED errno=ENOENT", "\(run.output)")
    }
}

// MARK: - Privilege: setuid, capabilities

extension EscapeProbeTests {
    @Test func setuidBinaryGainsNothing() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        guard geteuid() == 0 else { print("skip: needs root to make a setuid binary"); return }
        let s = try Scratch()
        defer { s.remove() }
        let suid = s.workspace + "/suid-escape"
        try FileManager.default.copyItem(atPath: s.probe, toPath: suid)
        // Owned by another user, so a granted setuid bit would visibly change the euid.
        #expect(chown(suid, 4242, 4242) == 0)
        #expect(chmod(suid, 0o4755) == 0)
        let run = try s.attack("setuid", [suid])
        #expect(run.verdict("setuid") == "BLOCKED euid=0 CapEff=0000000000000000", "\(run.output)")
    }

    @Test func capabilitiesAreGone() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        guard geteuid() == 0 else { print("skip: needs root to make a file of another user"); return }
        let s = try Scratch()
        defer { s.remove() }
        // A 0600 file of another user in the workspace: chmod needs CAP_FOWNER, reading it
        // CAP_DAC_OVERRIDE, binding port 80 CAP_NET_BIND_SERVICE (checked in syscallAttacks).
        let file = s.workspace + "/others"
        try "secret".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(chown(file, 4242, 4242) == 0 && chmod(file, 0o600) == 0)
        var run = try s.attack("chmod", [file])
        #expect(run.verdict("chmod") == "BLOCKED errno=EPERM", "\(run.output)")
        run = try s.attack("dac", [file])
        #expect(run.verdict("dac") == "BLOCKED errno=EACCES", "\(run.output)")
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }
}

// MARK: - Exec tricks, leaked descriptors, the audit log

extension EscapeProbeTests {
    /// Exec means exec: code from a writable place cannot run through a memfd (vm.memfd_noexec
    /// is 2 in the agent's PID namespace: no memfd is executable, MFD_EXEC is refused),
    /// through execveat on a descriptor, or through the loader mapping a file from a path
    /// without exec (every writable grant without exec is mounted noexec).
    @Test func execFromWritablePlacesIsBlocked() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        guard geteuid() == 0 else { print("skip: vm.memfd_noexec is set only by a run as root"); return }
        let s = try Scratch()
        defer { s.remove() }
        var run = try s.attack("memfd-exec")
        #expect(run.verdict("memfd-exec") == "BLOCKED errno=EACCES", "\(run.output)")
        #expect(run.verdict("bpf") == nil, "the memfd copy ran: \(run.output)")
        run = try s.attack("memfd-exec-flag")
        #expect(run.verdict("memfd-exec-flag")?.hasPrefix("BLOCKED errno=") == true, "\(run.output)")
        run = try s.attack("exec-fd")
        #expect(run.verdict("exec-fd") == "BLOCKED errno=EACCES (execveat)", "\(run.output)")
        #expect(run.verdict("whoami") == nil, "\(run.output)")
        if FileManager.default.fileExists(atPath: "/lib64/ld-linux-x86-64.so.2") {
            run = try s.attack("ldso")
            #expect(run.verdict("ldso")?.hasPrefix("BLOCKED") == true, "\(run.output)")
            #expect(run.verdict("bpf") == nil, "the loader ran the copy: \(run.output)")
        }
    }

    @Test func ldsoTrickOnANoexecPathIsBlocked() throws {
        // `deny fs exec` inside an executable workspace becomes a noexec mount, which also
        // stops the loader from mapping the file.
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        guard FileManager.default.fileExists(atPath: "/lib64/ld-linux-x86-64.so.2") else { print("skip: no x86-64 loader"); return }
        let text = try Escape.defaultPolicy(replacing: "  allow fs read, write, exec \"${workspace}\"",
                                            with: "  allow fs read, write, exec \"${workspace}\"\n  deny fs exec \"${workspace}/nox\"")
        let s = try Scratch(policyText: text)
        defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.workspace + "/nox", withIntermediateDirectories: true)
        let run = try s.attack("ldso", [s.workspace + "/nox/copy"])
        #expect(run.verdict("ldso") == "BLOCKED loader-exit=127", "\(run.output)")
        #expect(run.verdict("bpf") == nil, "\(run.output)")
    }

    @Test func leakedDescriptorsAreClosed() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        // warden itself gets fds 5 and 7 (not close-on-exec) from its parent shell.
        let run = try s.attack("fds", shellPrefix: "exec 5</etc/hostname 7>>\(s.outside)/leak")
        #expect(run.verdict("fds") == "BLOCKED only-0-2", "\(run.output)")
    }

    @Test func auditLogInsideTheWorkspaceIsRefused() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let run = try s.run(["/bin/true"], wardenArgs: ["--audit-log", s.workspace + "/audit.jsonl"])
        #expect(run.status == 125, "\(run.output)")
        #expect(run.output.contains("audit log"), "\(run.output)")
    }
}

// MARK: - Allowed work under the default policy

extension EscapeProbeTests {
    @Test(arguments: ["threads", "children", "toolchain"])
    func allowedWorkSucceeds(_ what: String) throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let run = try s.attack(what)
        #expect(run.verdict(what)?.hasPrefix("OK") == true, "\(run.output)")
        #expect(run.status == 0)
    }

    /// On a real terminal (the agent's standard input is a pty, as under an operator's
    /// shell): TIOCSTI, TIOCSTI with garbage in the upper half of the request and TIOCLINUX
    /// are refused and audited; ordinary ioctls on the same terminal, TIOCSTI's and
    /// TIOCLINUX's neighbours among them, work and leave no denial.
    @Test func terminalIoctlsOnARealTerminal() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { print("skip: no script(1) for a pty"); return }
        for attack in ["tiocsti", "tiocsti-upper", "tioclinux"] {
            let s = try Scratch()
            defer { s.remove() }
            let run = try s.attack(attack, terminal: true)
            #expect(run.verdict(attack) == "BLOCKED errno=EPERM", "\(attack): \(run.output)")
            #expect(s.auditDenied("ioctl"), "\(attack): no deny.syscall record for ioctl: \(s.deniedSyscalls())")
        }
        let s = try Scratch()
        defer { s.remove() }
        let run = try s.attack("tty-ioctls", terminal: true)
        #expect(run.verdict("tty-ioctls") == "OK FIONREAD TCGETS TIOCOUTQ TIOCGWINSZ FIONREAD-upper on standard input", "\(run.output)")
        #expect(run.status == 0)
        #expect(!s.auditDenied("ioctl"), "\(s.deniedSyscalls())")
    }

    @Test func realToolsWork() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        var script = """
        set -e
        printf 'int main(void){return 42;}' > m.c
        cc -o m m.c
        ./m || echo "built=$?"
        git init -q . && git -c user.name=a -c user.email=a@b add m.c
        git -c user.name=a -c user.email=a@b commit -q -m first && echo committed
        ls | sort | head -3 | wc -l | tr -d ' ' > count && echo "pipes=$(cat count)"
        """
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
            script += "\nprintf 'import sys\\nprint(\"py\", sum(range(10)))\\n' > s.py && python3 s.py"
        }
        let run = try s.run(["/bin/sh", "-c", script])
        // The tools work; the repository git init wrote holds nothing that runs code.
        #expect(run.status == 0, "\(run.output)")
        #expect(!run.output.contains("git control plane"), "\(run.output)")
        #expect(run.output.contains("built=42"), "\(run.output)")
        #expect(run.output.contains("committed"), "\(run.output)")
        #expect(run.output.contains("pipes=3"), "\(run.output)")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
            #expect(run.output.contains("py 45"), "\(run.output)")
        }
    }
}

// MARK: - Setuid files left for the host

extension EscapeProbeTests {
    @Test func setuidFilesCannotBeLeftBehind() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch()
        defer { s.remove() }
        let run = try s.run(["/bin/sh", "-c", """
            cp /bin/true tool; chmod 4755 tool; echo suid=$?; chmod 2755 tool; echo sgid=$?
            python3 -c 'import os; os.open("made", os.O_CREAT | os.O_WRONLY, 0o4755)' 2>/dev/null; echo create=$?
            python3 -c 'import os; os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o4755)' 2>/dev/null; echo tmpfile=$?
            python3 -c 'import os; os.close(os.open("tool", os.O_RDONLY, 0o6755))'; echo readopen=$?
            chmod 755 tool; echo plain=$?
            """])
        #expect(run.output.contains("suid=1") && run.output.contains("sgid=1") && run.output.contains("plain=0"), "\(run.output)")
        #expect(run.output.contains("create=1") && run.output.contains("tmpfile=1"), "\(run.output)")
        // The mode register counts only with O_CREAT or O_TMPFILE: a plain open whose register
        // holds setuid bits (rustc's do) opens.
        #expect(run.output.contains("readopen=0"), "\(run.output)")
        // From outside: nothing in the workspace carries a setuid or setgid bit.
        for name in try FileManager.default.contentsOfDirectory(atPath: s.workspace) {
            var st = stat()
            #expect(lstat(s.workspace + "/" + name, &st) == 0 && st.st_mode & (S_ISUID | S_ISGID) == 0, "\(name) is setuid/setgid")
        }
        #expect(s.auditDenied("chmod") || s.auditDenied("fchmodat"), "the refused chmod is not in the trail")
    }
}
