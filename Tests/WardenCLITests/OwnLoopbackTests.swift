import Foundation
import Testing

/// The agent's own loopback under `net` rules, checked from the host: the agent's own
/// servers serve the agent, host loopback services accept nothing, a port the agent once
/// held cannot be taken over by the host during the run, SO_REUSEPORT cannot share a host
/// listener, and each refusal is recorded with its operation, rule and `warden explain`
/// arguments, which `warden explain` answers the same way.
@Suite("own loopback", .serialized)
struct OwnLoopbackTests {
    static let source = NetFixture.packageRoot + "/Tests/RuntimeProbes/ownloopback.py"

    /// The agent script, copied into the workspace (the package root is not in the agent's world).
    static func script(in dir: String) throws -> String {
        let path = dir + "/ownloopback.py"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        return path
    }
    /// A rule that has nothing to do with loopback: the identity has `net` rules, so it runs
    /// in the host network namespace, mediated.
    static let rules = #"  allow net connect tcp "192.0.2.10:443""#

    /// The fields of the `deny.net` records.
    static func deniedNet(_ records: [[String: Any]]) -> [[String: Any]] {
        records.filter { ($0["kind"] as? String) == "deny.net" }.compactMap { $0["fields"] as? [String: Any] }
    }

    @Test func ownServersServeTheAgentAndHostServicesAcceptNothing() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("ownlo")
        let host = try LoopbackServer("127.0.0.1", tag: "host-service")
        defer { host.stop() }
        let policy = try NetFixture.policy(Self.rules, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir,
                                                   ["/usr/bin/python3", try Self.script(in: dir), "serve", "\(host.port)"])
        #expect(status == 0, "\(out)")
        #expect(kv["own_http"] == "ok:pong/ping", "a real request/response on the agent's own server: \(out)")
        #expect(kv["own_mapped"] == "ok", "::ffff:127.0.0.1 is 127.0.0.1: \(out)")
        #expect(kv["own_other_loopback_addr"] == "ECONNREFUSED", "127.0.0.2 is not 127.0.0.1: \(out)")
        #expect(kv["own_http6"] == "ok:pong/six", "\(out)")
        #expect(kv["own_udp"] == "ok:re:dgram", "UDP to the agent's own socket and back: \(out)")
        #expect(kv["host_tcp"] == "ECONNREFUSED", "\(out)")
        #expect(kv["host_tcp_mapped"] == "ECONNREFUSED", "\(out)")
        #expect(kv["bind_any"] == "EACCES", "\(out)")
        #expect(kv["listen_any"] == "EACCES", "\(out)")
        #expect(kv["listen_unbound"] == "EACCES", "\(out)")
        #expect(host.acceptCount == 0, "the host's loopback service was reached")

        // Each refusal: operation, deciding rule, how it was decided, explain arguments.
        let denials = Self.deniedNet(NetFixture.auditRecords(in: dir))
        let all = denials.map { "\($0)" }.joined(separator: "\n")
        let hostDenial = denials.first { ($0["port"] as? Int) == Int(host.port) && ($0["destination"] as? String) == "127.0.0.1" }
        #expect(hostDenial?["operation"] as? String == "connect", "\(all)")
        #expect(hostDenial?["decided_by"] as? String == "own-loopback", "\(all)")
        #expect((hostDenial?["rule"] as? String)?.contains("no rule allows connect tcp 127.0.0.1:\(host.port)") == true, "\(all)")
        #expect(hostDenial?["explain"] as? [String] == ["--connect", "tcp", "127.0.0.1:\(host.port)"], "\(all)")
        let bindDenial = denials.first { ($0["port"] as? Int) == 3917 }
        #expect(bindDenial?["operation"] as? String == "bind", "\(all)")
        #expect(bindDenial?["decided_by"] as? String == "default", "\(all)")
        #expect(bindDenial?["rule"] as? String == "no rule allows bind tcp 0.0.0.0:3917", "\(all)")
        #expect(bindDenial?["explain"] as? [String] == ["--bind", "tcp", "0.0.0.0:3917"], "\(all)")
        #expect(denials.contains { $0["operation"] as? String == "listen" && $0["destination"] as? String == "0.0.0.0" && ($0["port"] as? Int ?? 0) != 0 }, "\(all)")
        #expect(denials.contains { $0["operation"] as? String == "listen" && $0["decided_by"] as? String == "built-in" }, "\(all)")

        // `warden explain` with the recorded arguments answers as the run did.
        for denial in denials {
            guard let args = denial["explain"] as? [String] else { continue }
            let (st, text) = try NetFixture.sh(NetFixture.binary, ["explain", policy] + args)
            if denial["decided_by"] as? String == "built-in" { continue }
            #expect(st == 1, "explain \(args) said \(text) for a refusal")
        }
        let (hostSt, hostText) = try NetFixture.sh(NetFixture.binary, ["explain", policy, "--connect", "tcp", "127.0.0.1:\(host.port)"])
        #expect(hostSt == 1 && hostText.contains("allowed to the agent's own listeners only"), "\(hostText)")
        let (zeroSt, zeroText) = try NetFixture.sh(NetFixture.binary, ["explain", policy, "--bind", "tcp", "127.0.0.1:0"])
        #expect(zeroSt == 0 && zeroText.hasPrefix("ALLOW") && zeroText.contains("own loopback"), "\(zeroText)")
        let (v6St, _) = try NetFixture.sh(NetFixture.binary, ["explain", policy, "--bind", "tcp", "[::1]:0"])
        #expect(v6St == 0)
        // Allowed by the run (the own server's port was bound and served): explain allows the bind too.
        if let ownPort = kv["own_port"] {
            let (st, text) = try NetFixture.sh(NetFixture.binary, ["explain", policy, "--bind", "tcp", "127.0.0.1:\(ownPort)"])
            #expect(st == 0, "\(text)")
        }

        // `audit show` renders the operation and the explain command.
        let (_, shown) = try NetFixture.sh(NetFixture.binary, ["audit", "show", dir + ".audit.jsonl", "--kind", "deny.net"])
        #expect(shown.contains("deny       net connect tcp 127.0.0.1:\(host.port)"), "\(shown)")
        #expect(shown.contains("explain    warden explain <policy> --connect tcp 127.0.0.1:\(host.port)"), "\(shown)")
        #expect(shown.contains("deny       net bind tcp 0.0.0.0:3917"), "\(shown)")
    }

    @Test func portsTheAgentClosedCannotBeTakenOverByTheHost() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("ownrace")
        let policy = try NetFixture.policy(Self.rules, in: dir)
        let n = 64
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NetFixture.binary)
        p.arguments = ["run", "--policy", policy, "--workspace", dir, "--audit-log", dir + ".audit.jsonl", "-q", "--",
                       "/usr/bin/python3", try Self.script(in: dir), "race", "\(n)", dir]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var waited = 0
        while !FileManager.default.fileExists(atPath: dir + "/ports") && waited < 1200 && p.isRunning {
            usleep(50_000); waited += 1
        }
        let ports = ((try? String(contentsOfFile: dir + "/ports", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { UInt16($0) }
        #expect(ports.count == n, "the agent did not report its ports")
        // Every port the agent held and closed: the host tries to listen on it (loopback and
        // wildcard, with SO_REUSEADDR), and keeps whatever listener it gets.
        var taken: [LoopbackServer] = []
        var attempts = 0
        for port in ports {
            for address in ["127.0.0.1", "0.0.0.0"] {
                attempts += 1
                if let server = Self.tryListen(address, port) { taken.append(server) }
            }
        }
        defer { taken.forEach { $0.stop() } }
        try "".write(toFile: dir + "/go", atomically: true, encoding: .utf8)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(taken.isEmpty, "the host took over \(taken.count) of \(attempts) ports the agent had closed")
        #expect(taken.reduce(0) { $0 + $1.acceptCount } == 0, "the agent reached a host listener")
        #expect(text.contains("race_connects="), "\(text)")
        print("own-loopback race: \(attempts) host listen attempts on \(n) closed agent ports, \(taken.count) succeeded; agent: \(text.split(separator: "\n").first { $0.hasPrefix("race_connects=") } ?? "")")
        // The run is over: the supervisor let go of the ports.
        let freed = ports.prefix(8).compactMap { Self.tryListen("127.0.0.1", $0) }
        freed.forEach { $0.stop() }
        #expect(freed.count == min(8, ports.count), "ports still held after the run")
    }

    @Test func soReusePortCannotShareAHostListener() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("ownreuse")
        let host = try LoopbackServer("127.0.0.1", tag: "host-reuseport", reusePort: true)
        defer { host.stop() }
        let policy = try NetFixture.policy(Self.rules, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir,
                                                   ["/usr/bin/python3", try Self.script(in: dir), "reuseport", "\(host.port)"])
        #expect(status == 0, "\(out)")
        #expect(kv["share_reuseport"] == "EACCES", "\(out)")
        #expect(kv["share_plain"] == "EADDRINUSE", "\(out)")
        #expect(kv["late_reuseport"] == "EACCES", "\(out)")
        // Set after listen, the flag would let a host service binding the port later share it:
        // the call itself is refused (a built-in seccomp deny), whenever it is made.
        #expect(kv["after_listen_reuseport"] == "EACCES", "\(out)")
        #expect(kv["udp_reuseaddr"] == "EACCES", "\(out)")
        // Set after the bind, it would let a host service that binds the port later with it
        // share the port: the supervisor refuses it on datagram sockets whenever it is set,
        // and performs it on stream sockets (servers set it routinely).
        #expect(kv["udp_reuseaddr_after_bind"] == "EACCES", "\(out)")
        #expect(kv["tcp_reuseaddr"] == "ok:1", "\(out)")
        #expect(kv["host_connect"] == "ECONNREFUSED", "\(out)")
        #expect(host.acceptCount == 0)
        // The host's own clients all still reach the host listener.
        for _ in 0..<8 {
            let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = host.port.bigEndian
            inet_pton(AF_INET, "127.0.0.1", &a.sin_addr)
            _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var buf = [UInt8](repeating: 0, count: 32)
            _ = read(c, &buf, buf.count)
            close(c)
        }
        #expect(host.acceptCount == 8)
        let syscalls = NetFixture.auditRecords(in: dir).filter { ($0["kind"] as? String) == "deny.syscall" }
            .compactMap { $0["fields"] as? [String: Any] }.map { "\($0)" }.joined(separator: "\n")
        #expect(syscalls.contains("SO_REUSEPORT"), "\(syscalls)")
        #expect(syscalls.contains("SO_REUSEADDR is refused on datagram sockets"), "\(syscalls)")
    }

    @Test func aWildcardServerARuleAllowsIsTheAgentsOwnOnLoopback() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("ownwild")
        guard let probe = Self.tryListen("0.0.0.0", 0) else { Issue.record("no free port"); return }
        let port = probe.port
        probe.stop()
        let policy = try NetFixture.policy(Self.rules + "\n  allow net bind tcp \"0.0.0.0:\(port)\"", in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir,
                                                   ["/usr/bin/python3", try Self.script(in: dir), "wildcard", "\(port)"])
        #expect(status == 0, "\(out)")
        #expect(kv["wildcard_own"] == "ok", "\(out)")
    }

    @Test func aServerRestartedOnAFixedLoopbackPortGetsItBack() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("ownrestart")
        guard let probe = Self.tryListen("127.0.0.1", 0) else { Issue.record("no free port"); return }
        let port = probe.port
        probe.stop()
        let policy = try NetFixture.policy(Self.rules, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir,
                                                   ["/usr/bin/python3", try Self.script(in: dir), "restart", "\(port)"])
        #expect(status == 0, "\(out)")
        #expect(kv["second_while_held"] == "EADDRINUSE", "the agent still holds the first server: \(out)")
        #expect(kv["first_still_served"] == "ok", "a refused second bind must not drop the first server: \(out)")
        #expect(kv["restarted"] == "ok", "the kept socket is let go once only Warden holds it: \(out)")
        #expect(kv["restarted_served"] == "ok", "\(out)")
    }

    /// A listener on `address:port` with SO_REUSEADDR, or nil if the port cannot be had.
    static func tryListen(_ address: String, _ port: UInt16) -> LoopbackServer? {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, address, &a.sin_addr)
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            && listen(probe, 8) == 0
        close(probe)
        guard ok else { return nil }
        return try? LoopbackServer(address, port: port, tag: "host-takeover")
    }
}
