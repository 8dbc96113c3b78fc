import Foundation
import Testing
@testable import WardenRuntime

/// The run directory is always removed: names that are not UTF-8, trees deeper than any
/// recursion limit, links never followed; and directories of dead supervisors are found
/// and removed, live ones never.
@Suite struct RunDirectoryRemovalTests {
    /// Creates `name` (raw bytes) under the directory open as `dirFD`: a directory when
    /// `directory`, else an empty file. Returns a descriptor for a new directory.
    private func make(_ dirFD: Int32, _ name: [UInt8], directory: Bool) -> Int32 {
        let c = name.map { CChar(bitPattern: $0) } + [0]
        if directory {
            #expect(mkdirat(dirFD, c, 0o700) == 0)
            return openat(dirFD, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        let fd = openat(dirFD, c, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        close(fd)
        return -1
    }

    @Test func removesNonUTF8NamesDeepTreesAndNeverFollowsLinks() throws {
        let outside = try Fixture.tempDir("outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let hostFile = outside + "/host-file"
        try "keep me".write(toFile: hostFile, atomically: false, encoding: .utf8)
        guard let dir = RunDirectory.create(runID: "removal") else { Issue.record("mkdtemp failed"); return }

        let top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(top >= 0)
        // Names that are not UTF-8, a link to a host file and one to the host directory.
        _ = make(top, [0xff, 0xfe, 0x41], directory: false)
        let odd = make(top, [0x80, 0x2e, 0xc3], directory: true)
        _ = make(odd, [0xed, 0xa0, 0x80], directory: false)
        #expect(symlinkat(hostFile, odd, "link-to-host-file") == 0)
        #expect(symlinkat(outside, top, "link-to-host-dir") == 0)
        close(odd)
        // A chain 1000 directories deep, with a file at the bottom and an unreadable level.
        var fd = dup(top)
        for level in 0..<1000 {
            let next = make(fd, Array("d".utf8) + [UInt8(0x80 | (level % 64))], directory: true)
            close(fd)
            fd = next
            #expect(fd >= 0)
        }
        _ = make(fd, Array("bottom".utf8), directory: false)
        close(fd)
        close(top)

        #expect(RunDirectory.remove(dir))
        #expect(access(dir, F_OK) != 0)
        #expect((try? String(contentsOfFile: hostFile, encoding: .utf8)) == "keep me")
        #expect(FileManager.default.fileExists(atPath: outside))
    }

    @Test func abandonedDirectoriesAreRemovedAndLiveOnesKept() throws {
        let base = try Fixture.tempDir("base")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let hostFile = base + "/host-file"
        try "keep me".write(toFile: hostFile, atomically: false, encoding: .utf8)

        // Live: created (and locked) by this process.
        guard let live = RunDirectory.create(base: base, runID: "live") else { Issue.record("mkdtemp failed"); return }
        defer { RunDirectory.remove(live) }
        try "x".write(toFile: live + "/data", atomically: false, encoding: .utf8)

        // Dead: marked like a run directory, but no process holds its lock (a supervisor
        // that was SIGKILLed releases it with its descriptors).
        let dead = base + "/warden-0123456789abcdef-dead00"
        #expect(mkdir(dead, 0o700) == 0 && chmod(dead, 0o1700) == 0)
        try FileManager.default.createDirectory(atPath: dead + "/a/b", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dead + "/a/b/link", withDestinationPath: hostFile)

        // Not Warden's: no marker (an older Warden's or anyone else's warden-* directory).
        let foreign = base + "/warden-foreign-123456"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: false)

        let removed = RunDirectory.removeAbandoned(base: base)
        #expect(removed == [String(dead.split(separator: "/").last!)])
        #expect(access(dead, F_OK) != 0)
        #expect(access(live + "/data", F_OK) == 0)
        #expect(access(foreign, F_OK) == 0)
        #expect((try? String(contentsOfFile: hostFile, encoding: .utf8)) == "keep me")
    }
}
