import Foundation
import Testing

/// A part of the escape suite run as uid 65534 (nobody), for the layers that need no root:
/// the user namespace, Landlock, seccomp, no_new_privs, and mounts inside the user namespace.
@Suite("Escape probes as nobody")
struct EscapeProbeUnprivilegedTests {
    static let nobody: uid_t = 65534

    /// Why this cannot run here, or nil; copies warden where nobody can run it if needed.
    static let setup: (warden: String, skip: String?) = {
        if let why = Escape.unavailable { return ("", why) }
        guard geteuid() == 0 else { return ("", "needs root to switch to uid 65534") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return ("", "no /usr/bin/setpriv") }
        guard let (st, _) = try? Escape.sh("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/true"]), st == 0 else {
            return ("", "setpriv cannot switch users here")
        }
        if let n = try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8),
           n.trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
            return ("", "user namespaces are disabled (user.max_user_namespaces=0)")
        }
        // The build tree may not be reachable by nobody: fall back to a copy in a 0755 directory.
        var warden = Escape.warden
        if let (ok, _) = try? Escape.sh("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", warden, "--version"]), ok != 0 {
            guard let dir = try? Escape.tempDir("nobody-bin") else { return ("", "cannot make a directory for a copy of warden") }
            warden = dir + "/warden"
            guard (try? FileManager.default.copyItem(atPath: Escape.warden, toPath: warden)) != nil else {
                return ("", "cannot copy warden to \(warden)")
            }
        }
        return (warden, nil)
    }()

    static let attacks: [(String, String)] = [
        ("io_uring", "BLOCKED errno=EPERM"),
        ("x32", "BLOCKED signal=SYS"),
        ("int80", "BLOCKED signal=SYS"),
        ("clone3", "BLOCKED errno=ENOSYS pthread=ok"),
        ("bpf", "BLOCKED errno=EPERM"),
        ("ptrace-init", "BLOCKED errno=EPERM"),
        ("unshare-user", "BLOCKED errno=EPERM"),
        ("mount", "BLOCKED errno=EPERM"),
        ("keyctl", "BLOCKED errno=EPERM"),
        ("tiocsti", "BLOCKED errno=EPERM"),
        ("git-rename", "BLOCKED errno=EBUSY (rename .git)"),
        ("fds", "BLOCKED only-0-2"),
        ("threads", "OK 8 threads"),
    ]

    @Test func attacksAreBlockedForNobody() throws {
        if let why = Self.setup.skip { print("skip: \(why)"); return }
        for (attack, expected) in Self.attacks {
            let s = try Scratch(git: true, owner: Self.nobody)
            defer { s.remove() }
            let run = try s.attack(attack, asUser: Self.nobody, warden: Self.setup.warden)
            #expect(run.verdict(attack) == expected, "as nobody, \(attack): \(run.output)")
        }
    }

    @Test func filesAreProtectedForNobody() throws {
        if let why = Self.setup.skip { print("skip: \(why)"); return }
        let s = try Scratch(git: true, owner: Self.nobody)
        defer { s.remove() }
        let cases: [(String, String, String)] = [
            // Protected inside the workspace: read-only; outside the grants: not in the world.
            ("write", ".git/hooks/pre-commit", "BLOCKED errno=EROFS"),
            ("read", s.home + "/.ssh/id_ed25519", "BLOCKED errno=ENOENT"),
            ("append", s.auditLog, "BLOCKED errno=ENOENT"),
            ("read", s.looseFile, "BLOCKED errno=ENOENT"),
            ("write", s.looseFile, "BLOCKED errno=ENOENT"),
            ("read", "/proc/1/root" + s.looseFile, "BLOCKED errno=EACCES"),
        ]
        for (attack, arg, expected) in cases {
            let run = try s.attack(attack, [arg], asUser: Self.nobody, warden: Self.setup.warden)
            #expect(run.verdict(attack) == expected, "as nobody, \(attack) \(arg): \(run.output)")
        }
        // ${home} is the run's fresh home: ~/.bashrc is written there, the host's is untouched.
        let rc = try s.attack("write", [s.home + "/.bashrc"], asUser: Self.nobody, warden: Self.setup.warden)
        #expect(rc.verdict("write")?.hasPrefix("ESCAPED wrote") == true, "as nobody: \(rc.output)")
        #expect((try? String(contentsOfFile: s.home + "/.bashrc", encoding: .utf8)) == "# rc\n")
    }

    @Test func setuidRootBinaryGainsNothingForNobody() throws {
        if let why = Self.setup.skip { print("skip: \(why)"); return }
        let s = try Scratch(owner: Self.nobody)
        defer { s.remove() }
        let suid = s.workspace + "/suid-root"
        try FileManager.default.copyItem(atPath: s.probe, toPath: suid)
        #expect(chown(suid, 0, 0) == 0 && chmod(suid, 0o4755) == 0)
        let run = try s.attack("setuid", [suid], asUser: Self.nobody, warden: Self.setup.warden)
        let v = run.verdict("setuid") ?? ""
        #expect(v.hasPrefix("BLOCKED euid=") && v.hasSuffix("CapEff=0000000000000000"), "\(run.output)")
    }

    @Test func forkBombIsBoundedForNobody() throws {
        // Without root, `limit processes` (RLIMIT_NPROC in the agent's user namespace when
        // no cgroup v2 is usable, else pids.max) holds.
        if let why = Self.setup.skip { print("skip: \(why)"); return }
        let text = try Escape.defaultPolicy(replacing: "limit processes 256", with: "limit processes 24")
        let s = try Scratch(policyText: text, owner: Self.nobody)
        defer { s.remove() }
        let run = try s.attack("fork-bomb", ["300"], asUser: Self.nobody, warden: Self.setup.warden)
        let v = run.verdict("fork-bomb") ?? ""
        #expect(v.hasPrefix("BLOCKED errno=EAGAIN after="), "\(run.output)")
        #expect((Int(v.split(separator: "=").last ?? "") ?? .max) < 24, "\(run.output)")
    }

    @Test func allowedWorkAsNobody() throws {
        if let why = Self.setup.skip { print("skip: \(why)"); return }
        let s = try Scratch(owner: Self.nobody)
        defer { s.remove() }
        let run = try s.run(["/bin/sh", "-c", "printf 'int main(void){return 7;}' > m.c && cc -o m m.c && ./m; echo built=$?"],
                            asUser: Self.nobody, warden: Self.setup.warden)
        #expect(run.output.contains("built=7"), "\(run.output)")
    }
}
