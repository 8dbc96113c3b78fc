import Foundation
import Testing
@testable import WardenRuntime

/// The paths a review commit is made of: `.git` components left out, `..` never written
/// under a directory, every byte carried into fast-import's quoting; and `WorkspaceEntry`
/// reads without following links.
@Suite struct ReviewPathsTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func gitComponentsInAnyCaseAreFound() {
        for p in [".git", "a/.git/config", "a/.GIT/HEAD", "x/.Git", ".gIt/y"] { #expect(ReviewPaths.hasGitComponent(Self.bytes(p)), "\(p)") }
        for p in [".gitignore", "a/.github/x", "git", "a/b.git", ".gi"] { #expect(!ReviewPaths.hasGitComponent(Self.bytes(p)), "\(p)") }
    }

    @Test func onlyPlainRelativePathsAreWritable() {
        for p in ["a", "a/b/.gitignore", "...", "a/..b", ".x/y"] { #expect(ReviewPaths.isPlainRelative(Self.bytes(p)), "\(p)") }
        for p in ["", "..", ".", "../x", "a/../b", "a//b", "/a", "a/", "a/./b"] { #expect(!ReviewPaths.isPlainRelative(Self.bytes(p)), "\(p)") }
    }

    @Test func fastImportQuotingCarriesEveryByte() {
        #expect(ReviewPaths.fastImportQuoted(Self.bytes("a b/c.txt")) == Self.bytes("\"a b/c.txt\""))
        #expect(ReviewPaths.fastImportQuoted(Self.bytes("q\"\\")) == Self.bytes("\"q\\\"\\\\\""))
        #expect(ReviewPaths.fastImportQuoted([0x6E, 0x0A, 0x7F, 0xFF, 0xC3, 0xA9]) == Self.bytes("\"n\\012\\177\\377\\303\\251\""))
    }

    @Test func workspaceEntriesAreReadWithoutFollowingLinks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("review-entry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "secret".write(toFile: dir + "/outside", atomically: true, encoding: .utf8)
        try "hi".write(toFile: dir + "/real/file", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/real/link", withDestinationPath: dir + "/outside")
        try FileManager.default.createSymbolicLink(atPath: dir + "/real/dirlink", withDestinationPath: dir)
        #expect(mkfifo(dir + "/real/fifo", 0o600) == 0)
        let root = dir + "/real"
        #expect(WorkspaceEntry.read(root: root, path: Self.bytes("file"), limit: 100) == .file(Self.bytes("hi"), executable: false))
        #expect(WorkspaceEntry.read(root: root, path: Self.bytes("link"), limit: 100) == .symlink(Self.bytes(dir + "/outside")))
        // Through a link to a directory: refused, never read.
        guard case .skipped = WorkspaceEntry.read(root: root, path: Self.bytes("dirlink/outside"), limit: 100) else {
            Issue.record("a path through a link was followed")
            return
        }
        #expect(WorkspaceEntry.read(root: root, path: Self.bytes("fifo"), limit: 100) == .skipped("a FIFO"))
        guard case .skipped(let why) = WorkspaceEntry.read(root: root, path: Self.bytes("file"), limit: 1) else {
            Issue.record("a file over the limit was read")
            return
        }
        #expect(why.contains("limit"))
        guard case .skipped = WorkspaceEntry.read(root: root, path: Self.bytes("../outside"), limit: 100) else {
            Issue.record("a path out of the root was read")
            return
        }
    }
}
