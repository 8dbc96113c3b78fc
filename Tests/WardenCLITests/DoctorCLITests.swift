import Foundation
import Testing

@Suite("warden doctor")
struct DoctorCLITests {
    static let binary: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/.build/debug/warden"
    }()

    func run(_ args: [String], asNobody: Bool = false) throws -> (Int32, String) {
        let p = Process()
        if asNobody {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Self.binary] + args
        } else {
            p.executableURL = URL(fileURLWithPath: Self.binary)
            p.arguments = args
        }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func jsonReportMatchesTheKernel() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            print("skip: \(Self.binary) not built"); return
        }
        let (status, out) = try run(["doctor", "--format", "json"])
        #expect(status == 0 || status == 1)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(obj["root"] as? Bool == (geteuid() == 0))
        let actions = try String(contentsOfFile: "/proc/sys/kernel/seccomp/actions_avail", encoding: .utf8)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let seccomp = try #require(obj["seccomp"] as? [String: Any])
        #expect(seccomp["actions"] as? [String] == actions)
        #expect(seccomp["user_notification"] as? Bool == actions.contains("user_notif"))
        let landlock = try #require(obj["landlock"] as? [String: Any])
        #expect((landlock["abi"] as? Int ?? -1) >= 0)
        let ns = try #require(obj["namespaces"] as? [[String: Any]])
        let check = try #require(obj["launch_check"] as? [String: Any])
        #expect(check["ok"] as? Bool == true, "\(check)")
        #expect(ns.compactMap { $0["name"] as? String } == ["user", "mount", "pid", "ipc", "uts", "network", "cgroup"])
        if geteuid() == 0 {
            #expect((obj["capabilities"] as? [String])?.contains("CAP_SYS_ADMIN") == true)
        }
    }

    @Test func unprivilegedUserHoldsNoCapabilities() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: Self.binary) else {
            print("skip: needs root (to switch to nobody) and a built binary"); return
        }
        let (_, out) = try run(["doctor", "--format", "json"], asNobody: true)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(obj["root"] as? Bool == false)
        #expect(obj["uid"] as? Int == 65534)
        #expect((obj["capabilities"] as? [String]) == [])
        // The Swift supervisor really launches a sandbox as nobody (user namespace + all layers).
        let check = try #require(obj["launch_check"] as? [String: Any])
        #expect(check["ok"] as? Bool == true, "\(check)")
    }

    @Test func textReportNamesEveryLayer() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            print("skip: \(Self.binary) not built"); return
        }
        let (_, out) = try run(["doctor"])
        for word in ["seccomp", "landlock", "namespace pid", "namespace network", "cgroup v2", "capabilities"] {
            #expect(out.contains(word), "missing \(word)")
        }
    }

    @Test func badFormatIsAUsageError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        let (status, _) = try run(["doctor", "--format", "yaml"])
        #expect(status == 64 || status == 2, "status \(status)")
    }
}
