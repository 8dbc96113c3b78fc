import Foundation
import Testing

/// `warden run` keeps compiled seccomp filters beside the audit log: the second launch of
/// the same policy takes its filter from there, an edited entry is compiled again, and a
/// policy that would let its agent write the cache is refused like one reaching the audit log.
@Suite struct FilterCacheCLITests {
    func launch(_ f: StockPolicyFixture, policy: String) throws -> WardenBinary.Result {
        try f.warden(["run", "--timings", "--policy", policy, "--workspace", f.workspace, "--audit-log", f.log,
                      "--signing-key", f.keyPrefix + ".key", "--", "/bin/true"])
    }

    @Test func theSecondLaunchUsesTheCacheAndAnEditedEntryIsCompiledAgain() throws {
        guard geteuid() == 0 else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let policy = WardenBinary.root + "/policies/default.warden"
        let first = try launch(f, policy: policy)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("launch plan (seccomp filter compiled and verified)"), "\(first.stderr)")
        let second = try launch(f, policy: policy)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("launch plan (seccomp filter from the cache)"), "\(second.stderr)")

        let dir = f.root + "/seccomp-cache"
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".filter") }
        #expect(entries.count == 1, "\(entries)")
        for entry in entries {
            let path = dir + "/" + entry
            var bytes = try #require(FileManager.default.contents(atPath: path))
            bytes[bytes.count - 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let third = try launch(f, policy: policy)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("launch plan (seccomp filter compiled and verified)"), "an edited entry was used: \(third.stderr)")
    }

    @Test func aPolicyLettingItsAgentWriteTheCacheIsRefused() throws {
        guard geteuid() == 0 else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let text = """
        warden 1
        include "\(WardenBinary.root)/policies/base.warden"
        identity poisoner {
          use toolchain
          allow fs read, write "\(f.root)/seccomp-cache"
        }

        """
        let policy = f.root + "/poisoner.warden"
        try text.write(toFile: policy, atomically: false, encoding: .utf8)
        let r = try launch(f, policy: policy)
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.contains("(filter cache) is writable by identity poisoner"), "\(r.stderr)")
    }
}
