import Foundation
import Testing

/// A client that tries each `label=family:host:port:mode` target and prints `label=ok:<greeting>`
/// or `label=<ERRNO name>`; mode `b` is a blocking socket, `t` one with a timeout (non-blocking
/// connect inside Python).
private let pythonClient = #"""
import errno, socket, sys
for spec in sys.argv[1:]:
    label, fam, rest = spec.split("=", 1)[0], *spec.split("=", 1)[1].split(":", 1)
    host, port, mode = rest.rsplit(":", 2)
    family = socket.AF_INET6 if fam == "6" else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    if mode == "t":
        s.settimeout(20)
    try:
        s.connect((host, int(port)))
        data = s.recv(64).decode().strip()
        print(f"{label}=ok:{data}", flush=True)
    except OSError as e:
        print(f"{label}={errno.errorcode.get(e.errno, e.errno)}", flush=True)
    finally:
        s.close()
"""#

@Suite("network mediation", .serialized)
struct NetworkMediationTests {
    @Test func portsCIDRsMappedAndIPv6() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("net")
        let allowed = try LoopbackServer("127.0.0.1", tag: "allowed")
        let other = try LoopbackServer("127.0.0.1", tag: "other-port")
        let inCIDR = try LoopbackServer("127.0.0.2", tag: "cidr")
        // The neighbour listens on the CIDR server's port: only the address differs.
        let neighbour = try LoopbackServer("127.0.0.9", port: inCIDR.port, tag: "neighbour")
        let v6 = try LoopbackServer("::1", tag: "v6")
        let v6Other = try LoopbackServer("::1", tag: "v6-other")
        defer { [allowed, other, inCIDR, neighbour, v6, v6Other].forEach { $0.stop() } }

        let policy = try NetFixture.policy("""
          allow net connect tcp "127.0.0.1:\(allowed.port)", "127.0.0.0/30:\(inCIDR.port)", "[::1]:\(v6.port)"
        """, in: dir)
        try pythonClient.write(toFile: dir + "/client.py", atomically: true, encoding: .utf8)
        let targets = [
            "allowed_b=4:127.0.0.1:\(allowed.port):b", "allowed_t=4:127.0.0.1:\(allowed.port):t",
            "other_b=4:127.0.0.1:\(other.port):b", "other_t=4:127.0.0.1:\(other.port):t",
            "cidr=4:127.0.0.2:\(inCIDR.port):b", "neighbour=4:127.0.0.9:\(neighbour.port):b",
            "mapped_allowed=6:::ffff:127.0.0.1:\(allowed.port):b",
            "mapped_neighbour=6:::ffff:127.0.0.9:\(neighbour.port):b",
            "v6=6:::1:\(v6.port):t", "v6_other=6:::1:\(v6Other.port):b",
        ]
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, ["/usr/bin/python3", dir + "/client.py"] + targets)
        #expect(status == 0, "\(out)")
        #expect(kv["allowed_b"] == "ok:hello allowed", "\(out)")
        #expect(kv["allowed_t"] == "ok:hello allowed", "\(out)")
        #expect(kv["other_b"] == "ECONNREFUSED", "\(out)")
        #expect(kv["other_t"] == "ECONNREFUSED", "\(out)")
        #expect(kv["cidr"] == "ok:hello cidr", "\(out)")
        #expect(kv["neighbour"] == "ECONNREFUSED", "\(out)")
        #expect(kv["mapped_allowed"] == "ok:hello allowed", "\(out)")
        #expect(kv["mapped_neighbour"] == "ECONNREFUSED", "\(out)")
        #expect(kv["v6"] == "ok:hello v6", "\(out)")
        #expect(kv["v6_other"] == "ECONNREFUSED", "\(out)")
        #expect(other.acceptCount == 0)
        #expect(neighbour.acceptCount == 0)
        #expect(v6Other.acceptCount == 0)
        #expect(allowed.acceptCount == 3)

        // Audit: allowed and denied destinations, each with its rule or default deny.
        let records = NetFixture.auditRecords(in: dir)
        let text = records.map { "\($0)" }.joined(separator: "\n")
        let connects = records.filter { ($0["kind"] as? String) == "net.connect" }
        let denials = records.filter { ($0["kind"] as? String) == "deny.net" }
        #expect(!connects.isEmpty, "\(text)")
        #expect(!denials.isEmpty, "\(text)")
        let deniedText = denials.map { "\($0)" }.joined()
        #expect(deniedText.contains("127.0.0.9"), "\(text)")
        #expect(deniedText.contains("\(other.port)"), "\(text)")
        #expect(connects.map { "\($0)" }.joined().contains("policy.warden"), "\(text)")
    }

    @Test func rawPacketNetlinkAndSendmsgAreRefused() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netraw")
        let probe = try NetFixture.netprobe(in: dir)
        let allowedUDP = try LoopbackUDP("127.0.0.1")
        let deniedUDP = try LoopbackUDP("127.0.0.1")
        let policy = try NetFixture.policy("""
          allow net connect udp "127.0.0.1:\(allowedUDP.port)"
        """, in: dir)

        let (st1, out1, s) = try NetFixture.run(policy: policy, workspace: dir, [probe, "sockets"])
        #expect(st1 == 0, "\(out1)")
        for label in ["raw", "raw6", "packet", "packet_dgram", "inet_packet", "netlink", "netlink_dgram",
                      "sctp", "sctp6", "ping", "mptcp", "udplite"] {
            #expect(s[label] == "EACCES", "\(label): \(out1)")
        }
        #expect(s["io_uring"] != "ok", "\(out1)")
        #expect(s["tcp"] == "ok" && s["unix"] == "ok", "\(out1)")
        #expect(s["tcp_explicit"] == "ok" && s["udp_explicit"] == "ok", "\(out1)")
        #expect(s["unix_long"] == "EINVAL", "\(out1)")
        #expect(s["unix_long110"] != nil && s["unix_long110"] != "ok", "\(out1)")

        let (st2, out2, denied) = try NetFixture.run(policy: policy, workspace: dir, [probe, "sendmsg", "127.0.0.1", "\(deniedUDP.port)"])
        #expect(st2 == 0, "\(out2)")
        #expect(denied["sendmsg"] == "ECONNREFUSED", "\(out2)")
        #expect(denied["sendmmsg"] == "ECONNREFUSED", "\(out2)")
        #expect(denied["sendto"] == "ECONNREFUSED", "\(out2)")
        #expect(deniedUDP.drain() == 0)

        // Source routing (to a first hop the policy never decided) is refused both ways.
        let (st5, out5, srr) = try NetFixture.run(policy: policy, workspace: dir, [probe, "srr", "127.0.0.1", "\(allowedUDP.port)"])
        #expect(st5 == 0, "\(out5)")
        #expect(srr["srr_setsockopt"] == "EACCES", "\(out5)")
        #expect(srr["srr_cmsg"] == "EACCES", "\(out5)")
        #expect(srr["rthdr_setsockopt"] == "EACCES", "\(out5)")
        #expect(srr["pktoptions_setsockopt"] == "EACCES", "\(out5)")
        #expect(srr["tos_setsockopt"] == "ok", "\(out5)")
        #expect(allowedUDP.drain() == 0)

        // Descriptors passed with SCM_RIGHTS arrive; malformed control data is refused.
        let (st4, out4, scm) = try NetFixture.run(policy: policy, workspace: dir, [probe, "scm"])
        #expect(st4 == 0, "\(out4)")
        #expect(scm["scm"] == "ok:passed", "\(out4)")
        #expect(scm["scm_malformed"] == "EINVAL", "\(out4)")
        #expect(scm["scm_short"] == "EINVAL", "\(out4)")

        let (st3, out3, ok) = try NetFixture.run(policy: policy, workspace: dir, [probe, "sendmsg", "127.0.0.1", "\(allowedUDP.port)"])
        #expect(st3 == 0, "\(out3)")
        #expect(ok["sendmsg"] == "ok" && ok["sendmmsg"] == "ok" && ok["sendto"] == "ok", "\(out3)")
        #expect(allowedUDP.drain() == 3)
    }

    /// A thread flips the port of the sockaddr between an allowed and a denied listener
    /// while the main thread connects in a loop: no connection may reach the denied one.
    @Test func racingThreadNeverReachesTheDeniedListener() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netrace")
        let probe = try NetFixture.netprobe(in: dir)
        let allowed = try LoopbackServer("127.0.0.1", tag: "allowed")
        let denied = try LoopbackServer("127.0.0.1", tag: "denied")
        defer { allowed.stop(); denied.stop() }
        let policy = try NetFixture.policy("""
          allow net connect tcp "127.0.0.1:\(allowed.port)"
        """, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, [probe, "race", "\(allowed.port)", "\(denied.port)", "3000"])
        #expect(status == 0, "\(out)")
        let ok = Int(kv["race_ok"] ?? "") ?? -1
        let refused = Int(kv["race_refused"] ?? "") ?? -1
        #expect(ok + refused == 3000, "\(out)")
        // Both outcomes happened, so the flipper really raced the calls.
        #expect(ok > 0 && refused > 0, "\(out)")
        #expect(denied.acceptCount == 0, "\(out)")
        #expect(eventuallyEqual(allowed.acceptCount, ok), "accepted \(allowed.acceptCount) of \(ok)")
    }
}

extension NetworkMediationTests {
    /// Descriptor 100 is swapped between a unix and an inet socket, and the address between
    /// an allowed unix path and a denied inet address, while the main thread connects: a
    /// check-then-CONTINUE design would let some inet connects through; none may arrive.
    @Test func swappingTheDescriptorDuringConnectNeverReachesTheDeniedListener() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netswap")
        let probe = try NetFixture.netprobe(in: dir)
        let denied = try LoopbackServer("127.0.0.1", tag: "denied")
        let unrelated = try LoopbackServer("127.0.0.1", tag: "allowed")
        defer { denied.stop(); unrelated.stop() }
        // Some inet destination must be allowed so the identity has network rules.
        let policy = try NetFixture.policy("""
          allow net connect tcp "127.0.0.1:\(unrelated.port)"
        """, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, [probe, "fdswap", "\(denied.port)", "4000"])
        #expect(status == 0, "\(out)")
        let ok = Int(kv["fdswap_ok"] ?? "") ?? -1
        let failed = Int(kv["fdswap_failed"] ?? "") ?? -1
        #expect(ok + failed == 4000, "\(out)")
        let unix = Int(kv["fdswap_unix"] ?? "") ?? -1
        #expect(unix > 0, "some unix connects went through, so the swap raced real calls: \(out)")
        #expect(denied.acceptCount == 0, "\(out)")
    }
}

extension NetworkMediationTests {
    /// The same race for UDP: the port of a sendto address flips between an allowed and a
    /// denied receiver; no datagram may reach the denied one.
    @Test func racingThreadNeverSendsADatagramToTheDeniedReceiver() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netudprace")
        let probe = try NetFixture.netprobe(in: dir)
        let allowed = try LoopbackUDP("127.0.0.1")
        let denied = try LoopbackUDP("127.0.0.1")
        let policy = try NetFixture.policy("""
          allow net connect udp "127.0.0.1:\(allowed.port)"
        """, in: dir)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, [probe, "udprace", "\(allowed.port)", "\(denied.port)", "400"])
        #expect(status == 0, "\(out)")
        let ok = Int(kv["udprace_ok"] ?? "") ?? -1
        let refused = Int(kv["udprace_refused"] ?? "") ?? -1
        #expect(ok + refused == 400, "\(out)")
        #expect(ok > 0 && refused > 0, "\(out)")
        #expect(denied.drain() == 0, "\(out)")
        // Datagrams beyond the receive buffer may be dropped, so only bounds are checked.
        let received = allowed.drain()
        #expect(received > 0 && received <= ok, "\(received) of \(ok): \(out)")
    }
}

/// The server thread may still be accepting the last connections.
private func eventuallyEqual(_ a: @autoclosure () -> Int, _ b: Int) -> Bool {
    for _ in 0..<500 {
        if a() == b { return true }
        usleep(10_000)
    }
    return a() == b
}

private let pythonResolver = #"""
import errno, socket, sys
port = int(sys.argv[1])
def attempt(label, host):
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as e:
        print(f"{label}=gaierror:{e.args[0]}", flush=True); return
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(infos[0][4]); print(f"{label}=ok:{s.recv(64).decode().strip()}", flush=True)
    except OSError as e:
        print(f"{label}={errno.errorcode.get(e.errno, e.errno)}", flush=True)
    finally:
        s.close()
def unspec(label, host):
    # AF_UNSPEC: glibc asks A and AAAA together with sendmmsg.
    try:
        print(f"{label}=" + ",".join(sorted({i[4][0] for i in socket.getaddrinfo(host, port)})), flush=True)
    except socket.gaierror as e:
        print(f"{label}=gaierror:{e.args[0]}", flush=True)
attempt("before_lookup", "127.0.0.3")
unspec("unspec_allowed", "allowed.test")
unspec("unspec_other", "other.test")
attempt("allowed", "allowed.test")
attempt("after_lookup", "127.0.0.3")
attempt("wildcard", "api.cdn.test")
attempt("forbidden", "forbidden.test")
attempt("localhost", "localhost")
attempt("other", "other.test")
"""#

extension NetworkMediationTests {
    /// Domain rules through Warden's resolver, with the test's resolver upstream.
    @Test func domainRulesResolveThroughWardensResolver() throws {
        if let reason = NetFixture.skipReason { print("skip: \(reason)"); return }
        let dir = try NetFixture.tempDir("netdns")
        let server = try LoopbackServer("127.0.0.3", tag: "by-name")
        let cdn = try LoopbackServer("127.0.0.4", port: server.port, tag: "cdn")
        let other = try LoopbackServer("127.0.0.5", port: server.port, tag: "other")
        let local = try LoopbackServer("127.0.0.1", port: server.port, tag: "localhost")
        defer { server.stop(); cdn.stop(); other.stop(); local.stop() }
        let resolver = try TestResolver("127.0.0.7", records: [
            "allowed.test": [127, 0, 0, 3], "api.cdn.test": [127, 0, 0, 4],
            "forbidden.test": [127, 0, 0, 5], "other.test": [127, 0, 0, 5],
        ])
        let policy = try NetFixture.policy("""
          allow net connect tcp "allowed.test:\(server.port)", "*.cdn.test:\(server.port)", "forbidden.test:\(server.port)"
          allow net connect tcp "localhost:\(server.port)"
          deny net connect tcp "forbidden.test:*"
        """, in: dir)
        try pythonResolver.write(toFile: dir + "/resolve.py", atomically: true, encoding: .utf8)
        let (status, out, kv) = try NetFixture.run(policy: policy, workspace: dir, ["/usr/bin/python3", dir + "/resolve.py", "\(server.port)"],
                                                   env: ["WARDEN_DNS_UPSTREAM": "127.0.0.7:\(resolver.port)", "WARDEN_DNS_ALLOW_LOCAL_ANSWERS": "1"])
        #expect(status == 0, "\(out)")
        #expect(kv["before_lookup"] == "ECONNREFUSED", "\(out)")
        #expect(kv["unspec_allowed"] == "127.0.0.3", "\(out)")
        #expect(kv["unspec_other"]?.hasPrefix("gaierror") == true, "\(out)")
        #expect(kv["allowed"] == "ok:hello by-name", "\(out)")
        #expect(kv["after_lookup"] == "ok:hello by-name", "\(out)")
        #expect(kv["wildcard"] == "ok:hello cdn", "\(out)")
        #expect(kv["forbidden"]?.hasPrefix("gaierror") == true, "\(out)")
        #expect(kv["other"]?.hasPrefix("gaierror") == true, "\(out)")
        // Without the operator's opt-in, an allowed name answered with a loopback address does
        // not make it connectable (DNS rebinding to host services).
        let (_, rebound, rkv) = try NetFixture.run(policy: policy, workspace: dir, ["/usr/bin/python3", dir + "/resolve.py", "\(server.port)"],
                                                   env: ["WARDEN_DNS_UPSTREAM": "127.0.0.7:\(resolver.port)"])
        #expect(rkv["allowed"] == "ECONNREFUSED", "\(rebound)")
        // Names from /etc/hosts never reach a resolver; their addresses follow the name's rule.
        if (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8))?.contains("localhost") == true {
            #expect(kv["localhost"] == "ok:hello localhost", "\(out)")
        }
        // Names the policy does not allow never leave the machine.
        #expect(resolver.queries(for: "forbidden.test") == 0)
        #expect(resolver.queries(for: "other.test") == 0)
        #expect(resolver.queries(for: "allowed.test") > 0)
        #expect(other.acceptCount == 0)
        // curl resolves through the same resolver, with no proxy settings.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") {
            let (cst, cout, _) = try NetFixture.run(policy: policy, workspace: dir,
                                                    ["/usr/bin/curl", "-sS", "--http0.9", "http://api.cdn.test:\(server.port)/"],
                                                    env: ["WARDEN_DNS_UPSTREAM": "127.0.0.7:\(resolver.port)", "WARDEN_DNS_ALLOW_LOCAL_ANSWERS": "1"])
            // The greeting arrives; the server then closes without reading the request (a reset).
            #expect(cout.contains("hello cdn"), "exit \(cst): \(cout)")
            let (dst, dout, _) = try NetFixture.run(policy: policy, workspace: dir,
                                                    ["/usr/bin/curl", "-sS", "--http0.9", "http://other.test:\(server.port)/"],
                                                    env: ["WARDEN_DNS_UPSTREAM": "127.0.0.7:\(resolver.port)", "WARDEN_DNS_ALLOW_LOCAL_ANSWERS": "1"])
            #expect(dst == 6, "curl exits 6 (could not resolve host): \(dout)")
            #expect(resolver.queries(for: "other.test") == 0)
        }
        let all = NetFixture.auditRecords(in: dir)
        let records = all.map { "\($0)" }.joined(separator: "\n")
        #expect(records.contains("allowed.test"), "\(records)")
        // The connection to the looked-up address names the domain it came from and its rule.
        let byName = all.filter {
            ($0["kind"] as? String) == "net.connect"
                && (($0["fields"] as? [String: Any])?["destination"] as? String) == "127.0.0.3"
        }.compactMap { $0["fields"] as? [String: Any] }
        #expect(byName.contains { ($0["domain"] as? String) == "allowed.test" && (($0["rule"] as? String) ?? "").contains("allowed.test") }, "\(records)")
        #expect(records.contains("other.test"), "\(records)")
    }
}
