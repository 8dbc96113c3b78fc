import Testing
import Foundation

/// End-to-end tests of `warden syscalls` against the built binary.
@Suite struct SyscallsCommandTests {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/warden")

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String)? {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            print("skip: \(Self.binary.path) is not built (run `make test`)"); return nil
        }
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func listsGroupsWithSummaries() throws {
        guard let r = try run(["syscalls"]) else { return }
        #expect(r.status == 0)
        #expect(r.out.contains("@default: "))
        #expect(r.out.contains("@io-uring: "))
        #expect(r.out.contains("io_uring_setup"))
    }

    @Test func expandsAGroupWithNumbersPerArchitecture() throws {
        guard let r = try run(["syscalls", "--group", "@namespaces"]) else { return }
        #expect(r.status == 0)
        #expect(r.out.contains("unshare") && r.out.contains("272") && r.out.contains("97"))
        guard let j = try run(["syscalls", "--group", "debug", "--format", "json"]) else { return }
        #expect(j.status == 0)
        let obj = try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as? [String: Any]
        let rows = obj?["syscalls"] as? [[String: Any]] ?? []
        let ptrace = rows.first { $0["name"] as? String == "ptrace" }
        #expect(ptrace?["x86_64"] as? Int == 101)
        #expect(ptrace?["aarch64"] as? Int == 117)
    }

    @Test func listIsValidJSON() throws {
        guard let r = try run(["syscalls", "--format", "json"]) else { return }
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect((obj?["groups"] as? [Any])?.count ?? 0 > 20)
    }

    @Test func unknownGroupIsAUsageError() throws {
        guard let r = try run(["syscalls", "--group", "@nope"]) else { return }
        #expect(r.status == 2)
        #expect(r.err.contains("unknown group '@nope'"))
    }
}
