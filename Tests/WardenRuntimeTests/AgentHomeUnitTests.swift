import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// The parts of the fresh home that need no agent: the generated git identity (read from the
/// operator's config, written so no value can inject settings), the cache stores (private,
/// created by no-follow walks) and how the world maps `${home}`.
@Suite struct AgentHomeUnitTests {
    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "warden-home-unit-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// git's own reading of a generated file: what `git config -f FILE --list` prints.
    static func gitList(_ file: String) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else { print("skip: no /usr/bin/git"); return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["config", "-f", file, "--list"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [
        "Ann \"Q\" O\\Brian",
        "line one\n[core]\n\tpager = evil",
        "trailing backslash \\",
        "quote at end \"",
        " spaced ; # not a comment ",
    ])
    func generatedIdentityReadsBackExactly(name: String) throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let identity = GitIdentity(name: Array(name.utf8), email: Array("a@example.com".utf8))
        let file = dir + "/gitconfig"
        try Data(identity.configText).write(to: URL(fileURLWithPath: file))
        guard let listed = try Self.gitList(file) else { return }
        #expect(listed == "user.name=\(name)\nuser.email=a@example.com\n", "\(listed)")
        // Warden reads its own output back to the same identity.
        #expect(GitIdentity.read(home: dir, environment: ["GIT_CONFIG_GLOBAL": file]) == identity)
    }

    @Test func identityComesFromTheGlobalConfigsLaterWinning() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/.config/git", withIntermediateDirectories: true)
        try "[user]\n\tname = Xdg Name\n\temail = xdg@example.com\n".write(toFile: dir + "/.config/git/config", atomically: false, encoding: .utf8)
        try "[user]\n\tname = \"Home \\\"Name\\\"\" # comment\n[alias]\n\tx = !evil\n".write(toFile: dir + "/.gitconfig", atomically: false, encoding: .utf8)
        let id = try #require(GitIdentity.read(home: dir, environment: [:]))
        #expect(id.name == Array("Home \"Name\"".utf8))
        #expect(id.email == Array("xdg@example.com".utf8))
        #expect(!String(decoding: id.configText, as: UTF8.self).contains("alias"))
    }

    @Test func noIdentityAndUnacceptableValuesGiveNothing() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(GitIdentity.read(home: dir, environment: [:]) == nil)
        try "[user]\n\tname = \"bad\\q escape\"\n\temail = \"open quote\n".write(toFile: dir + "/.gitconfig", atomically: false, encoding: .utf8)
        #expect(GitIdentity.read(home: dir, environment: [:]) == nil)
        try "[user]\n\tname = \(String(repeating: "n", count: 2000))\n".write(toFile: dir + "/.gitconfig", atomically: false, encoding: .utf8)
        #expect(GitIdentity.read(home: dir, environment: [:]) == nil)
        #expect(GitIdentity.decode(Array("a\u{1}b".utf8)).map(GitIdentity.isAcceptable) == false)
    }

    @Test func cacheStoreIsPrivateAndMirrorsThePath() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = CacheStore.base(identity: "ident", uid: 1000, environment: ["XDG_CACHE_HOME": dir + "/xdg"], home: "/h")
        #expect(base == dir + "/xdg/warden/ident")
        #expect(CacheStore.base(identity: "ident", uid: 0, environment: [:], home: "/root") == "/var/cache/warden/ident")
        #expect(CacheStore.base(identity: "ident", uid: 1000, environment: [:], home: "/home/u") == "/home/u/.cache/warden/ident")
        let store = try CacheStore.prepare(path: "/h/.cache/pip", home: "/h", base: base, identity: "ident")
        #expect(store == base + "/.cache/pip")
        for p in [dir + "/xdg/warden", base, base + "/.cache", store] {
            var st = stat()
            #expect(stat(p, &st) == 0 && st.st_mode & 0o777 == 0o700, "\(p)")
        }
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/elsewhere/x", home: "/h", base: base, identity: "ident") }
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/../etc", home: "/h", base: base, identity: "ident") }
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/x", home: "/h", base: base, identity: "../x") }
    }

    @Test func symlinkInAStoreIsRefusedAndNothingIsCreatedOutside() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = dir + "/warden/ident"
        _ = try CacheStore.prepare(path: "/h/.c", home: "/h", base: base, identity: "ident")
        let outside = dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        // What an earlier agent could leave in its cache: links to a directory and to nothing.
        try FileManager.default.createSymbolicLink(atPath: base + "/.c/sub", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: base + "/.c/dangling", withDestinationPath: outside + "/new")
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/.c/sub/x", home: "/h", base: base, identity: "ident") }
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/.c/dangling", home: "/h", base: base, identity: "ident") }
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/.c/dangling/y", home: "/h", base: base, identity: "ident") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A store directory others can write (made so by an agent) is refused too.
        try FileManager.default.createDirectory(atPath: base + "/.c/open", withIntermediateDirectories: true)
        chmod(base + "/.c/open", 0o777)
        #expect(throws: RunSetupError.self) { try CacheStore.prepare(path: "/h/.c/open", home: "/h", base: base, identity: "ident") }
    }

    @Test func worldMapsHomeToTheFreshDirectory() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let realHome = dir + "/real", fresh = dir + "/run/home", store = dir + "/store"
        for d in [realHome + "/.cargo/bin", fresh, store] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try "x".write(toFile: fresh + "/.gitconfig", atomically: false, encoding: .utf8)
        let home = AgentHome(path: realHome, source: fresh, gitConfig: fresh + "/.gitconfig", caches: [realHome + "/.cache/pip": store])
        let world = try AgentWorld(grants: [(realHome + "/.cargo/bin", [.read, .exec]), (realHome + "/.cache/pip", [.read, .write, .exec])],
                                   hostTmp: nil, home: home)
        #expect(world.freshHome)
        #expect(world.hostPath(realHome + "/.bashrc") == fresh + "/.bashrc")
        #expect(world.hostPath(realHome + "/.cargo/bin/cargo") == realHome + "/.cargo/bin/cargo")
        #expect(world.hostPath(realHome + "/.gitconfig") == fresh + "/.gitconfig")
        #expect(world.grant(containing: realHome + "/.gitconfig")?.writable == false)
        #expect(world.hostPath(realHome + "/.cache/pip/x") == store + "/x")
        // Nothing in a cache runs, whatever else the policy grants on its path.
        #expect(world.grant(containing: realHome + "/.cache/pip")?.exec == false)
        #expect(world.grant(containing: realHome)?.exec == false && world.grant(containing: realHome)?.writable == true)
        #expect(world.mountPoints.contains(fresh + "/.cargo/bin"))

        // A grant of ${home} itself: the real home, as before; no generated .gitconfig.
        let real = try AgentWorld(grants: [(realHome, [.read]), (realHome + "/.cache/pip", [.read, .write])], hostTmp: nil, home: home)
        #expect(!real.freshHome)
        #expect(real.hostPath(realHome + "/.gitconfig") == realHome + "/.gitconfig")
        // Its cache's directory is missing in the real home: never created there, left out.
        #expect(real.skippedCaches == [realHome + "/.cache/pip"])
        #expect(real.hostPath(realHome + "/.cache/pip/x") == realHome + "/.cache/pip/x")
        try FileManager.default.createDirectory(atPath: realHome + "/.cache/pip", withIntermediateDirectories: true)
        let present = try AgentWorld(grants: [(realHome, [.read]), (realHome + "/.cache/pip", [.read, .write])], hostTmp: nil, home: home)
        #expect(present.skippedCaches.isEmpty && present.hostPath(realHome + "/.cache/pip/x") == store + "/x")
        // A grant of the real .gitconfig replaces the generated one.
        try "y".write(toFile: realHome + "/.gitconfig", atomically: false, encoding: .utf8)
        let granted = try AgentWorld(grants: [(realHome + "/.gitconfig", [.read])], hostTmp: nil, home: home)
        #expect(granted.hostPath(realHome + "/.gitconfig") == realHome + "/.gitconfig")
    }
}
