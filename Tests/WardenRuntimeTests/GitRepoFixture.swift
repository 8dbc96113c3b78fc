import Foundation
import Testing
@testable import WardenRuntime

/// A real repository made with the host's git in a fresh temporary directory, for the
/// control-plane tests. Git runs with an empty HOME and no system config, so only what a test
/// writes into the repository is in effect.
struct GitRepoFixture {
    /// The temporary directory holding everything (the workspace, a fake HOME, markers).
    let base: String
    /// The repository's work tree: the workspace.
    let workspace: String

    static let git = ["/usr/bin/git", "/bin/git", "/usr/local/bin/git"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A repository with one commit, in a fresh directory under the system's temporary
    /// directory, or in tmpfs (`/dev/shm`) when `fast` (creating thousands of files on a busy
    /// ext4 takes seconds).
    init(_ tag: String, fast: Bool = false) throws {
        if fast, access("/dev/shm", W_OK) == 0 {
            base = "/dev/shm/warden-git-\(tag)-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        } else {
            base = try Fixture.tempDir("git-\(tag)")
        }
        workspace = base + "/ws"
        try FileManager.default.createDirectory(atPath: base + "/home", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        try write("README", "hello\n")
        try git("add", "README")
        try git("commit", "-q", "-m", "first")
    }

    /// Runs git in `dir` (the workspace by default); throws when it fails.
    @discardableResult
    func git(_ args: String..., in dir: String? = nil, allowFailure: Bool = false) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.git))
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir ?? workspace)
        p.environment = [
            "HOME": base + "/home", "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        ]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        if !allowFailure, p.terminationStatus != 0 {
            Issue.record("git \(args.joined(separator: " ")) failed: \(out)")
            throw CocoaError(.fileReadUnknown)
        }
        return out
    }

    /// Writes `text` to `path` relative to the workspace (directories created), with `mode`.
    func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        let full = workspace + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }

    /// A shell script that creates `marker` when run: the proof that git ran agent code.
    func plantMarkerScript(_ path: String, marker: String) throws {
        try write(path, "#!/bin/sh\ntouch '\(marker)'\nexit 1\n", mode: 0o755)
    }

    func exists(_ absolute: String) -> Bool { FileManager.default.fileExists(atPath: absolute) }

    func remove() { try? FileManager.default.removeItem(atPath: base) }

    func snapshot(_ limits: GitControlPlane.Limits = .standard) throws -> GitControlPlane.Snapshot {
        try GitControlPlane.snapshot(workspace: workspace, limits: limits)
    }
}

extension Array where Element == GitControlPlane.Finding {
    /// The findings as `kind path` strings, for compact expectations.
    var summary: [String] { map { "\($0.kind.rawValue) \($0.displayPath)" } }

    func contains(_ kind: GitControlPlane.Kind, _ path: String) -> Bool {
        contains { $0.kind == kind && $0.displayPath == path }
    }
}

/// Creates a file or directory whose name is raw bytes (not necessarily UTF-8) in `dir`.
func makeRawEntry(in dir: String, name: [UInt8], directory: Bool, content: [UInt8] = []) -> Bool {
    let dirFD = open(dir, O_RDONLY | O_DIRECTORY)
    guard dirFD >= 0 else { return false }
    defer { close(dirFD) }
    var cname = name.map { CChar(bitPattern: $0) }
    cname.append(0)
    if directory { return mkdirat(dirFD, cname, 0o755) == 0 }
    let fd = openat(dirFD, cname, O_WRONLY | O_CREAT | O_TRUNC, 0o755)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == content.count
}
