import Foundation
import Testing
@testable import WardenRuntime

@Suite("Process isolation")
struct IsolationTests {
    @Test func onlyStandardDescriptorsReachTheAgent() throws {
        let probe = try #require(Fixture.probe)
        // A descriptor leaked on purpose (no O_CLOEXEC) must not reach the agent.
        let leak = open("/dev/null", O_RDONLY)
        defer { close(leak) }
        #expect(leak > 2)
        let (report, kv, text) = try runCapturing(isolated([probe, "fds"]))
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["fds"] == "0,1,2,", "\(text)")
    }

    @Test func environmentIsExactlyTheGivenOne() throws {
        let env = ["PATH=/usr/bin:/bin", "ONLY=this", "CI=true"]
        let (report, _, text) = try runCapturing(isolated(["/usr/bin/env"], env: env))
        #expect(report.outcome == .exited(0))
        #expect(text.split(separator: "\n").map(String.init).sorted() == env.sorted())
    }

    @Test func agentRunsInANewSessionWithoutTerminal() throws {
        let probe = try #require(Fixture.probe)
        let (report, kv, text) = try runCapturing(isolated([probe, "session"]))
        #expect(report.outcome == .exited(0))
        #expect(kv["sid_is_pid"] == "1", "\(text)")
        #expect(kv["tty"]?.hasPrefix("errno:") == true, "\(text)")
    }

    @Test func agentCannotSeeOrSignalTheSupervisor() throws {
        let probe = try #require(Fixture.probe)
        let (report, kv, text) = try runCapturing(isolated([probe, "pid", String(getpid())]))
        #expect(report.outcome == .exited(0))
        #expect(kv["kill"] == "errno:\(ESRCH)", "\(text)")
        // The agent is PID 2: PID 1 is Warden's reaper.
        #expect(kv["pid"] == "2", "\(text)")
    }

    @Test func networkNamespaceHasNoRouteToHostListeners() throws {
        let probe = try #require(Fixture.probe)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0)
        #expect(listen(s, 8) == 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        let port = String(UInt16(bigEndian: addr.sin_port))

        // Control: without a network namespace the listener is reachable.
        var shared = isolated([probe, "connect", port])
        shared.namespaces.remove(.network)
        let (r1, kv1, _) = try runCapturing(shared)
        #expect(r1.outcome == .exited(0))
        #expect(kv1["connect"] == "ok:0")

        // In its own namespace: loopback is up (ECONNREFUSED, not ENETUNREACH) but empty.
        let (r2, kv2, text) = try runCapturing(isolated([probe, "connect", port]))
        #expect(r2.outcome == .exited(0))
        #expect(kv2["connect"] == "errno:\(ECONNREFUSED)", "\(text)")
    }
}
