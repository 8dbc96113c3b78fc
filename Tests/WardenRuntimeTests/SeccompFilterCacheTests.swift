import Foundation
import Testing
@testable import WardenCompiler
import WardenAudit
import WardenPolicy
@testable import WardenRuntime

/// The compiled-filter cache is never used stale and never trusts a file Warden did not
/// write: every input of the key invalidates, and an edited, foreign, linked or renamed
/// entry is refused (the filter is compiled again).
@Suite struct SeccompFilterCacheTests {
    static let text = """
    warden 1
    identity agent {
      allow syscall @default
      allow syscall socket(domain in [AF_UNIX, AF_INET])
    }

    """

    func seccomp(_ text: String = Self.text, otherArch: Bool = false, notify: Bool = true) throws -> SeccompPolicy {
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics)")
        let effective = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        let native = effective.seccompPolicy(arch: .native, notify: notify)
        guard otherArch, let other = type(of: native.arch).allCases.first(where: { $0 != native.arch }) else { return native }
        return effective.seccompPolicy(arch: other, notify: notify)
    }

    func cache(_ dir: String, files: [String] = [Self.text], version: String = "1.0.0",
               build: String = WardenBuild.identity) -> SeccompFilterCache {
        SeccompFilterCache(directory: dir, policyFiles: files.map { Array($0.utf8) }, wardenVersion: version, build: build)
    }

    @Test func aSecondLaunchUsesTheEntryAndGetsTheSameFilter() throws {
        let dir = try Fixture.tempDir("fc") + "/seccomp-cache"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let policy = try seccomp()
        let first = try cache(dir).filter(for: policy)
        #expect(!first.hit)
        let second = try cache(dir).filter(for: policy)
        #expect(second.hit)
        #expect(second.filter.program == first.filter.program)
        #expect(second.filter.rules == first.filter.rules)
        #expect(second.filter.absentOnArch == first.filter.absentOnArch)
        var st = stat()
        #expect(lstat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    @Test func everyInputOfTheKeyInvalidates() throws {
        let policy = try seccomp()
        let base = cache("/nonexistent").key(for: policy)
        #expect(cache("/nonexistent").key(for: policy) == base, "the key is deterministic")
        // Warden's version, and its build (the same version rebuilt with another compiler).
        #expect(cache("/nonexistent", version: "1.0.1").key(for: policy) != base)
        #expect(cache("/nonexistent", build: "build-id 00").key(for: policy) != base)
        // Any policy file, also an include that changes nothing the filter holds.
        #expect(cache("/nonexistent", files: [Self.text, "warden 1\n"]).key(for: policy) != base)
        #expect(cache("/nonexistent", files: [Self.text + "# a comment\n"]).key(for: policy) != base)
        // Host facts the filter depends on: user notification, architecture.
        #expect(cache("/nonexistent").key(for: try seccomp(notify: false)) != base)
        #expect(cache("/nonexistent").key(for: try seccomp(otherArch: true)) != base)
        // The rules themselves.
        let more = Self.text.replacingOccurrences(of: "AF_INET]", with: "AF_INET, AF_INET6]")
        #expect(cache("/nonexistent").key(for: try seccomp(more)) != base)
    }

    @Test func anEntryNotWrittenByWardenIsRefused() throws {
        let root = try Fixture.tempDir("fc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/seccomp-cache"
        let policy = try seccomp()
        let c = cache(dir)
        _ = try c.filter(for: policy)
        let path = c.entryPath(c.key(for: policy))
        let original = try #require(FileManager.default.contents(atPath: path))
        #expect(c.load(key: c.key(for: policy), policy: policy) != nil)

        func refused(_ why: String) {
            #expect(c.load(key: c.key(for: policy), policy: policy) == nil, "\(why) is used")
            try? FileManager.default.removeItem(atPath: path)
            FileManager.default.createFile(atPath: path, contents: original, attributes: [.posixPermissions: 0o600])
        }
        // One byte of the program changed (the header's hash no longer matches).
        var edited = original
        edited[edited.count - 1] ^= 0x01
        try edited.write(to: URL(fileURLWithPath: path))
        refused("an edited entry")
        // Edited, with the header's hash recomputed, but for another key (a renamed entry).
        let otherKey = cache(dir, version: "9").key(for: policy)
        try FileManager.default.copyItem(atPath: path, toPath: c.entryPath(otherKey))
        #expect(cache(dir, version: "9").load(key: otherKey, policy: policy) == nil, "a renamed entry is used")
        // Truncated.
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: path))
        refused("a truncated entry")
        // Writable by others.
        chmod(path, 0o666)
        refused("a world-writable entry")
        // A link to a valid entry.
        let elsewhere = root + "/elsewhere.filter"
        try original.write(to: URL(fileURLWithPath: elsewhere))
        try FileManager.default.removeItem(atPath: path)
        symlink(elsewhere, path)
        refused("a symbolic link")
        if geteuid() == 0 {
            chown(path, 1234, 1234)
            refused("another user's entry")
            chmod(dir, 0o770)
            #expect(!c.prepareDirectory(), "a group-writable directory is used")
            chmod(dir, 0o700)
        }
        // After a refusal the filter is compiled again, and the entry rewritten.
        try edited.write(to: URL(fileURLWithPath: path))
        let again = try c.filter(for: policy)
        #expect(!again.hit)
        #expect(c.load(key: c.key(for: policy), policy: policy) != nil)
    }

    /// A program of an earlier layout (libseccomp's alone, before the ioctl prefix) stored
    /// by an older Warden under its key is never served: the layout is part of the key, so
    /// the new compiler's lookup misses it and compiles (and verifies) the new program.
    @Test func anEntryOfAnEarlierProgramLayoutIsNeverServed() throws {
        let root = try Fixture.tempDir("fc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let c = cache(root + "/seccomp-cache")
        let policy = try seccomp()
        let prefix = try #require(SeccompPrefilter.plan(policy)).instructions
        let old = try SeccompCompiler.compile(policy, prefilter: false)
        #expect(Array(old.program.instructions.prefix(prefix.count)) != prefix)
        let oldKey = Digest.sha256Hex(c.salt + SeccompFilterArchive.compilerInput(policy, layout: 1))
        #expect(oldKey != c.key(for: policy))
        #expect(c.prepareDirectory())
        c.store(old, key: oldKey)
        #expect(c.load(key: oldKey, policy: policy)?.program == old.program, "the old entry itself is well-formed")
        let got = try c.filter(for: policy)
        #expect(!got.hit)
        #expect(Array(got.filter.program.instructions.prefix(prefix.count)) == prefix)
        #expect(try c.filter(for: policy).hit, "the new layout's entry is used from then on")
    }

    /// The archive's reader on hostile bytes (the hash check comes first, but the reader
    /// stands on its own): every truncation and random corruption is refused, never a crash.
    @Test func theArchiveRefusesEveryDamagedEntry() throws {
        let policy = try seccomp()
        let filter = try SeccompCompiler.compile(policy)
        let good = SeccompFilterArchive.encode(filter, key: "k")
        #expect(SeccompFilterArchive.decode(good, key: "k", policy: policy)?.program == filter.program)
        #expect(SeccompFilterArchive.decode(good, key: "other", policy: policy) == nil)
        for n in stride(from: 0, to: good.count, by: max(1, good.count / 300)) {
            #expect(SeccompFilterArchive.decode(Array(good.prefix(n)), key: "k", policy: policy) == nil, "truncated at \(n)")
        }
        #expect(SeccompFilterArchive.decode(good + [0], key: "k", policy: policy) == nil, "trailing bytes")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<500 {
            var bad = good
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let i = Int((state >> 33) % UInt64(bad.count))
            bad[i] = UInt8(truncatingIfNeeded: state >> 8)
            // Decoding may succeed when the change hit a string's text; it must never crash
            // and a length field turned huge must not allocate it.
            _ = SeccompFilterArchive.decode(bad, key: "k", policy: policy)
        }
        var huge = SeccompFilterArchive.Writer()
        huge.u32(SeccompFilterArchive.format)
        huge.string("k")
        huge.u32(0xffff_fff0)
        #expect(SeccompFilterArchive.decode(huge.out, key: "k", policy: policy) == nil)
    }

    @Test func theCacheStaysBounded() throws {
        let root = try Fixture.tempDir("fc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/seccomp-cache"
        let policy = try seccomp()
        let filter = try SeccompCompiler.compile(policy)
        let c = cache(dir)
        #expect(c.prepareDirectory())
        for i in 0..<(SeccompFilterCache.maxEntries + 10) {
            c.store(filter, key: "k\(i)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".filter") }
        #expect(left.count <= SeccompFilterCache.maxEntries && left.count >= SeccompFilterCache.maxEntries * 3 / 4, "\(left.count)")
        #expect(left.contains("k\(SeccompFilterCache.maxEntries + 9).filter"), "the newest entry stays")
    }

    @Test func aMissingOrForeignDirectoryMeansNoCacheNotAFailure() throws {
        let policy = try seccomp()
        let r = try cache("/proc/warden-no-such-dir/seccomp-cache").filter(for: policy)
        #expect(!r.hit)
        #expect(!r.filter.program.instructions.isEmpty)
    }

    /// The cache shares the audit log's filesystem: on one with less than the reserve free,
    /// nothing is stored (a full disk is the log's, not the cache's).
    @Test func aNearlyFullFilesystemGetsNoEntry() throws {
        let root = try Fixture.tempDir("fc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(SeccompFilterCache.reservedBytes / 2)", "tmpfs", root]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { print("skip: cannot mount a tmpfs here (needs root)"); return }
        defer { umount2(root, Int32(MNT_DETACH)) }
        let dir = root + "/seccomp-cache"
        let policy = try seccomp()
        #expect(try !cache(dir).filter(for: policy).hit)
        #expect(try !cache(dir).filter(for: policy).hit)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// The plan hash is kept per identity and per policy paths, and recomputed whenever any
    /// input changes or the entry was not written by Warden.
    @Test func thePlanHashIsReusedOnlyForExactlyTheSameInput() throws {
        let root = try Fixture.tempDir("fc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/seccomp-cache"
        let policy = try seccomp()
        var computed = 0
        func hash(_ c: SeccompFilterCache, identity: String = "agent", paths: [String] = ["/p.warden"],
                  policy p: SeccompPolicy? = nil, value: String = String(repeating: "a", count: 64)) -> (String, Bool) {
            let r = c.planSHA256(identity: identity, policyPaths: paths, policy: p ?? policy) { computed += 1; return value }
            return (r.hash, r.hit)
        }
        #expect(hash(cache(dir)) == (String(repeating: "a", count: 64), false))
        #expect(hash(cache(dir), value: "unused") == (String(repeating: "a", count: 64), true))
        #expect(computed == 1)
        // Every input is another entry: identity, paths, version, build, policy bytes, compiler input.
        #expect(hash(cache(dir), identity: "other").1 == false)
        #expect(hash(cache(dir), paths: ["/q.warden"]).1 == false)
        #expect(hash(cache(dir), paths: ["/p.warden", "/inc.warden"]).1 == false)
        #expect(hash(cache(dir, version: "1.0.1")).1 == false)
        #expect(hash(cache(dir, build: "build-id 00")).1 == false)
        #expect(hash(cache(dir, files: [Self.text + "# edit\n"])).1 == false)
        #expect(hash(cache(dir), policy: try seccomp(notify: false)).1 == false)
        #expect(computed == 8)

        // An entry edited by anyone (or not well-formed) is refused and replaced.
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".plan") }
        #expect(entries.count == 8)
        let c = cache(dir)
        let path = c.planEntryPath(c.planKey(identity: "agent", policyPaths: ["/p.warden"], policy: policy))
        #expect(entries.contains((path as NSString).lastPathComponent))
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let forged = original.replacingOccurrences(of: String(repeating: "a", count: 64), with: String(repeating: "b", count: 64))
        try forged.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(hash(c, value: String(repeating: "c", count: 64)) == (String(repeating: "c", count: 64), false), "an edited entry is used")
        #expect(hash(c).0 == String(repeating: "c", count: 64), "the recomputed value replaced the edited entry")
        chmod(path, 0o666)
        #expect(hash(c).1 == false, "a world-writable entry is used")
        #expect(SeccompFilterCache.planHash(in: Array("key k\nplan_sha256 \(String(repeating: "A", count: 64))\n".utf8), key: "k") == nil)
        #expect(SeccompFilterCache.planHash(in: Array("key k\nplan_sha256 abc\n".utf8), key: "k") == nil)
        #expect(SeccompFilterCache.planHash(in: Array("key j\nplan_sha256 \(String(repeating: "a", count: 64))\n".utf8), key: "k") == nil)
    }

    /// The build identity is this executable's GNU build ID, as readelf reads it from the file.
    @Test func theBuildIdentityIsTheExecutablesBuildID() throws {
        let readelf = Process()
        readelf.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/readelf") else {
            print("skipping: readelf is not installed (binutils)"); return
        }
        readelf.arguments = ["-n", "/proc/\(getpid())/exe"]
        let out = Pipe()
        readelf.standardOutput = out
        try readelf.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        readelf.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Build ID:") }) else {
            #expect(WardenBuild.identity.hasPrefix("executable "), "\(WardenBuild.identity)")
            return
        }
        let id = line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        #expect(WardenBuild.identity == "build-id " + id)
    }
}
