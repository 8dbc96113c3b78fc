import Foundation
import Testing
@testable import WardenRuntime

/// Each way an agent can make the operator's later git run its code or read from elsewhere,
/// planted in a real repository; where it matters the host's git is run to prove the danger,
/// and the inspection must report it. Ordinary git work must report nothing.
@Suite("Git control plane: redirections and planted control files")
struct GitControlPlaneTests {
    @Test func ordinaryGitWorkReportsNothing() throws {
        let repo = try GitRepoFixture("clean")
        defer { repo.remove() }
        try repo.git("config", "core.hooksPath", ".githooks")  // before the snapshot: the operator's
        try repo.write(".githooks/pre-commit", "#!/bin/sh\nexit 0\n", mode: 0o755)
        let before = try repo.snapshot()
        try repo.write("src/a.c", "int main(void) { return 0; }\n")
        try repo.git("add", "-A")
        try repo.git("commit", "-q", "-m", "work")
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.git("tag", "v1")
        try repo.write("src/a.c", "int main(void) { return 1; }\n")
        try repo.git("stash", "-q")
        try repo.git("worktree", "add", "-q", "wt", "main")  // commondir "../..", wt/.git -> .git/worktrees/wt
        try repo.git("gc", "-q")
        #expect(before.inspect() == [], "\(before.inspect().map(\.description))")
    }

    @Test func commondirToAnAgentDirectoryWithFsmonitorIsReported() throws {
        let repo = try GitRepoFixture("commondir")
        defer { repo.remove() }
        let before = try repo.snapshot()
        // The agent: a copy of the repository with a config that runs its program, and
        // .git/commondir pointing there.
        let marker = repo.base + "/ran-fsmonitor"
        try FileManager.default.copyItem(atPath: repo.workspace + "/.git", toPath: repo.workspace + "/.cache/evil")
        try repo.plantMarkerScript(".cache/evil.sh", marker: marker)
        try repo.git("config", "--file", ".cache/evil/config", "core.fsmonitor", repo.workspace + "/.cache/evil.sh")
        try repo.write(".git/commondir", "../.cache/evil\n")
        // Proof: the host's `git status` runs the agent's program.
        try repo.git("status", allowFailure: true)
        #expect(repo.exists(marker), "git did not run the planted fsmonitor: the test proves nothing")
        let findings = before.inspect()
        let finding = try #require(findings.first { $0.kind == .commondir })
        #expect(finding.displayPath == ".git/commondir")
        #expect(finding.reason.contains(repo.workspace + "/.cache/evil"), "\(finding.reason)")
        // A commondir naming the repository itself (what a placeholder holds) changes nothing.
        try repo.write(".git/commondir", ".\n")
        #expect(!before.inspect().contains { $0.kind == .commondir })
    }

    @Test func gitFileRedirectingTheRepositoryIsReported() throws {
        let repo = try GitRepoFixture("gitfile")
        defer { repo.remove() }
        let before = try repo.snapshot()
        let marker = repo.base + "/ran"
        try FileManager.default.moveItem(atPath: repo.workspace + "/.git", toPath: repo.workspace + "/.evil")
        try repo.plantMarkerScript("fsm.sh", marker: marker)
        try repo.git("--git-dir=.evil", "config", "core.fsmonitor", repo.workspace + "/fsm.sh")
        try repo.write(".git", "gitdir: .evil\n")
        try repo.git("status", allowFailure: true)
        #expect(repo.exists(marker))
        let findings = before.inspect()
        // The redirection, and the directory it leads to (the old .git, with the agent's config).
        #expect(findings.summary == ["repository .evil", "gitfile .git"], "\(findings.summary)")
    }

    @Test func gitDirectoryAGitFilePointsAtIsChecked() throws {
        let repo = try GitRepoFixture("bare")
        defer { repo.remove() }
        // The operator's layout: `.git` is a file, the repository lives in `.bare`.
        try FileManager.default.moveItem(atPath: repo.workspace + "/.git", toPath: repo.workspace + "/.bare")
        try repo.write(".git", "gitdir: .bare\n")
        let before = try repo.snapshot()
        let marker = repo.base + "/bare-fsmonitor"
        try repo.plantMarkerScript("fsm.sh", marker: marker)
        try repo.git("config", "core.fsmonitor", repo.workspace + "/fsm.sh")
        try repo.write(".bare/hooks/pre-commit", "#!/bin/sh\n", mode: 0o755)
        try repo.git("status", allowFailure: true)
        #expect(repo.exists(marker))
        #expect(before.inspect().summary == ["config .bare/config", "hook .bare/hooks/pre-commit"])
    }

    @Test func worktreeCommondirElsewhereIsReportedButGitWorktreeAddIsNot() throws {
        let repo = try GitRepoFixture("worktree")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try repo.git("worktree", "add", "-q", "wt", "-b", "side")
        #expect(before.inspect() == [])
        try FileManager.default.copyItem(atPath: repo.workspace + "/.git", toPath: repo.base + "/elsewhere")
        try repo.write(".git/worktrees/wt/commondir", "../../../../elsewhere\n")
        let marker = repo.base + "/worktree-fsmonitor"
        try repo.plantMarkerScript("fsm.sh", marker: marker)
        try repo.git("config", "--file", repo.base + "/elsewhere/config", "core.fsmonitor", repo.workspace + "/fsm.sh")
        try repo.git("status", in: repo.workspace + "/wt", allowFailure: true)
        #expect(repo.exists(marker), "git in the worktree did not take the config from the new commondir")
        let findings = before.inspect()
        #expect(findings.map(\.kind) == [.commondir], "\(findings.summary)")
        #expect(findings.first?.reason.contains(repo.base + "/elsewhere") == true)
    }

    @Test func worktreeGitdirOutsideTheWorkspaceIsReported() throws {
        let repo = try GitRepoFixture("wtgitdir")
        defer { repo.remove() }
        try repo.git("worktree", "add", "-q", "wt", "-b", "side")
        let before = try repo.snapshot()
        try repo.write(".git/worktrees/wt/gitdir", "/home/someone/.git\n")
        #expect(before.inspect().summary == ["worktree-gitdir .git/worktrees/wt/gitdir"])
    }

    @Test func alternatesAreReported() throws {
        let repo = try GitRepoFixture("alternates")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try repo.write(".git/objects/info/alternates", "/srv/other/.git/objects\n")
        try repo.write(".git/objects/info/http-alternates", "https://example.invalid/objects\n")
        let findings = before.inspect()
        #expect(findings.summary == ["alternates .git/objects/info/alternates", "alternates .git/objects/info/http-alternates"])
        #expect(findings.first?.reason.contains("/srv/other/.git/objects") == true)
    }

    @Test func changedConfigNamesTheSettingsThatRunCode() throws {
        let repo = try GitRepoFixture("config")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try repo.git("config", "core.fsmonitor", "/tmp/x")
        try repo.git("config", "filter.evil.smudge", "sh -c evil")
        try repo.git("config", "--file", ".git/config.worktree", "core.hooksPath", "/tmp/hooks")
        let findings = before.inspect()
        #expect(findings.summary == ["config .git/config", "config .git/config.worktree"])
        #expect(findings[0].reason.contains("core.fsmonitor, filter.evil.smudge"), "\(findings[0].reason)")
        #expect(findings[1].reason.contains("core.hookspath"))
    }

    @Test func hooksNewChangedOrMadeExecutableAreReported() throws {
        let repo = try GitRepoFixture("hooks")
        defer { repo.remove() }
        try repo.write(".git/hooks/pre-push", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try repo.write(".git/hooks/post-merge", "#!/bin/sh\nexit 0\n", mode: 0o644)
        let before = try repo.snapshot()
        let marker = repo.base + "/hooked"
        try repo.plantMarkerScript(".git/hooks/pre-commit", marker: marker)
        try repo.write(".git/hooks/pre-push", "#!/bin/sh\ncurl evil\n", mode: 0o755)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.workspace + "/.git/hooks/post-merge")
        try repo.git("commit", "-q", "--allow-empty", "-m", "x", allowFailure: true)
        #expect(repo.exists(marker))
        let findings = before.inspect()
        #expect(findings.summary == ["hook .git/hooks/post-merge", "hook .git/hooks/pre-commit", "hook .git/hooks/pre-push"])
        #expect(findings.map(\.reason) == ["made executable: git runs it", "new executable hook: git runs it", "changed executable hook: git runs it"])
    }

    @Test func submoduleRepositoryConfigAndHooksAreReported() throws {
        let upstream = try GitRepoFixture("upstream")
        defer { upstream.remove() }
        let repo = try GitRepoFixture("super")
        defer { repo.remove() }
        try repo.git("-c", "protocol.file.allow=always", "submodule", "add", upstream.workspace, "sub")
        try repo.git("commit", "-q", "-m", "sub")
        let before = try repo.snapshot()
        #expect(before.inspect() == [])  // sub/.git -> .git/modules/sub is the operator's
        let marker = repo.base + "/module-fsmonitor"
        try repo.plantMarkerScript("fsm.sh", marker: marker)
        try repo.git("config", "--file", ".git/modules/sub/config", "core.fsmonitor", repo.workspace + "/fsm.sh")
        try repo.write(".git/modules/sub/hooks/post-checkout", "#!/bin/sh\n", mode: 0o755)
        try repo.git("status", allowFailure: true)
        #expect(repo.exists(marker), "git status did not recurse into the submodule")
        let findings = before.inspect()
        #expect(findings.summary == ["config .git/modules/sub/config", "hook .git/modules/sub/hooks/post-checkout"], "\(findings.summary)")
    }

    @Test func repositoryPlantedAtASubmodulePathIsReported() throws {
        let repo = try GitRepoFixture("planted")
        defer { repo.remove() }
        let before = try repo.snapshot()
        // The agent: a nested repository recorded as a gitlink in the index it may write,
        // with a config that runs its program.
        let marker = repo.base + "/nested-fsmonitor"
        try repo.write("vendor/lib/file", "x\n")
        try repo.git("init", "-q", "vendor/lib")
        try repo.git("add", "file", in: repo.workspace + "/vendor/lib")
        try repo.git("commit", "-q", "-m", "n", in: repo.workspace + "/vendor/lib")
        try repo.git("add", "vendor/lib")
        try repo.plantMarkerScript("fsm.sh", marker: marker)
        try repo.git("config", "--file", "vendor/lib/.git/config", "core.fsmonitor", repo.workspace + "/fsm.sh")
        try repo.git("status", allowFailure: true)
        #expect(repo.exists(marker), "git status did not recurse into the planted repository")
        #expect(before.inspect().summary == ["repository vendor/lib/.git"])
    }

    @Test func plantedGitFileInASubdirectoryIsReported() throws {
        let repo = try GitRepoFixture("nestedfile")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try repo.write("pkg/.git", "gitdir: /srv/agent/evil\n")
        let findings = before.inspect()
        #expect(findings.summary == ["gitfile pkg/.git"])
        #expect(findings[0].reason.contains("/srv/agent/evil (outside the workspace)"))
    }

    @Test func infoAttributesAndSequencerStateAreReportedExcludeIsNot() throws {
        let repo = try GitRepoFixture("info")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try repo.write(".git/info/exclude", "*.log\n")
        try repo.write(".git/info/attributes", "* filter=lfs diff=evil\n")
        try repo.write(".git/rebase-merge/git-rebase-todo", "exec sh -c evil\n")
        try repo.write(".git/rebase-merge/interactive", "")
        #expect(before.inspect().summary == ["info .git/info/attributes", "sequence .git/rebase-merge"])
    }

    @Test func pathsNamedByTheConfigAreWatched() throws {
        let repo = try GitRepoFixture("hookspath")
        defer { repo.remove() }
        try repo.git("config", "core.hooksPath", ".husky/_")
        try repo.write(".husky/_/pre-commit", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try repo.write("shared.gitconfig", "[user]\n\tname = x\n")
        try repo.git("config", "include.path", "../shared.gitconfig")
        let before = try repo.snapshot()
        let marker = repo.base + "/husky"
        try repo.plantMarkerScript(".husky/_/pre-commit", marker: marker)
        try repo.write("shared.gitconfig", "[core]\n\tfsmonitor = /tmp/x\n")
        try repo.git("commit", "-q", "--allow-empty", "-m", "x", allowFailure: true)
        #expect(repo.exists(marker))
        #expect(before.inspect().summary == ["referenced .husky/_/pre-commit", "referenced shared.gitconfig"])
    }

    @Test func includesOfIncludedFilesAreWatchedToo() throws {
        // The repository's config includes shared.gitconfig, which includes local.gitconfig,
        // which does not exist yet: the agent creating it is seen (round-2 finding G4).
        let repo = try GitRepoFixture("nested-include")
        defer { repo.remove() }
        try repo.write("shared.gitconfig", "[include]\n\tpath = local.gitconfig\n")
        try repo.git("config", "include.path", "../shared.gitconfig")
        let before = try repo.snapshot()
        #expect(before.inspect() == [])
        try repo.write("local.gitconfig", "[core]\n\tfsmonitor = /tmp/x\n")
        #expect(before.inspect().summary == ["referenced local.gitconfig"])
    }

    @Test func removedRepositoryIsReportedOnce() throws {
        let repo = try GitRepoFixture("rm")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try FileManager.default.removeItem(atPath: repo.workspace + "/.git")
        #expect(before.inspect().summary == ["removed .git"])
    }

    @Test func newRepositoryAtTheRootIsReportedOnceWhenItCouldRunCode() throws {
        let base = try Fixture.tempDir("git-init")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let before = try GitControlPlane.snapshot(workspace: base)
        #expect(before.inspect() == [])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(GitRepoFixture.git))
        p.arguments = ["init", "-q", base]
        try p.run()
        p.waitUntilExit()
        // What git init writes (its config, sample hooks) runs nothing: no finding.
        #expect(before.inspect() == [])
        // A setting that runs a program, or an active hook, makes it one finding.
        try "[core]\n\tfsmonitor = touch PWNED\n".write(toFile: base + "/.git/config", atomically: false, encoding: .utf8)
        #expect(before.inspect().summary == ["repository .git"])
        #expect(before.inspect().first?.reason.contains("core.fsmonitor") == true)
        // Parser differentials: a comment ending in a backslash (git ends the comment at the
        // line), a byte order mark before the section, a setting no deny list names.
        for text in ["[core]\n# note \\\n\tfsmonitor = touch PWNED\n", "\u{FEFF}[core]\n\tfsmonitor = touch PWNED\n",
                     "[gpg \"ssh\"]\n\tdefaultKeyCommand = touch PWNED\n"] {
            try text.write(toFile: base + "/.git/config", atomically: false, encoding: .utf8)
            #expect(before.inspect().summary == ["repository .git"], "\(text)")
        }
        try "[core]\n".write(toFile: base + "/.git/config", atomically: false, encoding: .utf8)
        try "#!/bin/sh\n".write(toFile: base + "/.git/hooks/post-checkout", atomically: false, encoding: .utf8)
        chmod(base + "/.git/hooks/post-checkout", 0o755)
        #expect(before.inspect().summary == ["repository .git"])
    }

    @Test func aReplacedWorkspaceIsReportedNotWalked() throws {
        let repo = try GitRepoFixture("replaced")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try FileManager.default.moveItem(atPath: repo.workspace, toPath: repo.base + "/moved")
        try FileManager.default.createSymbolicLink(atPath: repo.workspace, withDestinationPath: "/etc")
        #expect(before.inspect().map(\.kind) == [.workspace])
        try FileManager.default.removeItem(atPath: repo.workspace)
        try FileManager.default.createDirectory(atPath: repo.workspace, withIntermediateDirectories: false)
        #expect(before.inspect().map(\.kind) == [.workspace])
    }

    @Test func reportAndAuditRecordEscapeAgentBytes() throws {
        let finding = GitControlPlane.Finding(kind: .hook, path: Array(".git/hooks/\u{1B}[2Jx\n".utf8) + [0xFF], reason: "new executable hook: git runs it")
        let lines = GitControlPlane.render([finding])
        #expect(lines == [
            "warden: git control plane: hook .git/hooks/\\x1b[2Jx\\n\\xff: new executable hook: git runs it",
            "warden: git control plane: 1 finding; do not run git in this workspace before reviewing it (docs/runtime.md, \"Git control plane\")",
        ])
        let event = GitControlPlane.auditEvent([finding], workspace: "/w")
        #expect(event.kind == "git.control")
        #expect(event.fields["count"] == .int(1))
        #expect(event.fields["findings"]?.arrayValue?.first?["path"] == .string(".git/hooks/\\x1b[2Jx\\n\\xff"))
        #expect(GitControlPlane.render([]) == [])
    }
}

/// Git's discovery, not only `.git`: a broken HEAD hands the repository role elsewhere, and a
/// directory laid out like a bare repository is one (round-2 red-team findings G1, G2).
@Suite("Git control plane: discovery")
struct GitDiscoveryTests {
    @Test func aBrokenHeadAndABareLayoutAreReported() throws {
        let base = try Fixture.tempDir("git-bare")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(GitRepoFixture.git))
        p.arguments = ["init", "-q", base]
        try p.run()
        p.waitUntilExit()
        let before = try GitControlPlane.snapshot(workspace: base)
        #expect(before.inspect() == [])
        // The agent breaks .git/HEAD and lays out a bare repository in the workspace root.
        try "garbage\n".write(toFile: base + "/.git/HEAD", atomically: false, encoding: .utf8)
        #expect(before.inspect().contains { $0.kind == .repository && $0.displayPath == ".git/HEAD" })
        try "ref: refs/heads/master\n".write(toFile: base + "/.git/HEAD", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: base + "/src/objects", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/src/refs", withIntermediateDirectories: true)
        try "ref: refs/heads/master\n".write(toFile: base + "/src/HEAD", atomically: false, encoding: .utf8)
        try "[core]\n\tfsmonitor = touch PWNED\n".write(toFile: base + "/src/config", atomically: false, encoding: .utf8)
        #expect(before.inspect().summary == ["repository src"])
        // The same layout in the workspace root, beside a valid .git.
        try FileManager.default.removeItem(atPath: base + "/src")
        try FileManager.default.createDirectory(atPath: base + "/objects", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/refs", withIntermediateDirectories: true)
        try "ref: refs/heads/master\n".write(toFile: base + "/HEAD", atomically: false, encoding: .utf8)
        try "[core]\n\tfsmonitor = touch PWNED\n".write(toFile: base + "/config", atomically: false, encoding: .utf8)
        #expect(before.inspect().contains { $0.kind == .repository }, "\(before.inspect().summary)")
        // Round 3: HEAD removed or a directory; the bare layout made of links (git follows them).
        try FileManager.default.removeItem(atPath: base + "/HEAD")
        try FileManager.default.removeItem(atPath: base + "/objects")
        try FileManager.default.removeItem(atPath: base + "/refs")
        try FileManager.default.removeItem(atPath: base + "/config")
        #expect(before.inspect() == [])
        try FileManager.default.removeItem(atPath: base + "/.git/HEAD")
        #expect(before.inspect().contains { $0.kind == .repository && $0.displayPath == ".git/HEAD" })
        try FileManager.default.createDirectory(atPath: base + "/.git/HEAD", withIntermediateDirectories: false)
        #expect(before.inspect().contains { $0.kind == .repository && $0.displayPath == ".git/HEAD" })
        try FileManager.default.removeItem(atPath: base + "/.git/HEAD")
        try "ref: refs/heads/master\n".write(toFile: base + "/.git/HEAD", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: base + "/lib", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: base + "/lib/HEAD", withDestinationPath: "refs/heads/master")
        try FileManager.default.createSymbolicLink(atPath: base + "/lib/objects", withDestinationPath: "../.git/objects")
        try FileManager.default.createSymbolicLink(atPath: base + "/lib/refs", withDestinationPath: "../.git/refs")
        try "[core]\n\r\tfsmonitor = touch PWNED\n".write(toFile: base + "/lib/config", atomically: false, encoding: .utf8)
        #expect(before.inspect().summary.contains("repository lib"), "\(before.inspect().summary)")
        #expect(GitTreeScanner.isValidHead(Array("ref: refs/heads/main\n".utf8)))
        #expect(GitTreeScanner.isValidHead(Array((String(repeating: "a", count: 40) + "\n").utf8)))
        #expect(!GitTreeScanner.isValidHead(Array("ref: HEAD\n".utf8)))
    }
}
