import Foundation
import Testing

/// Git's control plane under real enforcement: the indirections git follows (commondir,
/// alternates, config.worktree, info/, hooks) are denied whether or not they exist at
/// launch, git's ordinary work (commit, branch, worktree, gc) still succeeds, and the
/// host's git afterwards runs nothing the agent planted.
@Suite("Escape probes: git's control plane", .serialized)
struct GitControlPlaneEscapeTests {
    static let denies = [".git/hooks", ".git/config", ".git/commondir", ".git/objects/info/alternates",
                         ".git/config.worktree", ".git/info"]

    @Test func gitIndirectionsAreDeniedAndGitStillWorks() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let rule = "  deny  fs write " + Self.denies.map { "\"${workspace}/\($0)\"" }.joined(separator: ", ")
        let text = try Escape.defaultPolicy(replacing: "  allow fs read, write, exec \"${workspace}\"",
                                            with: "  allow fs read, write, exec \"${workspace}\"\n" + rule)
        let s = try Scratch(git: true, policyText: text)
        defer { s.remove() }
        let git = "git -c user.name=agent -c user.email=agent@example.org"
        // The attacker's payload: a repository it controls, with a config that runs code.
        let script = """
        mkdir -p evil/hooks && printf '[core]\\n\\tfsmonitor = touch PWNED\\n' > evil/config
        printf '../evil\\n' > .git/commondir; echo commondir=$?
        printf '/tmp\\n' > .git/objects/info/alternates; echo alternates=$?
        printf '[core]\\n\\tfsmonitor = touch PWNED\\n' > .git/config.worktree; echo worktree=$?
        printf '* filter=x\\n' > .git/info/attributes; echo attributes=$?
        printf '#!/bin/sh\\ntouch PWNED\\n' > .git/hooks/post-checkout; echo hook=$?
        echo work > file.txt && \(git) add file.txt && \(git) commit -qm work && echo commit=ok
        \(git) branch topic && \(git) worktree add -q ../wt-\(UInt32.random(in: 0...UInt32.max)) topic 2>/dev/null; \(git) gc -q && echo gc=ok
        """
        let run = try s.run(["/bin/sh", "-c", script])
        for name in ["commondir", "alternates", "worktree", "attributes", "hook"] {
            #expect(run.output.contains("\(name)=2"), "\(name) was writable: \(run.output)")
        }
        #expect(run.output.contains("commit=ok") && run.output.contains("gc=ok"), "git's own work failed: \(run.output)")
        // From outside: the placeholders are gone and the host's git runs nothing planted.
        let fm = FileManager.default
        for name in [".git/commondir", ".git/objects/info/alternates", ".git/config.worktree"] {
            #expect(!fm.fileExists(atPath: s.workspace + "/" + name), "\(name) left behind")
        }
        let (st, out) = try Escape.sh("/usr/bin/git", ["-C", s.workspace, "status", "--short"],
                                      environment: ["PATH": "/usr/bin:/bin", "HOME": s.home, "GIT_CONFIG_NOSYSTEM": "1"])
        #expect(st == 0, "\(out)")
        #expect(!fm.fileExists(atPath: s.workspace + "/PWNED"), "the host's git ran the agent's code")
    }
}
