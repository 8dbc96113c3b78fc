import Foundation
import Testing
@testable import WardenRuntime

/// Trees an agent can leave to break a root process that walks them: links that point out
/// of the workspace or in circles, names that are not UTF-8, width and depth beyond the
/// limits. The walk must stay inside, terminate, and say what it did not check.
@Suite("Git control plane: hostile trees")
struct GitControlPlaneHostileTreeTests {
    @Test func gitSymlinkToEtcIsReportedAndNeverFollowed() throws {
        let repo = try GitRepoFixture("etc")
        defer { repo.remove() }
        let before = try repo.snapshot()
        try FileManager.default.removeItem(atPath: repo.workspace + "/.git")
        try FileManager.default.createSymbolicLink(atPath: repo.workspace + "/.git", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: repo.workspace + "/sub", withDestinationPath: "/usr")
        let findings = before.inspect()
        #expect(findings.summary == ["symlink .git"])
        #expect(findings.first { $0.kind == .symlink }?.reason.contains("/etc") == true)
        // Nothing under /etc or /usr was walked: the only records are the link and what is gone.
        let after = try repo.snapshot()
        #expect(after.scan.records.keys.map { String(decoding: $0, as: UTF8.self) } == [".git"])
        #expect(after.scan.gitDirs.isEmpty)
    }

    @Test func symlinksInsideGitThatLeadOutAreReported() throws {
        let repo = try GitRepoFixture("links")
        defer { repo.remove() }
        let before = try repo.snapshot()
        let git = repo.workspace + "/.git"
        try FileManager.default.createSymbolicLink(atPath: git + "/refs/heads/evil", withDestinationPath: "/etc/shadow")
        try FileManager.default.createSymbolicLink(atPath: git + "/refs/heads/fine", withDestinationPath: "main")
        try FileManager.default.removeItem(atPath: git + "/hooks")
        try FileManager.default.createSymbolicLink(atPath: git + "/hooks", withDestinationPath: "../../outside-hooks")
        try FileManager.default.removeItem(atPath: git + "/config")
        try FileManager.default.createSymbolicLink(atPath: git + "/config", withDestinationPath: "/etc/passwd")
        let findings = before.inspect()
        #expect(findings.summary == ["symlink .git/config", "symlink .git/hooks", "symlink .git/refs/heads/evil"])
        #expect(findings.allSatisfy { !$0.reason.contains("root:") })  // the link is reported, never read
    }

    @Test func symlinkLoopsTerminate() throws {
        let repo = try GitRepoFixture("loops")
        defer { repo.remove() }
        let fm = FileManager.default
        try fm.createDirectory(atPath: repo.workspace + "/a", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: repo.workspace + "/a/b", withDestinationPath: "../a")
        try fm.createSymbolicLink(atPath: repo.workspace + "/self", withDestinationPath: "self")
        let before = try repo.snapshot()
        try fm.createSymbolicLink(atPath: repo.workspace + "/.git/hooks/loop", withDestinationPath: "loop")
        try fm.createSymbolicLink(atPath: repo.workspace + "/.git/refs/heads/x", withDestinationPath: "y")
        try fm.createSymbolicLink(atPath: repo.workspace + "/.git/refs/heads/y", withDestinationPath: "x")
        try repo.write(".git/commondir", "commondir/../../.git/commondir\n")
        let findings = before.inspect()
        #expect(findings.summary == ["commondir .git/commondir", "symlink .git/hooks/loop"], "\(findings.summary)")
        #expect(findings == before.inspect())  // deterministic
    }

    @Test func nonUTF8AndControlCharacterNamesAreFoundAndEscaped() throws {
        let repo = try GitRepoFixture("bytes")
        defer { repo.remove() }
        let before = try repo.snapshot()
        let hookName: [UInt8] = [0xFF, 0x1B] + Array("[31mpre-commit".utf8)
        #expect(makeRawEntry(in: repo.workspace + "/.git/hooks", name: hookName, directory: false, content: Array("#!/bin/sh\n".utf8)))
        let dirName: [UInt8] = [0xC3, 0x28, 0x0A]  // invalid UTF-8 and a newline
        #expect(makeRawEntry(in: repo.workspace, name: dirName, directory: true))
        let fd = open(repo.workspace, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        var cname = dirName.map { CChar(bitPattern: $0) } + [0]
        let sub = openat(fd, &cname, O_RDONLY | O_DIRECTORY)
        defer { close(sub) }
        let gitFD = openat(sub, ".git", O_WRONLY | O_CREAT, 0o644)
        #expect(gitFD >= 0)
        _ = "gitdir: /x\n".withCString { Glibc.write(gitFD, $0, 11) }
        close(gitFD)
        let findings = before.inspect()
        #expect(findings.map(\.path) == [Array(".git/hooks/".utf8) + hookName, dirName + Array("/.git".utf8)])
        #expect(findings.map(\.displayPath) == [".git/hooks/\\xff\\x1b[31mpre-commit", "\\xc3(\\n/.git"])
        for line in GitControlPlane.render(findings) {
            #expect(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "raw control byte in \(line)")
        }
    }

    @Test func tenThousandFilesAreWalkedWithinTheLimitsAndBeyondThemReported() throws {
        let repo = try GitRepoFixture("wide", fast: true)
        defer { repo.remove() }
        for d in 0..<100 {
            let dir = repo.workspace + "/gen/d\(d)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in 0..<100 {
                let fd = open(dir + "/f\(f)", O_WRONLY | O_CREAT, 0o644)
                #expect(fd >= 0)
                close(fd)
            }
        }
        let before = try repo.snapshot()
        try repo.write("gen/d99/sub/.git", "gitdir: /x\n")
        #expect(before.inspect().summary == ["gitfile gen/d99/sub/.git"])
        let small = try repo.snapshot(.init(maxEntries: 500))
        let findings = small.inspect()
        #expect(findings.map(\.kind) == [.limit], "\(findings.summary)")
        #expect(findings.first?.reason.contains("more than 500 directory entries") == true)
    }

    @Test func depthBeyondTheLimitIsReported() throws {
        let repo = try GitRepoFixture("deep")
        defer { repo.remove() }
        var path = repo.workspace
        for _ in 0..<40 { path += "/d" }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let before = try repo.snapshot(.init(maxDepth: 30))
        let findings = before.inspect()
        #expect(findings.map(\.kind) == [.limit])
        #expect(findings.first?.displayPath == Array(repeating: "d", count: 31).joined(separator: "/"))
    }

    @Test func specialFilesAreNeverReadAndNeverBlock() throws {
        let repo = try GitRepoFixture("fifo")
        defer { repo.remove() }
        try FileManager.default.removeItem(atPath: repo.workspace + "/.git/config")
        #expect(mkfifo(repo.workspace + "/.git/config", 0o644) == 0)  // opening it for reading would block
        let before = try repo.snapshot()
        #expect(before.inspect() == [])
        #expect(mkfifo(repo.workspace + "/.git/hooks/pre-commit", 0o755) == 0)
        try FileManager.default.removeItem(atPath: repo.workspace + "/.git/config")
        try repo.write(".git/config", "[core]\n\tfsmonitor = x\n")
        #expect(before.inspect().summary == ["config .git/config", "hook .git/hooks/pre-commit"])
    }

    @Test func oversizedConfigIsComparedByMetadata() throws {
        let repo = try GitRepoFixture("big")
        defer { repo.remove() }
        try repo.write(".git/config", "[core]\n\tbare = false\n" + String(repeating: "# padding\n", count: 1000))
        let limits = GitControlPlane.Limits(maxFileBytes: 1024)
        let before = try repo.snapshot(limits)
        #expect(before.inspect() == [])
        try repo.write(".git/config", "[core]\n\tfsmonitor = x\n" + String(repeating: "# padding\n", count: 1000))
        #expect(before.inspect().summary == ["config .git/config"])
    }
}

/// The display form and the config reading, on their own.
@Suite("Git control plane: bytes and config text")
struct GitControlPlaneTextTests {
    @Test func displayEscapesWhatATerminalWouldInterpret() {
        #expect(GitPathBytes.display(Array("plain/path-1.txt".utf8)) == "plain/path-1.txt")
        #expect(GitPathBytes.display(Array("caf\u{E9}".utf8)) == "caf\u{E9}")
        #expect(GitPathBytes.display(Array("a\u{202E}b".utf8)) == "a\\xe2\\x80\\xaeb")  // bidi override
        #expect(GitPathBytes.display(Array("\u{1B}]0;x\u{07}\\".utf8)) == "\\x1b]0;x\\x07\\\\")
        #expect(GitPathBytes.display([0xC0, 0x80, 0xED, 0xA0, 0x80]) == "\\xc0\\x80\\xed\\xa0\\x80")  // overlong, surrogate
        #expect(GitPathBytes.display([0x7F, 0x0D, 0x09]) == "\\x7f\\r\\t")
    }

    @Test func lexicalResolutionNeverClimbsAboveTheRoot() {
        let base = GitPathBytes.components(Array("/w/.git/worktrees/x".utf8))
        #expect(GitPathBytes.absolute(GitPathBytes.resolve(Array("../..".utf8), from: base)) == Array("/w/.git".utf8))
        #expect(GitPathBytes.absolute(GitPathBytes.resolve(Array("../../../../../../etc".utf8), from: base)) == Array("/etc".utf8))
        #expect(GitPathBytes.absolute(GitPathBytes.resolve(Array("/a/./b//c/..".utf8), from: base)) == Array("/a/b".utf8))
    }

    @Test func configKeysAreReadAsGitNamesThem() {
        let text = """
        [core]
        \tFSMonitor = "/x/y" # comment
        [filter "Evil.One"]
        \tsmudge = sh -c \\
        \t  "evil"
        [includeIf "gitdir:/w/"]
        \tpath = ../x
        [alias] st = !sh
        ; comment
        """
        let config = GitConfigText(Array(text.utf8))
        #expect(config.settings.map(\.key) == ["core.fsmonitor", "filter.Evil.One.smudge", "includeif.gitdir:/w/.path", "alias.st"])
        #expect(config.values("core.fsmonitor") == [Array("/x/y".utf8)])
        #expect(config.settings.map(\.key).allSatisfy(GitConfigText.isDangerous))
        #expect(!GitConfigText.isDangerous("user.name"))
        #expect(!GitConfigText.isDangerous("core.bare"))
    }
}
