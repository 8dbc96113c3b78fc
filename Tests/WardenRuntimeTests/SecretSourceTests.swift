import Foundation
import Testing
@testable import WardenRuntime

/// Secret sources at launch: each refusal names the secret and the source, never the value.
@Suite struct SecretSourceTests {
    static let value = "s3cr3t-VALUE_123"

    func file(_ dir: String, _ name: String = "secret", content: String = value + "\n", mode: Int = 0o600) throws -> String {
        let path = dir + "/" + name
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func refusal(_ source: SecretSourceSpec, env: [String: String] = [:], timeout: Duration = .seconds(30)) -> SecretError? {
        do {
            _ = try SecretSource.resolve(source, secret: "gh-token", environment: env, timeout: timeout)
            return nil
        } catch { return error }
    }

    /// The error names secret and source and does not contain the value.
    func expectRefused(_ source: SecretSourceSpec, env: [String: String] = [:], timeout: Duration = .seconds(30),
                       saying reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = refusal(source, env: env, timeout: timeout) else {
            Issue.record("resolved, expected a refusal (\(reason))", sourceLocation: sourceLocation)
            return
        }
        #expect(error.description.contains("secret gh-token (from \(source))"), sourceLocation: sourceLocation)
        #expect(error.reason.contains(reason), "\(error.reason)", sourceLocation: sourceLocation)
        #expect(!error.description.contains(Self.value), sourceLocation: sourceLocation)
    }

    @Test func envSource() throws {
        #expect(try SecretSource.resolve(.env("TOK"), secret: "t", environment: ["TOK": Self.value]) == Array(Self.value.utf8))
        expectRefused(.env("TOK"), saying: "not set")
        expectRefused(.env("TOK"), env: ["TOK": ""], saying: "empty")
        expectRefused(.env("TOK"), env: ["TOK": "a b"], saying: "a space")
    }

    @Test func fileSource() throws {
        let dir = try Fixture.tempDir("secret")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One trailing newline is trimmed.
        #expect(try SecretSource.resolve(.file(try file(dir)), secret: "t", environment: [:]) == Array(Self.value.utf8))
        expectRefused(.file(try file(dir, "group", mode: 0o640)), saying: "must not be accessible to group or others")
        expectRefused(.file(try file(dir, "other", mode: 0o604)), saying: "must not be accessible to group or others")
        let target = try file(dir, "target")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: target)
        expectRefused(.file(dir + "/link"), saying: "symbolic link")
        expectRefused(.file(dir + "/missing"), saying: "cannot read it")
        expectRefused(.file(dir), saying: "not a regular file")
        expectRefused(.file("relative/path"), saying: "not absolute")
        expectRefused(.file(try file(dir, "big", content: String(repeating: "a", count: 64 * 1024 + 2))), saying: "larger than")
        expectRefused(.file(try file(dir, "inner", content: "abc\ndef\n")), saying: "a line break")
        expectRefused(.file(try file(dir, "two", content: Self.value + "\n\n")), saying: "a line break")
        expectRefused(.file(try file(dir, "empty", content: "")), saying: "empty")
        expectRefused(.file(try file(dir, "utf8", content: "é")), saying: "outside printable ASCII")
        // A FIFO does not block the launch.
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        expectRefused(.file(dir + "/fifo"), saying: "not a regular file")
    }

    @Test func commandSource() throws {
        #expect(try SecretSource.resolve(.command(["/bin/echo", Self.value]), secret: "t", environment: [:]) == Array(Self.value.utf8))
        // No shell: the arguments are passed as they are.
        #expect(try SecretSource.resolve(.command(["/bin/echo", "$HOME;x"]), secret: "t", environment: [:]) == Array("$HOME;x".utf8))
        // stdin is /dev/null (cat ends at once, empty).
        expectRefused(.command(["/bin/cat"]), saying: "empty")
        expectRefused(.command(["/bin/sh", "-c", "echo 'mint: 403 \u{1b}[31mforbidden' >&2; exit 3"]), saying: "exited with status 3")
        if let e = refusal(.command(["/bin/sh", "-c", "echo 'mint: \u{1b}[31mforbidden' >&2; exit 3"])) {
            #expect(e.reason.contains("stderr: \"mint: \\x1b[31mforbidden\""), "stderr kept, escaped: \(e.reason)")
        }
        expectRefused(.command(["/bin/sh", "-c", "printf 'abc\\ndef'"]), saying: "a line break")
        expectRefused(.command(["/bin/sh", "-c", "kill -9 $$"]), saying: "killed by signal 9")
        expectRefused(.command(["/bin/sh", "-c", "head -c 70000 /dev/zero | tr '\\0' a"]), saying: "more than 65536 bytes")
        expectRefused(.command(["/nonexistent/mint"]), saying: "cannot start")
        expectRefused(.command(["sh", "-c", "echo x"]), saying: "absolute")
    }

    @Test func aHangingCommandIsKilledWithItsChildren() throws {
        let started = ContinuousClock.now
        // The grandchild keeps stdout open: the timeout still ends the wait.
        expectRefused(.command(["/bin/sh", "-c", "sleep 30 & sleep 30"]), timeout: .milliseconds(500), saying: "did not finish within")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func commandSeesNoExtraDescriptors() throws {
        // A descriptor Warden holds without close-on-exec is not inherited.
        // Far above what `ls` opens for itself (its listing of /proc/self/fd is fd 3).
        let opened = open("/dev/null", O_RDONLY)
        let fd = dup2(opened, 987)
        close(opened)
        #expect(fd == 987)
        defer { close(fd) }
        let listing = try SecretSource.resolve(.command(["/bin/sh", "-c", "ls /proc/self/fd | tr '\\n' ,"]), secret: "t", environment: [:])
        let fds = String(decoding: listing, as: UTF8.self).split(separator: ",").compactMap { Int32($0) }
        #expect(!fds.contains(fd), "\(fds)")
    }

    @Test func placeholders() {
        let a = Placeholder.generate(), b = Placeholder.generate()
        #expect(a != b)
        #expect(a.hasPrefix("wdn_ph_") && a.count == 7 + 32)
        #expect(a.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }
}

/// The git facts a run's token carries, read from the workspace without running git.
@Suite struct WorkspaceGitFactsTests {
    @Test func remoteURLsLoseTheirCredentials() {
        let cases: [(String, String?)] = [
            ("https://x-access-token:ghs_abc@github.com/acme/app.git", "https://github.com/acme/app.git"),
            ("https://github.com/acme/app.git", "https://github.com/acme/app.git"),
            ("https://u@h/p?token=abc#frag", "https://h/p"),
            ("ssh://git@github.com:22/acme/app.git", "ssh://github.com:22/acme/app.git"),
            ("git@github.com:acme/app.git", "github.com:acme/app.git"),
            ("/srv/git/app.git", "/srv/git/app.git"),
            ("https://h/a b", nil),
            ("https://h/\u{1b}[2J", nil),
            ("", nil),
        ]
        for (input, expected) in cases {
            #expect(WorkspaceGitFacts.sanitizedRemote(Array(input.utf8)) == expected, "\(input)")
        }
    }

    @Test func headIsResolvedFromLooseAndPackedRefs() throws {
        let ws = try Fixture.tempDir("gitfacts")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let git = ws + "/.git"
        try FileManager.default.createDirectory(atPath: git + "/refs/heads", withIntermediateDirectories: true)
        let id = String(repeating: "ab", count: 20)
        try "[remote \"origin\"]\n\turl = https://tok@example.com/r.git\n".write(toFile: git + "/config", atomically: false, encoding: .utf8)
        try "ref: refs/heads/main\n".write(toFile: git + "/HEAD", atomically: false, encoding: .utf8)
        try "# pack-refs with: peeled\n\(id) refs/heads/main\n".write(toFile: git + "/packed-refs", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws) == WorkspaceGitFacts(repository: "https://example.com/r.git", commit: id))
        let loose = String(repeating: "cd", count: 20)
        try (loose + "\n").write(toFile: git + "/refs/heads/main", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws).commit == loose)
        // A ref that is a link (to a file the operator can read) is not followed.
        try FileManager.default.removeItem(atPath: git + "/refs/heads/main")
        try FileManager.default.createSymbolicLink(atPath: git + "/refs/heads/main", withDestinationPath: "/etc/hostname")
        #expect(WorkspaceGitFacts.read(workspace: ws).commit == id, "falls back to packed-refs, the link is not read")
        // HEAD naming a path outside refs/ is ignored.
        try "ref: ../../etc/passwd\n".write(toFile: git + "/HEAD", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws).commit == nil)
        try "ref: refs/../../x\n".write(toFile: git + "/HEAD", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws).commit == nil)
        // Detached HEAD.
        try (id + "\n").write(toFile: git + "/HEAD", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws).commit == id)
    }

    @Test func aGitFileOrLinkIsNotFollowed() throws {
        let ws = try Fixture.tempDir("gitfacts")
        let other = try Fixture.tempDir("gitfacts-other")
        defer {
            try? FileManager.default.removeItem(atPath: ws)
            try? FileManager.default.removeItem(atPath: other)
        }
        try FileManager.default.createDirectory(atPath: other + "/.git", withIntermediateDirectories: true)
        try "[remote \"origin\"]\nurl = https://elsewhere/r\n".write(toFile: other + "/.git/config", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: ws + "/.git", withDestinationPath: other + "/.git")
        #expect(WorkspaceGitFacts.read(workspace: ws) == WorkspaceGitFacts())
        try FileManager.default.removeItem(atPath: ws + "/.git")
        try "gitdir: \(other)/.git\n".write(toFile: ws + "/.git", atomically: false, encoding: .utf8)
        #expect(WorkspaceGitFacts.read(workspace: ws) == WorkspaceGitFacts())
        // A config that is a link is not read.
        try FileManager.default.removeItem(atPath: ws + "/.git")
        try FileManager.default.createDirectory(atPath: ws + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: ws + "/.git/config", withDestinationPath: other + "/.git/config")
        #expect(WorkspaceGitFacts.read(workspace: ws).repository == nil)
    }
}

/// The paths a secret command names, checked against what the agent may write (red team:
/// a script named inside `sh -c` was not seen; a relative one would resolve in Warden's
/// working directory, often the workspace, before commands ran in `/`).
@Suite struct SecretCommandPathTests {
    @Test func absolutePathsInsideShellStringsAreFound() {
        let paths = RunBroker.commandPaths(["/bin/sh", "-c", "cd /srv/ws && ./mint.sh --out=/tmp/x|tee /var/log/y"])
        #expect(paths.contains("/bin/sh"))
        #expect(paths.contains("/srv/ws"))
        #expect(paths.contains("/./mint.sh"))
        #expect(paths.contains("/tmp/x"))
        #expect(paths.contains("/var/log/y"))
    }

    @Test func relativeArgumentsResolveAgainstTheRoot() {
        #expect(RunBroker.commandPaths(["/usr/bin/python3", "tools/mint.py"]) == ["/usr/bin/python3", "/tools/mint.py"])
        #expect(RunBroker.commandPaths(["/usr/bin/vault", "read", "secret"]) == ["/usr/bin/vault"])
    }

    @Test func theCommandRunsInTheRoot() throws {
        let out = try SecretSource.resolve(.command(["/bin/sh", "-c", "pwd"]), secret: "t", environment: [:])
        #expect(String(decoding: out, as: UTF8.self) == "/")
    }
}
