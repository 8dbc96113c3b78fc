import Testing
@testable import WardenPolicy

// One positive and one negative case (at least) for every lint rule. Line numbers refer
// to the text `agent(...)` builds: line 4 is `description`, the body starts at line 5.

@Suite struct LintRuleTests {
    @Test func registryIsSortedUniqueAndKebabCase() {
        let ids = LintRules.all.map(\.id)
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.allSatisfy { $0.isLowercase || $0 == "-" }, "\(id)")
            #expect(!(LintRules.named(id)?.rationale.isEmpty ?? true))
        }
        // The rules the issue asks for.
        for id in ["dangerous-grant", "writable-executable-path", "unprotected-git", "secret-env", "broad-network", "no-limits",
                   "unused-permissions", "shadowed-rule", "duplicate-rule", "missing-description"] {
            #expect(LintRules.named(id) != nil, "\(id)")
        }
        // Lint ids never collide with checker codes.
        let checker = Set(DiagnosticCodes.all.map(\.code))
        #expect(checker.isDisjoint(with: LintRules.catalog.map(\.id)))
    }

    @Test func cleanPolicyHasNoFindings() {
        let text = agent("""
              allow fs read, write, exec "${workspace}"
              deny  fs write "${workspace}/.git/hooks", "${workspace}/.git/config"
              allow fs read "/usr"
              allow net connect tcp "registry.example.org:443"
              allow syscall @default
              env pass PATH, HOME
            """)
        #expect(lintText(text).diagnostics.isEmpty, "\(lintText(text).diagnostics)")
    }

    @Test func dangerousGrant() {
        #expect(findings("dangerous-grant", in: agent("  allow syscall ptrace, io_uring_setup, process_vm_readv, read")) ==
                ["dangerous-grant@5:17", "dangerous-grant@5:25", "dangerous-grant@5:41"])
        #expect(findings("dangerous-grant", in: agent("  allow capability SYS_ADMIN, CAP_NET_RAW, NET_BIND_SERVICE")) ==
                ["dangerous-grant@5:20", "dangerous-grant@5:31"])
        // With a reason, denied, or harmless: nothing.
        #expect(findings("dangerous-grant", in: agent("  allow syscall ptrace because \"debugger tests\"")).isEmpty)
        #expect(findings("dangerous-grant", in: agent("  deny syscall bpf, mount\n  deny capability SYS_ADMIN")).isEmpty)
        #expect(findings("dangerous-grant", in: agent("  allow syscall @default, read\n  allow capability NET_BIND_SERVICE")).isEmpty)
        // In a permission set too.
        let set = "warden 1\npermissions p {\n  allow syscall bpf\n}\nidentity agent {\n  description \"d\"\n  use p\n  limit wall-time 1m\n}\n"
        #expect(findings("dangerous-grant", in: set) == ["dangerous-grant@3:17"])
    }

    @Test func dangerousSyscallTable() {
        for s in ["ptrace", "bpf", "mount", "umount2", "unshare", "setns", "perf_event_open", "keyctl", "kexec_load",
                  "kexec_file_load", "init_module", "finit_module", "open_by_handle_at", "userfaultfd", "io_uring_enter",
                  "process_vm_writev"] {
            #expect(LintRules.isDangerousSyscall(s), "\(s)")
        }
        for s in ["read", "openat", "socket", "clone", "execve"] { #expect(!LintRules.isDangerousSyscall(s), "\(s)") }
    }

    @Test func writableExecutablePath() {
        #expect(findings("writable-executable-path", in: agent("  allow fs write, exec \"/opt/tools\"")) == ["writable-executable-path@5:24"])
        // Split over two rules: reported at the deeper path.
        #expect(findings("writable-executable-path", in: agent("  allow fs write \"/srv\"\n  allow fs exec \"/srv/bin\"")) ==
                ["writable-executable-path@6:17"])
        // The workspace and tmp are the agent's own work area.
        #expect(findings("writable-executable-path", in: agent("  allow fs read, write, exec \"${workspace}\", \"${tmp}\"")).isEmpty)
        // A deny of exec removes the overlap; disjoint paths never overlap.
        #expect(findings("writable-executable-path", in: agent("  allow fs write, exec \"/opt/x\"\n  deny fs exec \"/opt/x\"")).isEmpty)
        #expect(findings("writable-executable-path", in: agent("  allow fs write \"/opt/a\"\n  allow fs exec \"/opt/b\"")).isEmpty)
    }

    @Test func unprotectedGit() {
        #expect(findings("unprotected-git", in: agent("  allow fs read, write \"${workspace}\"")) == ["unprotected-git@5:24"])
        // Only one of the two protected: still reported, naming the other.
        let half = lintText(agent("  allow fs write \"${workspace}\"\n  deny fs write \"${workspace}/.git/hooks\""))
            .diagnostics.filter { $0.code == "unprotected-git" }
        #expect(half.count == 1)
        #expect(half.first?.message.contains(".git/config") == true)
        #expect(half.first?.message.contains(".git/hooks") == false)
        #expect(findings("unprotected-git", in: agent("  allow fs write \"${workspace}\"\n  deny fs write \"${workspace}/.git\"")).isEmpty)
        #expect(findings("unprotected-git", in: agent("  allow fs read \"${workspace}\"")).isEmpty)
        #expect(findings("unprotected-git", in: agent("  allow fs write \"${workspace}/build\"")).isEmpty)
    }

    @Test func secretEnv() {
        #expect(findings("secret-env", in: agent("  env pass PATH, GITHUB_TOKEN, NPM_TOKEN, AWS_REGION, DB_PASSWORD, SSH_AUTH_SOCK, MY_API_KEY")) ==
                ["secret-env@5:18", "secret-env@5:32", "secret-env@5:43", "secret-env@5:55", "secret-env@5:68", "secret-env@5:83"])
        #expect(findings("secret-env", in: agent("  env set SERVICE_TOKEN = \"abc\"")) == ["secret-env@5:27"])
        #expect(findings("secret-env", in: agent("  env pass PATH, HOME, LANG, TERM, KEYBOARD_LAYOUT\n  env set CI = \"true\"")).isEmpty)
    }

    @Test func broadNetwork() {
        #expect(findings("broad-network", in: agent("  allow net connect tcp \"*:443\", \"0.0.0.0/0:*\", \"[::/0]:53\", \"*.com:443\"")) ==
                ["broad-network@5:25", "broad-network@5:34", "broad-network@5:49", "broad-network@5:62"])
        #expect(findings("broad-network", in: agent("  allow net connect tcp \"*.example.org:443\", \"10.0.0.0/8:5432\"")).isEmpty)
        #expect(findings("broad-network", in: agent("  deny net connect tcp \"*:*\"")).isEmpty)
    }

    @Test func noLimits() {
        let none = "warden 1\nidentity a {\n  description \"d\"\n}\n"
        #expect(findings("no-limits", in: none) == ["no-limits@2:10"])
        let noWall = "warden 1\nidentity a {\n  description \"d\"\n  limit memory 1GiB\n}\n"
        #expect(lintText(noWall).diagnostics.first { $0.code == "no-limits" }?.message.contains("wall-time") == true)
        #expect(findings("no-limits", in: agent("")).isEmpty)
    }

    @Test func unusedPermissions() {
        let text = "warden 1\npermissions used {\n  use inner\n}\npermissions inner {\n}\npermissions idle {\n}\n"
            + "identity a {\n  description \"d\"\n  use used\n  limit wall-time 1m\n}\n"
        #expect(findings("unused-permissions", in: text) == ["unused-permissions@7:13"])
        // A library file without identities is not checked.
        #expect(findings("unused-permissions", in: "warden 1\npermissions lib {\n}\n").isEmpty)
        // Sets of included files are not reported.
        let lib = lintText(agent("", extra: "include \"lib.warden\""), others: ["lib.warden": "warden 1\npermissions lib {\n}\n"])
        #expect(lib.diagnostics.isEmpty, "\(lib.diagnostics)")
    }

    @Test func shadowedRule() {
        let fs = lintText(agent("  deny fs read, write \"/data\"\n  allow fs read \"/data/public\""))
            .diagnostics.filter { $0.code == "shadowed-rule" }
        #expect(fs.map { "\($0.span.start.line):\($0.span.start.column)" } == ["6:17"])
        #expect(fs.first?.notes.first?.span.start.line == 5)
        #expect(findings("shadowed-rule", in: agent("  allow syscall ptrace because \"x\"\n  deny syscall ptrace")) == ["shadowed-rule@5:17"])
        #expect(findings("shadowed-rule", in: agent("  allow net connect tcp \"api.example.org:443\"\n  deny net connect tcp \"*.example.org:*\"")) ==
                ["shadowed-rule@5:25"])
        #expect(findings("shadowed-rule", in: agent("  allow capability NET_BIND_SERVICE\n  deny capability CAP_NET_BIND_SERVICE")) == ["shadowed-rule@5:20"])
        // Partial overlaps are not shadowed: a deeper deny, less access, a conditional deny, other ports.
        #expect(findings("shadowed-rule", in: agent("  allow fs read \"/data\"\n  deny fs read \"/data/secret\"")).isEmpty)
        #expect(findings("shadowed-rule", in: agent("  allow fs read, write \"/data\"\n  deny fs write \"/data\"")).isEmpty)
        #expect(findings("shadowed-rule", in: agent("  allow syscall socket\n  deny syscall socket(domain == AF_PACKET)")).isEmpty)
        #expect(findings("shadowed-rule", in: agent("  allow net connect tcp \"a.example.org:443\"\n  deny net connect tcp \"a.example.org:80\"")).isEmpty)
    }

    @Test func duplicateRule() {
        let d = lintText(agent("  allow fs read \"/usr\"\n  allow fs read \"/usr\"")).diagnostics.filter { $0.code == "duplicate-rule" }
        #expect(d.map { "\($0.span.start.line):\($0.span.start.column)" } == ["6:17"])
        #expect(d.first?.notes.first?.span.start.line == 5)
        // Through a permission set.
        let viaSet = "warden 1\npermissions p {\n  allow fs read \"/usr\"\n}\nidentity a {\n  description \"d\"\n  use p\n  allow fs read \"/usr\"\n  limit wall-time 1m\n}\n"
        #expect(findings("duplicate-rule", in: viaSet).count == 1)
        // Different access, effect or path: not duplicates.
        #expect(findings("duplicate-rule", in: agent("  allow fs read \"/usr\"\n  allow fs exec \"/usr\"\n  allow fs read \"/usr/lib\"")).isEmpty)
    }

    @Test func missingDescription() {
        #expect(findings("missing-description", in: "warden 1\nidentity a {\n  limit wall-time 1m\n}\n") == ["missing-description@2:10"])
        #expect(findings("missing-description", in: agent("")).isEmpty)
    }

    @Test func sensitivePathReadable() {
        #expect(findings("sensitive-path-readable", in: agent("  allow fs read \"${home}\"")) == ["sensitive-path-readable@5:17"])
        #expect(findings("sensitive-path-readable", in: agent("  allow fs read \"/\"")) == ["sensitive-path-readable@5:17"])
        #expect(findings("sensitive-path-readable", in: agent("  allow fs read \"/var/run/docker.sock\"")) == ["sensitive-path-readable@5:17"])
        // Denying the secrets, or reading harmless parts, is fine.
        #expect(findings("sensitive-path-readable", in: agent("  allow fs read \"/etc\"\n  deny fs read \"/etc/shadow\", \"/etc/gshadow\"")).isEmpty)
        #expect(findings("sensitive-path-readable", in: agent("  allow fs read \"${home}/.cache\", \"/usr\"")).isEmpty)
    }

    @Test func writableSystemPath() {
        #expect(findings("writable-system-path", in: agent("  allow fs write \"/usr/local\", \"/\", \"/etc\"")) ==
                ["writable-system-path@5:18", "writable-system-path@5:32", "writable-system-path@5:37"])
        #expect(findings("writable-system-path", in: agent("  allow fs write \"/dev/null\", \"/home/ci/out\", \"${workspace}\"")).isEmpty)
        #expect(findings("writable-system-path", in: agent("  allow fs read \"/usr\"")).isEmpty)
    }

    @Test func writableStartupFile() {
        #expect(findings("writable-startup-file", in: agent("  allow fs write \"${home}\"")) == ["writable-startup-file@5:18"])
        #expect(findings("writable-startup-file", in: agent("  allow fs write \"${home}/.bashrc\"")) == ["writable-startup-file@5:18"])
        #expect(findings("writable-startup-file", in: agent("  allow fs write \"${home}/.cache\"")).isEmpty)
    }

    @Test func rulesRunDespiteCheckerErrors() {
        let r = lintText(agent("  allow syscall opne\n  allow syscall ptrace"))
        #expect(r.diagnostics.map(\.code) == ["unknown-syscall", "dangerous-grant"])
        #expect(r.diagnostics.hasErrors)
    }

    @Test func findingsInASetUsedTwiceAreReportedOnce() {
        let text = "warden 1\npermissions p {\n  allow fs write, exec \"/opt/x\"\n  allow fs read \"${home}\"\n}\n"
            + "identity a {\n  description \"d\"\n  use p\n  limit wall-time 1m\n}\n"
            + "identity b {\n  description \"d\"\n  use p\n  limit wall-time 1m\n}\n"
        let codes = lintText(text).diagnostics.map(\.code)
        #expect(codes.filter { $0 == "writable-executable-path" }.count == 1)
        #expect(codes.filter { $0 == "sensitive-path-readable" }.count == 1)
    }
}
