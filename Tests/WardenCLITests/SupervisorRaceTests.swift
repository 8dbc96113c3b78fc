import Foundation
import Testing

/// Races against the root supervisor, checked from outside the sandbox (the host's
/// listener and directory), thousands of iterations each.
@Suite("Escape probes: races against the supervisor", .serialized)
struct SupervisorRaceTests {
    /// A network identity: every connect and bind is mediated, unix ones by the helper
    /// inside the sandbox. The agent swaps the path it names (rename exchange of a file and
    /// a symlink, and of a directory and a symlinked directory) while connecting.
    @Test func unixPathSwapsNeverReachAHostSocket() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let text = try Escape.defaultPolicy(replacing: "  allow fs read, write, exec \"${workspace}\"",
                                            with: "  allow fs read, write, exec \"${workspace}\"\n  allow net connect tcp \"127.0.0.1:9\"")
        let s = try Scratch(policyText: text)
        defer { s.remove() }
        let hidden = s.outside + "/hidden.sock" // a host socket outside every grant
        let fd = try EscapeProbeTests.unixListener(hidden)
        defer { close(fd); unlink(hidden) }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        let run = try s.attack("unix-race", [hidden, "3000"])
        #expect(run.verdict("unix-race") == "BLOCKED connects=0 tries=3000", "\(run.output)")
        // From outside: the host listener saw no connection, and nothing was planted beside it.
        #expect(accept(fd, nil, nil) < 0 && errno == EAGAIN, "the host listener was reached")
        let planted = try FileManager.default.contentsOfDirectory(atPath: s.outside).filter { $0.hasPrefix("planted-") }
        #expect(planted.isEmpty, "sockets planted in a host directory: \(planted)")
        // Refused unix connects are in the trail (a path that does not exist in the world).
        let log = try String(contentsOfFile: s.auditLog, encoding: .utf8)
        #expect(log.contains("\"protocol\":\"unix\"") && log.contains("race.dir/hidden.sock"), "no deny record for the refused unix connects")
    }
}
