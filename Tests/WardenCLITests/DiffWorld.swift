import Foundation
import Testing

/// A temporary directory of policy versions for `warden diff` tests; warden runs in it, so
/// file names in the output are the relative paths written here.
struct DiffWorld {
    let dir: String

    init() throws { dir = try WardenBinary.tempDir("diff") }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes `text` to `relative` (creating directories).
    func write(_ relative: String, _ text: String) throws {
        let path = dir + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func delete(_ relative: String) throws { try FileManager.default.removeItem(atPath: dir + "/" + relative) }

    /// Copies the stock policies to `relative`.
    func copyStockPolicies(to relative: String) throws {
        try FileManager.default.copyItem(atPath: WardenBinary.root + "/policies", toPath: dir + "/" + relative)
    }

    func read(_ relative: String) throws -> String { try String(contentsOfFile: dir + "/" + relative, encoding: .utf8) }

    /// `warden diff ARGUMENTS` in the world's directory.
    func diff(_ arguments: [String]) throws -> WardenBinary.Result? {
        try WardenBinary.run(["diff"] + arguments, in: dir)
    }

    /// `git ARGUMENTS` in the world's directory (a fixed author, no user configuration).
    @discardableResult
    func git(_ arguments: [String]) throws -> WardenBinary.Result {
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "GIT_CONFIG_NOSYSTEM": "1",
                   "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"]
        let r = try CLISupport.run("/usr/bin/git", arguments, in: dir, environment: env)
        #expect(r.status == 0, "git \(arguments.joined(separator: " ")): \(r.stderr)")
        return r
    }

    /// Commits everything in the world.
    func commit(_ message: String) throws {
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message])
    }
}

/// Small policies for the diff tests, each line deliberate (the golden outputs name lines).
enum DiffPolicies {
    /// Two identities sharing a permission set, a third one without it.
    static let v1 = """
    warden 1

    permissions tools {
      allow fs read, exec "/usr"
    }

    identity builder {
      use tools
      allow fs read, write "${workspace}"
      limit processes 64
      env pass PATH
    }

    identity reader {
      use tools
      allow fs read "${workspace}"
    }

    identity solo {
      allow fs read "/etc/hostname"
    }

    """
}
