import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A supervisor waiting on a long-running agent keeps resident only what supervising uses:
/// a second into the run it releases its mappings of Warden's code (they stay in the page
/// cache), and the run still ends normally with its records.
@Suite struct SupervisorMemoryCLITests {
    static func residentFileKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("RssFile:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    @Test func aWaitingSupervisorReleasesItsCodePages() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let bg = try RunSignalsCLITests.Background(RunSignalsCLITests.run(f, ["/bin/sh", "-c", "echo x > started; sleep 3; echo y > ended"]))
        guard bg.wait(for: "the agent's start", { FileManager.default.fileExists(atPath: f.workspace + "/started") }) else {
            _ = bg.finish(); return
        }
        let pid = bg.process.processIdentifier
        let before = Self.residentFileKiB(pid) ?? 0
        usleep(2_000_000)
        let after = Self.residentFileKiB(pid) ?? .max
        let output = bg.output
        let status = bg.finish()
        #expect(status == 0, "\(output)")
        #expect(FileManager.default.fileExists(atPath: f.workspace + "/ended"))
        // Warden's own code is most of its file-backed pages; at least half go.
        #expect(after * 2 < before, "file-backed resident KiB: \(before) at the agent's start, \(after) two seconds later")
        let log = try String(contentsOfFile: f.log, encoding: .utf8)
        #expect(log.contains(#""kind":"run.exit""#))
    }
}
