import Foundation
import Testing

/// Hostile clients against the broker, from inside `warden run`, with raw bytes over TLS:
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

    /// Smuggling and framing shapes; each must be refused (status >= 400 or the connection
    /// closed without a response) and never reach the upstream. `@H` is the Host header value.
    static let shapes: [(name: String, raw: String)] = [
        ("cl_te", "POST /echo/atk-cl-te HTTP/1.1\r\nHost: @H\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/atk-smuggled HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("te_list", "POST /echo/atk-te-list HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("te_space_colon", "POST /echo/atk-te-space HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
        ("te_twice", "POST /echo/atk-te-twice HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"),
        ("te_xchunked", "POST /echo/atk-te-x HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
        ("te_vtab", "POST /echo/atk-te-vtab HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding:\u{0B}chunked\r\n\r\n0\r\n\r\n"),
        ("cl_twice", "POST /echo/atk-cl-twice HTTP/1.1\r\nHost: @H\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"),
        ("cl_sign", "POST /echo/atk-cl-sign HTTP/1.1\r\nHost: @H\r\nContent-Length: +3\r\n\r\nabc"),
        ("obs_fold", "GET /echo/atk-fold HTTP/1.1\r\nHost: @H\r\nX-A: a\r\n b\r\n\r\n"),
        ("bare_lf", "GET /echo/atk-lf HTTP/1.1\nHost: @H\n\n"),
        ("nul_header", "GET /echo/atk-nul HTTP/1.1\r\nHost: @H\r\nX-A: a\u{00}b\r\n\r\n"),
        ("two_hosts", "GET /echo/atk-two-hosts HTTP/1.1\r\nHost: @H\r\nHost: other.broker.test\r\n\r\n"),
        ("pct2f", "GET /echo/atk-a%2Fb HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("pct5c", "GET /echo/atk-a%5Cb HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("dotdot", "GET /echo/../atk-dotdot HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("dotdot_encoded", "GET /echo/%2e%2e/atk-dotdot-enc HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("absolute_mismatch", "GET https://other.broker.test:@P/echo/atk-absolute HTTP/1.1\r\nHost: @H\r\n\r\n"),
        ("connect", "CONNECT other.broker.test:@P HTTP/1.1\r\nHost: other.broker.test:@P\r\n\r\n"),
        ("http09", "GET /echo/atk-http09\r\n\r\n"),
        ("version", "GET /echo/atk-version HTTP/1.2\r\nHost: @H\r\n\r\n"),
    ]

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
        let run = try world.run(Self.agentScript(port: world.apiPort, roguePort: rogue.ports[0]), interpreter: BrokerWorld.python,
                                policy: policy, timeout: 150)
        let v = run.values
        #expect(run.status == 0, "\(run.all)")
        #expect(v["control"] == "200", "an ordinary request works: \(run.all)")

        for shape in Self.shapes {
            let result = v["shape_" + shape.name] ?? "missing"
            #expect(result == "closed" || (Int(result) ?? 0) >= 400, "\(shape.name): \(result)")
        }
        #expect(world.upstreamRequests("/echo/atk").isEmpty && world.upstreamRequests("/atk").isEmpty,
                "reached the upstream: \(world.upstreamRequests("/echo/atk").map { $0["target"] ?? "" })")
        #expect(!BrokerWorld.jsonLines(world.httpLog).contains { ($0["method"] as? String) == "CONNECT" })

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
        #expect(world.audit("http.refused").count >= Self.shapes.count / 2, "\(world.audit("http.refused").count) refusals audited")
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

    static func agentScript(port: UInt16, roguePort: UInt16) -> String {
        var shapes = "SHAPES = [\n"
        for s in shapes_() { shapes += "    (\(pyString(s.name)), \(pyString(s.raw))),\n" }
        shapes += "]\n"
        return """
        import os, socket, ssl, subprocess, time, urllib.request, urllib.error
        PORT = \(port)
        ROGUE = \(roguePort)
        HOST = "api.broker.test:%d" % PORT
        W = os.getcwd()
        \(shapes)
        def out(k, v):
            print("%s=%s" % (k, v), flush=True)

        def loose():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx

        def connect(sni="api.broker.test", ctx=None, name="api.broker.test", port=PORT):
            s = socket.create_connection((name, port), timeout=10)
            return (ctx or loose()).wrap_socket(s, server_hostname=sni)

        def exchange(raw, **kw):
            # status code of the first response, or "closed" when the broker hung up without one
            try:
                s = connect(**kw)
            except ssl.SSLError as e:
                return "handshake-failed:" + e.reason if e.reason else "handshake-failed"
            except OSError as e:
                return "closed"
            try:
                s.sendall(raw)
                data = b""
                while b"\\r\\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            finally:
                s.close()
            if not data.startswith(b"HTTP/1."):
                return "closed"
            return data.split(b" ")[1].decode()

        def get(url, ctx=None, timeout=10):
            try:
                with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
                    r.read()
                    return str(r.status)
            except urllib.error.HTTPError as e:
                return str(e.code)
            except ssl.SSLCertVerificationError as e:
                return "verify-failed:" + str(e.verify_message)
            except Exception as e:
                return "error:" + type(e).__name__ + ":" + str(e).replace("\\n", " ")[:120]

        # Resolve every name once (the broker accepts SNI among names this run resolved).
        for n in ("api.broker.test", "other.broker.test", "slow.broker.test"):
            socket.getaddrinfo(n, PORT)
        out("control", get("https://%s/echo/control" % HOST))

        for name, raw in SHAPES:
            out("shape_" + name, exchange(raw.replace("@H", HOST).replace("@P", str(PORT)).encode("latin-1")))

        out("sni_host", exchange(("GET /echo/sni-host HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % HOST).encode(), sni="other.broker.test"))
        out("sni_unknown", exchange(("GET /echo/sni-unknown HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % HOST).encode(), sni="unresolved.broker.test"))

        # Oversized head: 70 KiB of one header; then, is the connection closed?
        s = connect()
        s.sendall(("GET /echo/atk-huge HTTP/1.1\\r\\nHost: %s\\r\\nX-Big: %s\\r\\n\\r\\n" % (HOST, "a" * 70000)).encode())
        data = b""
        closed = 0
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = 1
                    break
                data += chunk
        except OSError:
            closed = 1
        out("huge_head", data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.") else "closed")
        out("huge_head_closed", closed)
        s.close()
        many = "".join("X-H%d: v\\r\\n" % i for i in range(150))
        out("many_headers", exchange(("GET /echo/atk-many HTTP/1.1\\r\\nHost: %s\\r\\n%s\\r\\n" % (HOST, many)).encode()))
        out("after_huge", get("https://%s/echo/after-huge" % HOST))

        # 50 slow clients: 25 never start TLS, 25 send half a request head and stall.
        slow = []
        for i in range(50):
            try:
                if i % 2:
                    t = socket.create_connection(("api.broker.test", PORT), timeout=10)
                else:
                    t = connect()
                    t.sendall(("GET /echo/slow-%d HTTP/1.1\\r\\nHost: %s\\r\\nX-Slow: " % (i, HOST)).encode())
                slow.append(t)
            except OSError as e:
                out("slow_error", str(e))
        out("slow_held", len(slow))
        start = time.monotonic()
        out("during_slow", get("https://%s/echo/during-slow" % HOST))
        out("during_slow_seconds", "%.3f" % (time.monotonic() - start))
        for t in slow:
            t.close()

        # Own trust: the agent's CA, or the upstream's real CA; the broker's leaf is what it gets.
        out("own_ca", get("https://%s/echo/own-ca" % HOST, ssl.create_default_context(cafile=W + "/agent-ca.pem")))
        out("upstream_ca", get("https://%s/echo/upstream-ca" % HOST, ssl.create_default_context(cafile=W + "/ca.pem")))
        env = dict(os.environ, SSL_CERT_FILE=W + "/agent-ca.pem", CURL_CA_BUNDLE=W + "/agent-ca.pem")
        out("curl_own_ca", subprocess.run(["curl", "-s", "-o", "/dev/null", "https://%s/echo/curl-own-ca" % HOST], env=env).returncode)
        pem = subprocess.run(["openssl", "s_client", "-connect", "api.broker.test:%d" % PORT, "-servername", "api.broker.test"],
                             input=b"", capture_output=True).stdout
        issuer = subprocess.run(["openssl", "x509", "-noout", "-issuer"], input=pem, capture_output=True).stdout.decode().strip()
        out("presented_issuer", issuer or "none")
        pin = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        pin.load_verify_locations(cadata=open(W + "/server.pem").read())
        pin.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        out("pinned", get("https://%s/echo/pinned" % HOST, pin))

        # The impostor upstream.
        out("rogue", get("https://slow.broker.test:%d/echo/rogue" % ROGUE))
        """
    }

    private static func shapes_() -> [(name: String, raw: String)] { shapes }

    /// A Python string literal holding exactly `text` (escapes every non-printable byte).
    static func pyString(_ text: String) -> String {
        var out = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case " "..."~": out.unicodeScalars.append(u)
            default: out += String(format: "\\x%02x", u.value)
            }
        }
        return out + "\""
    }
}
