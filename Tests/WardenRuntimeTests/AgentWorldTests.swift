import Foundation
import Testing
import WardenPolicy
@testable import WardenRuntime

/// The agent's world as a mount plan: exactly the grants, nothing scanned on the host.
@Suite("The agent's world, built from its grants")
struct AgentWorldTests {
    @Test func grantsBecomeBindsWithTheirAccessAndLinksOnTheWayAreRecreated() throws {
        let dir = try Fixture.tempDir("world")
        try FileManager.default.createDirectory(atPath: dir + "/real/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "real")
        let tmp = try Fixture.tempDir("world-tmp")
        let world = try AgentWorld(grants: [(dir + "/link/sub", [.read, .exec]), ("/tmp", [.read, .write]),
                                        (dir + "/missing", [.read])], hostTmp: tmp)
        let ops = world.mounts()
        #expect(ops.contains(.grant(path: dir + "/real/sub", source: dir + "/real/sub", writable: false, exec: true)))
        #expect(ops.contains(.symlink(path: dir + "/link", target: "real")))
        // The run's directory is the agent's /tmp; a grant that does not exist is not there.
        #expect(ops.contains(.grant(path: "/tmp", source: tmp, writable: true, exec: false)))
        #expect(!ops.contains { $0.path.hasPrefix(dir + "/missing") })
        #expect(ops.contains(.proc()))
        #expect(world.hostPath("/tmp/x") == tmp + "/x")
        #expect(world.agentPath(ofHost: tmp + "/x") == "/tmp/x")
        #expect(world.agentPath(ofHost: "/etc/passwd") == nil, "an ungranted host path is not in the world")
    }

    @Test func aGrantThroughALinkInsideAWritableGrantIsRefused() throws {
        // An earlier run planted `$HOME/.npm -> /etc` in a workspace holding the home.
        let ws = try Fixture.tempDir("world-plant")
        try FileManager.default.createDirectory(atPath: ws + "/home", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: ws + "/home/.npm", withDestinationPath: "/etc")
        #expect(throws: AgentLaunchError.self) {
            _ = try AgentWorld(grants: [(ws, [.read, .write]), (ws + "/home/.npm", [.read, .write])], hostTmp: nil)
        }
        // A device reached through a link is refused too.
        try FileManager.default.createSymbolicLink(atPath: ws + "/dev-link", withDestinationPath: "/dev/null")
        #expect(throws: AgentLaunchError.self) { _ = try AgentWorld(grants: [(ws + "/dev-link", [.read])], hostTmp: nil) }
    }

    @Test func aGrantInsideAnotherWithTheSameAccessIsNotBoundTwice() throws {
        let dir = try Fixture.tempDir("world-nest")
        try FileManager.default.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
        let same = try AgentWorld(grants: [(dir, [.read]), (dir + "/a/b", [.read])], hostTmp: nil).mounts()
        #expect(same.filter { if case .grant = $0 { return true } else { return false } }.count == 1)
        let wider = try AgentWorld(grants: [(dir, [.read]), (dir + "/a/b", [.read, .write])], hostTmp: nil).mounts()
        #expect(wider.contains(.grant(path: dir + "/a/b", source: dir + "/a/b", writable: true, exec: false)))
    }

    @Test func aWriteDenyOnAMissingPathGetsAPlaceholderExceptInsideAMissingRepository() throws {
        let ws = try Fixture.tempDir("world-ph")
        var world = try AgentWorld(grants: [(ws, [.read, .write])], hostTmp: nil)
        #expect(try world.protectedTarget(ws + "/.github/workflows", placeholder: true) == ws + "/.github/workflows")
        #expect(world.placeholders == [ws + "/.github/workflows"])
        // No .git yet: git init or clone by the agent must work; the post-run check covers it.
        #expect(try world.protectedTarget(ws + "/.git/hooks", placeholder: true) == nil)
        // Outside any writable grant nothing can be created, so nothing is needed.
        #expect(try world.protectedTarget("/usr/nonexistent-warden", placeholder: true) == nil)
        // A link where a protected path should be (planted by an earlier agent): refused.
        try FileManager.default.createDirectory(atPath: ws + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: ws + "/.husky", withDestinationPath: "elsewhere")
        #expect(throws: AgentLaunchError.self) { try world.protectedTarget(ws + "/.husky/pre-commit", placeholder: true) }
        // A file inside a protected directory with another name outside it: refused.
        try FileManager.default.createDirectory(atPath: ws + "/.github/workflows", withIntermediateDirectories: true)
        try "on: push\n".write(toFile: ws + "/.github/workflows/ci.yml", atomically: false, encoding: .utf8)
        #expect(try world.protectedTarget(ws + "/.github/workflows", placeholder: true) == ws + "/.github/workflows")
        try FileManager.default.linkItem(atPath: ws + "/.github/workflows/ci.yml", toPath: ws + "/ci-backup.yml")
        #expect(throws: AgentLaunchError.self) { try world.protectedTarget(ws + "/.github/workflows", placeholder: true) }
    }

    @Test func placeholdersAreCreatedWithoutFollowingLinksAndRemovedWhenEmpty() throws {
        let ws = try Fixture.tempDir("world-mk")
        let outside = try Fixture.tempDir("world-out")
        var p = Placeholders()
        try p.create([ws + "/.github/workflows", ws + "/.gitlab-ci.yml"])
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: ws + "/.github/workflows", isDirectory: &isDir) && isDir.boolValue)
        #expect(FileManager.default.fileExists(atPath: ws + "/.gitlab-ci.yml", isDirectory: &isDir) && !isDir.boolValue)
        p.remove()
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws).isEmpty)
        // A symlink planted on the way fails the creation: nothing is made outside.
        try FileManager.default.createSymbolicLink(atPath: ws + "/.circleci", withDestinationPath: outside)
        var q = Placeholders()
        #expect(throws: PlaceholderError.self) { try q.create([ws + "/.circleci/config.yml"]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    /// An earlier agent planted `.env -> "\u{301}x"` (a name starting with a combining mark):
    /// the secret later written through `.env` lands in `/ws/\u{301}x`. As Swift characters
    /// `"/ws/\u{301}x"` does not start with `"/ws/"`, and the mask found no grant for it.
    @Test func aLinkToANameStartingWithACombiningMarkIsStillMasked() throws {
        let ws = try Fixture.tempDir("world-mark")
        let real = URL(fileURLWithPath: ws).resolvingSymlinksInPath().path
        try "s3cret\n".write(toFile: ws + "/\u{301}x", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: ws + "/.env", withDestinationPath: "\u{301}x")
        var world = try AgentWorld(grants: [(ws, [.read, .write])], hostTmp: nil)
        #expect(try world.protectedTarget(real + "/.env", placeholder: false) == real + "/\u{301}x")
        #expect(world.agentPath(ofHost: real + "/\u{301}x") == real + "/\u{301}x")
        #expect(world.hostPath(real + "/\u{301}x") == real + "/\u{301}x")
        // Resolution follows the link to the name the kernel resolves, and ".." after it.
        #expect(AgentWorld.resolveRecordingLinks(ws + "/.env")?.0 == real + "/\u{301}x")
        try FileManager.default.createDirectory(atPath: ws + "/\u{301}d", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: ws + "/up", withDestinationPath: "\u{301}d/../\u{301}x")
        #expect(AgentWorld.resolveRecordingLinks(ws + "/up")?.0 == real + "/\u{301}x")
    }
}

@Suite struct HostPathTests {
    @Test func pathsSplitAndCompareAsBytes() {
        #expect(HostPath.components("/ws/\u{301}x/y") == ["ws", "\u{301}x", "y"])
        #expect(HostPath.isWithin("/ws/\u{301}x", "/ws") && HostPath.isBelow("/ws/\u{301}x", "/ws"))
        #expect(!HostPath.isBelow("/ws", "/ws") && HostPath.isWithin("/ws", "/ws") && HostPath.isWithin("/anything", "/"))
        #expect(!HostPath.isWithin("/wsx", "/ws"))
        #expect(!HostPath.same("/data/\u{212A}", "/data/K") && !HostPath.isWithin("/\u{212A}/x", "/K"))
        #expect(HostPath.isAbsolute("/\u{301}etc") && !HostPath.isAbsolute("\u{301}/etc"))
        #expect(HostPath.parent("/a/\u{301}b") == "/a" && HostPath.parent("/a") == "")
        #expect(HostPath.dropping(3, from: "/ws/\u{301}x") == "/\u{301}x")
    }
}
