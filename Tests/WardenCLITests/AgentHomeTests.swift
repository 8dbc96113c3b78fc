import Foundation
import Testing
import Synchronization

/// The agent's world as real tools expect it, checked from the host: a fresh, writable home
/// of the run (nothing of the real home but what a rule grants), the operator's git
/// identity read-only, persistent per-identity caches that no other identity reaches and
/// nothing in them runs, exec in `${tmp}` only where the policy says, and PATH entries the
/// agent cannot see reported on stderr.
@Suite("agent world: fresh home, git identity, caches, tmp exec, PATH")
struct AgentHomeTests {
    /// A policy file next to a copy of base.warden; `rules` go into identity `identity`.
    static func policy(_ f: StockPolicyFixture, _ rules: String, identity: String = "agent", name: String = "p") throws -> String {
        let base = f.root + "/base.warden"
        if !FileManager.default.fileExists(atPath: base) {
            try FileManager.default.copyItem(atPath: WardenBinary.root + "/policies/base.warden", toPath: base)
        }
        let path = f.root + "/\(name).warden"
        try f.write(path, """
            warden 1
            include "base.warden"

            identity \(identity) {
              description "agent world test"
              use toolchain, home-secrets
              allow fs read, write, exec "${workspace}"
            \(rules)
              env pass PATH, HOME, LANG
            }

            """)
        return path
    }

    static func run(_ f: StockPolicyFixture, _ policy: String, _ script: String,
                    environment: [String: String]? = nil) throws -> WardenBinary.Result {
        let args = ["run", "--policy", policy, "--workspace", f.workspace, "--audit-log", f.log, "--", "/bin/sh", "-c", script]
        guard let r = try WardenBinary.run(args, in: f.workspace, environment: environment ?? f.environment) else {
            throw StockPolicyFixture.FixtureError.command("warden not built")
        }
        return r
    }

    /// Root runs keep caches in /var/cache/warden/<identity>; tests use identities of their own.
    static func uniqueIdentity(_ tag: String) -> String { "t\(tag)-" + UUID().uuidString.prefix(8).lowercased() }
    static func store(_ identity: String) -> String { "/var/cache/warden/" + identity }

    static var root: Bool { getuid() == 0 }

    @Test func realHomeIsInvisibleAndUnwritable() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        try f.write(f.home + "/host-note", "operator's\n")
        let p = try Self.policy(f, "  allow fs read, write \"${tmp}\"")
        let r = try Self.run(f, p, """
            test "$HOME" = "\(f.home)" || { echo "HOME=$HOME"; exit 3; }
            cat "$HOME/host-note" 2>&1 | grep -q 'No such file' || { echo "host-note visible"; exit 4; }
            test ! -e "$HOME/.ssh" || { echo ".ssh visible"; exit 5; }
            echo agent > "$HOME/agent-file" && mkdir -p "$HOME/.cache/x" && echo ok > "$HOME/.cache/x/y" || exit 6
            test -x "$HOME" && cp /bin/true "$HOME/t" && chmod +x "$HOME/t" && "$HOME/t" && { echo "home is executable"; exit 7; }
            echo done
            """)
        #expect(r.status == 0 && r.stdout.contains("done"), "\(r.stdout)\(r.stderr)")
        // Checked from the host: nothing the agent wrote reached the real home.
        #expect(!FileManager.default.fileExists(atPath: f.home + "/agent-file"))
        #expect(!FileManager.default.fileExists(atPath: f.home + "/.cache/x"))
        #expect((try? String(contentsOfFile: f.home + "/host-note", encoding: .utf8)) == "operator's\n")
        #expect(!r.stdout.contains(StockPolicyFixture.fakeKey))
    }

    @Test func grantsUnderHomeAreBoundAtTheirPlace() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        try f.write(f.home + "/tools/bin/hello", "#!/bin/sh\necho hello-from-home\n")
        chmod(f.home + "/tools/bin/hello", 0o755)
        try f.write(f.home + "/other", "x\n")
        let p = try Self.policy(f, "  allow fs read, exec \"${home}/tools\"")
        let r = try Self.run(f, p, """
            "$HOME/tools/bin/hello" || exit 3
            echo y > "$HOME/tools/bin/planted" 2>/dev/null && { echo "tools writable"; exit 4; }
            test ! -e "$HOME/other" || exit 5
            echo done
            """)
        #expect(r.status == 0 && r.stdout.contains("hello-from-home") && r.stdout.contains("done"), "\(r.stdout)\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.home + "/tools/bin/planted"))
    }

    @Test func homeSecretsHoldInsideGrantedHomeDirectories() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        try f.write(f.home + "/.config/gh/hosts.yml", "token: \(StockPolicyFixture.fakeKey)\n")
        try f.write(f.home + "/.config/tool.conf", "setting=ok\n")
        let p = try Self.policy(f, "  allow fs read \"${home}/.config\"")
        let r = try Self.run(f, p, "cat \"$HOME/.config/tool.conf\"; cat \"$HOME/.config/gh/hosts.yml\" 2>&1; cat \"$HOME/.ssh/id_ed25519\" 2>&1; exit 0")
        #expect(r.stdout.contains("setting=ok"), "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains(StockPolicyFixture.fakeKey), "\(r.stdout)")
    }

    @Test func gitIdentityIsGeneratedEscapedAndReadOnly() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        // A name that tries to end its quote and line and add settings; aliases and a pager
        // that must not reach the agent.
        try f.write(f.home + "/.gitconfig", #"""
            [user]
            	name = "Ann \"Q\" O\\Brian\n[core]\n\tpager = touch /tmp/pwned"
            	email = ann@example.com
            [alias]
            	evil = !touch /tmp/pwned
            [core]
            	pager = less

            """#)
        let p = try Self.policy(f, "")
        let r = try Self.run(f, p, """
            git config --global --list
            echo x >> "$HOME/.gitconfig" 2>/dev/null && echo WRITABLE
            rm -f "$HOME/.gitconfig" 2>/dev/null; test -e "$HOME/.gitconfig" || echo REMOVED
            exit 0
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines == ["user.name=Ann \"Q\" O\\Brian", "[core]", "\tpager = touch /tmp/pwned", "user.email=ann@example.com"],
                "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("WRITABLE") && !r.stdout.contains("REMOVED"), "\(r.stdout)")
        #expect(!r.stdout.contains("alias") && !r.stdout.contains("core.pager"), "\(r.stdout)")
    }

    /// `use git-user-config` grants the real ~/.gitconfig, here a link into a dotfiles
    /// directory: the agent gets that file (aliases and all), not the generated identity.
    @Test func grantedRealGitconfigReplacesTheGeneratedOne() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        try f.write(f.home + "/dotfiles/gitconfig", "[user]\n\tname = Dot User\n[alias]\n\tst = status\n")
        try FileManager.default.createSymbolicLink(atPath: f.home + "/.gitconfig", withDestinationPath: "dotfiles/gitconfig")
        let p = try Self.policy(f, "  use git-user-config")
        let r = try Self.run(f, p, "git config --global --list; echo x >> \"$HOME/dotfiles/gitconfig\" 2>/dev/null && echo WRITABLE; exit 0")
        #expect(r.stdout == "user.name=Dot User\nalias.st=status\n", "\(r.stdout)\(r.stderr)")
        #expect((try? String(contentsOfFile: f.home + "/dotfiles/gitconfig", encoding: .utf8))?.contains("x\n") == false)
    }

    @Test func noGitIdentityMeansNoGitconfig() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let p = try Self.policy(f, "")
        let r = try Self.run(f, p, "test ! -e \"$HOME/.gitconfig\" && echo absent")
        #expect(r.status == 0 && r.stdout.contains("absent"), "\(r.stdout)\(r.stderr)")
    }

    @Test func concurrentRunsEachGetTheirOwnHome() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let p = try Self.policy(f, "")
        let scripts = [
            "echo A > \"$HOME/mark\"; sleep 2; cat \"$HOME/mark\"",
            "sleep 1; test -e \"$HOME/mark\" && echo SAW-OTHER; echo B > \"$HOME/mark\"; cat \"$HOME/mark\"",
        ]
        let results = Mutex<[Int: WardenBinary.Result]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if let r = try? Self.run(f, p, scripts[i]) { results.withLock { $0[i] = r } }
        }
        let done = results.withLock { $0 }
        #expect(done[0]?.stdout == "A\n", "\(done[0]?.stdout ?? "-") \(done[0]?.stderr ?? "")")
        #expect(done[1]?.stdout == "B\n", "\(done[1]?.stdout ?? "-") \(done[1]?.stderr ?? "")")
        #expect(!FileManager.default.fileExists(atPath: f.home + "/mark"))
    }

    @Test func cachesPersistPerIdentityAndNeverExecute() throws {
        guard Self.root else { print("skip: caches of root runs live in /var/cache/warden (run as root)"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let a = Self.uniqueIdentity("a"), b = Self.uniqueIdentity("b")
        defer { try? FileManager.default.removeItem(atPath: Self.store(a)); try? FileManager.default.removeItem(atPath: Self.store(b)) }
        let rules = "  cache \"${home}/.cache/tool\" because \"test cache\""
        let pa = try Self.policy(f, rules, identity: a, name: "a")
        let pb = try Self.policy(f, rules, identity: b, name: "b")

        let first = try Self.run(f, pa, """
            echo data > "$HOME/.cache/tool/f" || exit 3
            cp /bin/true "$HOME/.cache/tool/t" && chmod 755 "$HOME/.cache/tool/t" || exit 4
            "$HOME/.cache/tool/t" 2>/dev/null; echo "exec=$?"
            for ld in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
              test -e "$ld" && { "$ld" "$HOME/.cache/tool/t" 2>/dev/null; echo "ldso=$?"; }
            done
            exit 0
            """)
        #expect(first.status == 0 && first.stdout.contains("exec=126"), "\(first.stdout)\(first.stderr)")
        // Nor through the loader mapping it (the cache is a noexec mount).
        #expect(!first.stdout.contains("ldso=0"), "\(first.stdout)")
        // From the host: the store is A's, private, and holds what A wrote.
        var st = stat()
        #expect(stat(Self.store(a), &st) == 0 && st.st_mode & 0o777 == 0o700)
        #expect((try? String(contentsOfFile: Self.store(a) + "/.cache/tool/f", encoding: .utf8)) == "data\n")
        #expect(!FileManager.default.fileExists(atPath: f.home + "/.cache/tool/f"))

        let again = try Self.run(f, pa, "cat \"$HOME/.cache/tool/f\"")
        #expect(again.stdout == "data\n", "\(again.stdout)\(again.stderr)")

        let other = try Self.run(f, pb, """
            test ! -e "$HOME/.cache/tool/f" || { echo "B sees A's cache"; exit 3; }
            ls /var/cache/warden >/dev/null 2>&1 && { echo "stores visible"; exit 4; }
            echo b > "$HOME/.cache/tool/g"; echo done
            """)
        #expect(other.status == 0 && other.stdout.contains("done"), "\(other.stdout)\(other.stderr)")
        #expect(!FileManager.default.fileExists(atPath: Self.store(a) + "/.cache/tool/g"))
        #expect(FileManager.default.fileExists(atPath: Self.store(b) + "/.cache/tool/g"))
    }

    @Test func symlinkPlantedInACacheDoesNotRedirectTheSupervisor() throws {
        guard Self.root else { print("skip: caches of root runs live in /var/cache/warden (run as root)"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let id = Self.uniqueIdentity("c")
        defer { try? FileManager.default.removeItem(atPath: Self.store(id)) }
        let outside = f.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let plant = try Self.policy(f, "  cache \"${home}/.c\"", identity: id, name: "plant")
        // The first run plants links where a later policy of the same identity has caches.
        let first = try Self.run(f, plant, "ln -s \(outside) \"$HOME/.c/sub\" && ln -s \(outside)/new \"$HOME/.c/gone\" && echo planted")
        #expect(first.stdout.contains("planted"), "\(first.stdout)\(first.stderr)")
        for cache in ["sub", "gone/deeper"] {
            let nested = try Self.policy(f, "  cache \"${home}/.c\"\n  cache \"${home}/.c/\(cache)\"", identity: id, name: "nested")
            let r = try Self.run(f, nested, "echo x > \"$HOME/.c/\(cache)/written\"; echo ran")
            #expect(r.status != 0 && !r.stdout.contains("ran") && r.stderr.contains("cache"), "\(r.stdout)\(r.stderr)")
        }
        // From the host: nothing was created or written outside the store.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: outside)) == [])
        #expect(!FileManager.default.fileExists(atPath: outside + "/new"))
    }

    @Test(arguments: [(true, "scratch-exec"), (false, "scratch")])
    func execInTmpOnlyWherePolicyAllows(allowed: Bool, set: String) throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let p = try Self.policy(f, "  use \(set)")
        let r = try Self.run(f, p, "cp /bin/true \"$TMPDIR/t\" && chmod 755 \"$TMPDIR/t\" && \"$TMPDIR/t\"; echo \"exec=$?\"")
        #expect(r.stdout.contains(allowed ? "exec=0" : "exec=126"), "\(r.stdout)\(r.stderr)")
    }

    @Test func pathEntriesMissingInTheAgentsWorldAreReported() throws {
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        try f.write(f.home + "/bin/mytool", "#!/bin/sh\necho mine\n")
        chmod(f.home + "/bin/mytool", 0o755)
        let odd = f.home + "/odd\u{1B}[31mdir"
        try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
        var env = f.environment
        env["PATH"] = f.home + "/bin:/usr/bin:/bin:" + f.home + "/bin:" + odd
        let hidden = try Self.policy(f, "", name: "hidden")
        let r = try Self.run(f, hidden, "mytool; exit 0", environment: env)
        let reports = r.stderr.split(separator: "\n").filter { $0.contains("PATH entry") }
        #expect(reports.count == 2 && reports[0].contains(f.home + "/bin ") && reports[0].contains("allow fs read, exec"), "\(r.stderr)")
        // Each reported once, and escaped: no raw escape sequence reaches the terminal.
        #expect(!r.stderr.contains("\u{1B}") && reports.count { $0.contains("/odd") } == 1, "\(r.stderr)")
        let granted = try Self.policy(f, "  allow fs read, exec \"${home}/bin\"", name: "granted")
        env["PATH"] = f.home + "/bin:/usr/bin:/bin"
        let g = try Self.run(f, granted, "mytool", environment: env)
        #expect(g.status == 0 && g.stdout == "mine\n" && !g.stderr.contains("PATH entry"), "\(g.stdout)\(g.stderr)")
    }

    @Test func explainSaysACacheIsTheIdentitysStore() throws {
        guard let r = try WardenBinary.run(["explain", "policies/dependency-updater.warden", "--fs", "write", "${home}/.cache/pip/x"]) else { return }
        #expect(r.status == 0 && r.stdout.hasPrefix("ALLOW"), "\(r.stdout)")
        #expect(r.stdout.contains("cache \"${home}/.cache/pip\"") && r.stdout.contains("cache: the path is the identity's own persistent store"), "\(r.stdout)")
        guard let plain = try WardenBinary.run(["explain", "policies/default.warden", "--fs", "exec", "${tmp}/x"]) else { return }
        #expect(plain.status == 0 && !plain.stdout.contains("cache:"), "\(plain.stdout)")
    }

    /// rustup's cargo and pyenv's shims, installed under root's real home, run read-only
    /// under the stock default policy (through `toolchains`), and the agent runs the same
    /// versions as the operator.
    @Test func homeInstalledToolchainsRunUnderDefault() throws {
        let home = "/root"
        let tools = [("cargo", home + "/.cargo/bin"), ("python", home + "/.pyenv/shims")]
            .filter { FileManager.default.isExecutableFile(atPath: $0.1 + "/" + $0.0) }
        guard !tools.isEmpty, Self.root else { print("skip: no rustup cargo or pyenv shims under /root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let path = tools.map(\.1).joined(separator: ":") + ":/usr/bin:/bin"
        let env = ["PATH": path, "HOME": home, "LANG": "C.UTF-8"]
        for (tool, _) in tools {
            let host = try CLISupport.run("/bin/sh", ["-c", "\(tool) --version"], in: f.workspace, environment: env)
            let args = ["run", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", f.workspace,
                        "--audit-log", f.log, "--", tool, "--version"]
            guard let r = try WardenBinary.run(args, in: f.workspace, environment: env) else { return }
            #expect(r.status == 0 && r.stdout == host.stdout && !r.stdout.isEmpty, "\(tool): \(r.stdout)\(r.stderr) vs \(host.stdout)\(host.stderr)")
            #expect(!r.stderr.contains("PATH entry"), "\(r.stderr)")
        }
    }
}
