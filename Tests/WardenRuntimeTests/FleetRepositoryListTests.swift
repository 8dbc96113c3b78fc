import Foundation
import Testing
@testable import WardenRuntime

/// The fleet's repository list and the workspace snapshot behind its change counts.
@Suite struct FleetRepositoryListTests {
    @Test func entriesAreClassifiedAndCredentialsRedacted() throws {
        let list = try FleetRepositoryList.parse("""
          # comment
        /srv/a
        rel/b\t
        https://user:tok@example.com/acme/app.git
        git@example.com:acme/lib.git
        file:///srv/bare.git

        """, baseDirectory: "/work/")
        #expect(list.map(\.source) == [
            .localPath("/srv/a"), .localPath("/work/rel/b"), .gitURL("https://user:tok@example.com/acme/app.git"),
            .gitURL("git@example.com:acme/lib.git"), .gitURL("file:///srv/bare.git"),
        ])
        #expect(list.map(\.name) == ["/srv/a", "rel/b", "https://example.com/acme/app.git", "git@example.com:acme/lib.git", "file:///srv/bare.git"])
        #expect(list.map(\.line) == [2, 3, 4, 5, 6])
        #expect(FleetRepositoryList.redacted("ssh://git@example.com/x@y") == "ssh://example.com/x@y")
        #expect(FleetRepositoryList.redacted("/a@b") == "/a@b")
    }

    @Test func hostileListsAreRefused() {
        for (text, reason) in [("ext::sh -c x", "remote helpers"), ("fd::3", "remote helpers"), ("foo://x", "unsupported URL scheme"),
                               ("-oProxyCommand=x", "start with '-'"), ("a\u{7F}", "control"), ("a\nb\na", "repeats line 1"), ("", "no repository")] {
            #expect(throws: FleetListError.self, "\(text.debugDescription)") { try FleetRepositoryList.parse(text, baseDirectory: "/") }
            do { _ = try FleetRepositoryList.parse(text, baseDirectory: "/") } catch {
                #expect(error.description.contains(reason), "\(text.debugDescription): \(error)")
            }
        }
        let many = (0...FleetRepositoryList.maxEntries).map { "/r\($0)" }.joined(separator: "\n")
        #expect(throws: FleetListError.self) { try FleetRepositoryList.parse(many, baseDirectory: "/") }
    }

    @Test func theSnapshotSeesEveryChangeAndFollowsNothing() throws {
        let dir = NSTemporaryDirectory() + "warden-snap-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/sub/deep", withIntermediateDirectories: true)
        for f in ["a", "sub/b", "sub/deep/c", ".git/config"] { try "x".write(toFile: dir + "/" + f, atomically: false, encoding: .utf8) }
        try fm.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "/etc")
        let before = try #require(WorkspaceSnapshot.take(dir))
        #expect(before.complete)
        usleep(20_000)
        try "y".write(toFile: dir + "/sub/deep/c", atomically: false, encoding: .utf8)
        try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: dir + "/sub/deep/c")
        try "z".write(toFile: dir + "/.git/config", atomically: false, encoding: .utf8)
        try fm.removeItem(atPath: dir + "/link")
        try fm.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "/usr")
        let after = try #require(WorkspaceSnapshot.take(dir))
        let changes = before.changes(to: after)
        #expect(changes.paths == ["link", "sub/deep/c"], "\(changes)")
        #expect(changes.modified == 2 && changes.added == 0 && changes.removed == 0)
        #expect(WorkspaceSnapshot.take(dir + "/link") == nil, "a link is not walked into")
    }
}
