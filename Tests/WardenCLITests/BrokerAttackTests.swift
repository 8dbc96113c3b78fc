import Foundation
import Testing

/// Hostile clients against the broker, from inside `warden run` (BrokerFixtures/attack_agent.py), with raw bytes over TLS:
/// SNI different from Host, request smuggling shapes, encoded separators and dot segments,
/// absolute-form mismatch, CONNECT, oversized heads (the broker still serves the next
/// client), 50 slow clients while a normal request completes quickly, an agent trusting its
/// own CA or the upstream's CA, an agent pinning the upstream's certificate, and an impostor
/// upstream the broker must not trust. Each refused request is checked at the upstream: it
/// never arrived.
@Suite("broker end to end: hostile clients")
struct BrokerAttackTests {
    static let rules = """
          allow https * "api.broker.test:PORT/echo/**"
          allow https GET "other.broker.test:PORT/echo/**"
          allow https GET "slow.broker.test:ROGUE/**"
        """

    /// Smuggling and framing shapes attack_agent.py sends raw over TLS (`shape_NAME` lines).
    static let shapeCount = 20

    @Test func hostileRequestsAreRefusedBeforeTheUpstreamAndTheBrokerKeepsServing() throws {
        if let reason = BrokerWorld.skipReason { print("skip: \(reason)"); return }
        let world = try BrokerWorld(tag: "attack")
        defer { world.stop() }
        // An impostor upstream: a valid-looking certificate for the names from a CA the broker does not trust.
        let rogue = try FixtureServer(BrokerWorld.python, [BrokerWorld.fixtures + "/https_server.py",
                                                           "--cert", world.certs + "/rogue.pem", "--key", world.certs + "/rogue.key",
                                                           "--log", world.dir + "/rogue.jsonl"])
        defer { rogue.stop() }
        let policy = try world.policy(Self.rules.replacingOccurrences(of: "ROGUE", with: String(rogue.ports[0])))
        let run = try world.run("attack_agent.py", [String(world.apiPort), String(rogue.ports[0])], policy: policy, timeout: 150)
        let v = run.values
        #expect(run.status == 0, "\(run.all)")
        #expect(v["control"] == "200", "an ordinary request works: \(run.all)")

        let shapes = v.filter { $0.key.hasPrefix("shape_") }
        #expect(shapes.count == Self.shapeCount, "\(run.all)")
        for (name, result) in shapes.sorted(by: { $0.key < $1.key }) {
            #expect(result == "closed" || (Int(result) ?? 0) >= 400, "\(name): \(result)")
        }
        let reached = world.upstreamRequests().compactMap { $0["target"] as? String }.filter { $0.contains("atk") }
        #expect(reached.isEmpty, "reached the upstream: \(reached)")
        #expect(!BrokerWorld.jsonLines(world.httpLog).contains { ($0["method"] as? String) == "CONNECT" })

        // Requests written back to back on one connection are each decided: a refused second
        // request (no rule; another Host than the SNI) never rides on an allowed first one.
        for key in ["pipelined", "pipelined_host"] {
            let statuses = (v[key] ?? "").split(separator: ",").map(String.init)
            #expect(statuses.first == "200", "\(key): \(v[key] ?? "missing")")
            #expect(statuses.count == 1 || (Int(statuses[1]) ?? 0) >= 400, "\(key): \(v[key] ?? "missing")")
        }
        #expect(world.upstreamRequests("/echo/pipe-first").count == 1 && world.upstreamRequests("/echo/pipe-host").count == 1)

        // SNI other than Host (both names served here); an SNI naming nothing this run resolved.
        #expect(Int(v["sni_host"] ?? "") ?? 0 >= 400 || v["sni_host"] == "closed", "\(run.all)")
        let unknown = v["sni_unknown"] ?? "missing"
        #expect(unknown.hasPrefix("handshake-failed") || unknown == "closed" || (Int(unknown) ?? 0) >= 400, "\(run.all)")
        #expect(world.upstreamRequests("/echo/sni").isEmpty)

        // Oversized heads: 431 (or 400) and closed; the next client is served.
        #expect(["431", "400", "closed"].contains(v["huge_head"] ?? ""), "\(run.all)")
        #expect(v["huge_head_closed"] == "1", "\(run.all)")
        #expect(["431", "400", "closed"].contains(v["many_headers"] ?? ""), "\(run.all)")
        #expect(v["after_huge"] == "200", "\(run.all)")

        // 50 slow clients hold connections; a normal request still completes quickly.
        #expect(v["slow_held"] == "50", "\(run.all)")
        #expect(v["during_slow"] == "200", "\(run.all)")
        #expect((Double(v["during_slow_seconds"] ?? "") ?? 99) < 3, "\(run.all)")

        // The agent's own trust changes nothing: only the broker's certificate is presented.
        #expect(v["own_ca"]?.hasPrefix("verify-failed") == true, "\(run.all)")
        #expect(v["upstream_ca"]?.hasPrefix("verify-failed") == true, "the agent saw the upstream's certificate: \(run.all)")
        #expect(v["curl_own_ca"] == "60", "curl with CURL_CA_BUNDLE/SSL_CERT_FILE at its own CA: \(run.all)")
        #expect(v["presented_issuer"] != nil && v["presented_issuer"]?.contains("Warden e2e") == false, "\(run.all)")
        // Pinning the real server certificate fails inside (the broker's leaf is presented)...
        #expect(v["pinned"]?.hasPrefix("verify-failed") == true, "\(run.all)")
        // ...and works against the same server directly from the host (the pin itself is right).
        let (pinStatus, pinOut) = try NetFixture.sh(BrokerWorld.python, ["-c", Self.pinScript, world.certs + "/server.pem", String(world.apiPort)])
        #expect(pinStatus == 0 && pinOut.contains("pinned=ok"), "control pin: \(pinOut)")

        // The impostor upstream: the broker's verification fails; the agent gets no data.
        #expect(v["rogue"] != "200", "\(run.all)")
        #expect(BrokerWorld.jsonLines(world.dir + "/rogue.jsonl").isEmpty, "a request reached the impostor upstream")

        // Every refusal is audited; the secret never appears.
        #expect(world.audit("http.refused").count >= Self.shapeCount / 2, "\(world.audit("http.refused").count) refusals audited")
        #expect(!world.containsSecret(run.all))
    }

    static let pinScript = """
    import socket, ssl, sys
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=open(sys.argv[1]).read())
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10), server_hostname="api.broker.test")
    print("pinned=ok")
    """
}
