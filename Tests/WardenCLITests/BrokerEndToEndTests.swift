import Foundation
import Testing

/// The broker from outside (agent: BrokerFixtures/e2e_agent.sh): real clients (curl, python urllib and requests, node fetch) inside
/// `warden run` reach a recording HTTPS upstream through the broker. The upstream sees the
/// real secret; the agent never does (its environment, every file it can write, a dump of a
/// client's own memory, all output are searched for it); refusals answer 403 naming the rule;
/// a placeholder sent anywhere but its bound host is refused and audited; the run's identity
/// token verifies against `warden identity jwks`.
@Suite("broker end to end: clients, injection, refusals, placeholders, run token")
struct BrokerEndToEndTests {
    static let rules = """
          allow https GET, POST, PUT "api.broker.test:PORT/echo/**" with bearer gh-token
          allow https GET "api.broker.test:PORT/sse"
          allow https GET "api.broker.test:PORT/download/*"
          allow https PUT, POST "api.broker.test:PORT/upload"
          allow https GET, POST "api.broker.test:PORT/ph/**" with header "X-Token" gh-token
          deny  https DELETE "api.broker.test:PORT/**"
          allow https GET, POST "other.broker.test:PORT/echo/**"
          env placeholder GH_TOKEN = gh-token
        """

    @Test func clientsReachAllowedEndpointsWithTheSecretInjectedAndNeverSeeIt() throws {
        if let reason = BrokerWorld.skipReason { print("skip: \(reason)"); return }
        let world = try BrokerWorld(tag: "e2e")
        defer { world.stop() }
        let policy = try world.policy(Self.rules)
        let run = try world.run("e2e_agent.sh", [String(world.apiPort)], policy: policy, timeout: 120)
        let v = run.values
        #expect(run.status == 0, "\(run.all)")

        // curl, python urllib, requests, node: the upstream classified the Authorization it saw.
        #expect(v["curl_auth"] == "token", "\(run.all)")
        #expect(v["urllib_auth"] == "token", "\(run.all)")
        if v["requests_auth"] == "skip" {
            print("skip: python3 requests is not installed (apt-get install python3-requests); urllib covers python")
        } else {
            #expect(v["requests_auth"] == "token", "\(run.all)")
        }
        if v["node_auth"] == "skip" {
            print("skip: node is not installed")
        } else {
            #expect(v["node_auth"] == "token", "\(run.all)")
        }
        // The agent's own Authorization header was replaced, not added to.
        let curlSeen = world.upstreamRequests("/echo/curl")
        #expect(curlSeen.count == 1)
        if let r = curlSeen.first {
            #expect(BrokerWorld.headerValues(r, "authorization") == ["Bearer \(world.token)"])
            #expect((r["sni"] as? String) == "api.broker.test")
            #expect((r["body_sha256"] as? String) == v["curl_body_sha"], "the body arrived intact")
        }

        // Streaming and bulk bodies pass through intact and unbuffered.
        #expect(v["sse_events"] == "10", "\(run.all)")
        #expect((Double(v["sse_spread"] ?? "") ?? 0) >= 0.6, "events arrived together (buffered?): \(run.all)")
        #expect(v["download_sha"] == v["download_expect"] && v["download_bytes"] == "\(20 << 20)", "\(run.all)")
        #expect(v["upload_sha"] != nil && v["upload_sha"] == v["upload_expect"], "\(run.all)")

        // Refusals: 403 with the deciding rule named; the upstream never saw them.
        #expect(v["delete_status"] == "403", "\(run.all)")
        let deleteBody = v["delete_body"] ?? ""
        #expect(deleteBody.contains("warden: refused") && (deleteBody.contains("DELETE") || deleteBody.contains("policy.warden:")),
                "names the deny rule: \(run.all)")
        #expect(v["unlisted_status"] == "403", "\(run.all)")
        #expect(world.upstreamRequests("/echo/delete").isEmpty && world.upstreamRequests("/private").isEmpty)

        // Placeholder: replaced for the bound host, refused (and audited) elsewhere.
        #expect(v["placeholder_env"]?.hasPrefix("wdn_ph_") == true && v["placeholder_env"]?.count == 39, "\(run.all)")
        #expect(v["ph_bound_auth"] == "token", "\(run.all)")
        #expect(v["ph_other_status"] == "403", "\(run.all)")
        #expect(v["ph_url_status"] == "403", "\(run.all)")
        // In a body the placeholder may be found after the head went upstream: then the
        // request is aborted on both sides (curl reports 000) instead of answered 403.
        #expect(["403", "000"].contains(v["ph_body_status"] ?? ""), "\(run.all)")
        #expect(world.upstreamRequests("/ph/bound").map { BrokerWorld.headerValues($0, "x-token") } == [[world.token]],
                "the placeholder was replaced by the value for the bound host")
        #expect(world.upstreamRequests("/echo/ph-other").isEmpty, "the placeholder reached another host")
        #expect(world.upstreamRequests("/ph/url").isEmpty && world.upstreamRequests("/ph/body").isEmpty)
        let exfiltration = world.audit("http.exfiltration")
        #expect(exfiltration.count >= 3, "one record per attempt: \(exfiltration)")
        #expect(exfiltration.contains { ($0["secret"] as? String) == "gh-token" }, "\(exfiltration)")
        // Audit: requests name the secrets injected (names only), refusals the method and path.
        let requests = world.audit("http.request")
        #expect(requests.contains { Self.json($0).contains("gh-token") && Self.json($0).contains("/echo/curl") }, "\(requests)")
        #expect(world.audit("http.refused").contains { Self.json($0).contains("DELETE") && Self.json($0).contains("/echo/delete") },
                "\(world.audit("http.refused"))")

        if let shown = try WardenBinary.run(["audit", "show", world.auditLog]) {
            #expect(shown.status == 0 && shown.stdout.contains("placeholder of secret gh-token"), "audit show: \(shown.stdout.suffix(2000)) \(shown.stderr)")
            #expect(!world.containsSecret(shown.stdout + shown.stderr), "audit show prints the secret")
        }

        // Nowhere the agent can look holds the secret: output, env, files it wrote (home, /tmp,
        // workspace copies), its own memory after the requests. The audit log neither.
        #expect(!world.containsSecret(run.all), "the secret is in the agent's output")
        #expect(v["token_file"] == "1", "$WARDEN_ID_TOKEN_FILE: \(run.all)")
        #expect(v["env_has_placeholder"] == "1", "\(run.all)")
        #expect(Int(v["mem_bytes"] ?? "") ?? 0 > 1_000_000, "the memory dump is real: \(run.all)")
        #expect(v["seen_markers"] == "1", "the agent's home and /tmp were archived: \(run.all)")
        #expect(world.filesHoldingSecret(under: world.workspace).isEmpty, "\(world.filesHoldingSecret(under: world.workspace))")
        #expect(!world.containsSecret((try? String(contentsOfFile: world.auditLog, encoding: .utf8)) ?? ""), "the audit log holds the secret")
        #expect(world.containsSecret(try String(contentsOfFile: world.httpLog, encoding: .utf8)), "control: the upstream log has it")

        // The run's identity token: a file inside, verified from the host with `warden identity jwks`.
        try BrokerTokenCheck.verify(world: world, expectIdentity: "agent")
    }

    /// `allow http` (no TLS) goes through the broker too: the header is injected, a Host
    /// naming another name and unlisted requests are refused before the upstream.
    @Test func plainHTTPRulesAreBrokeredWithTheSecretInjected() throws {
        if let reason = BrokerWorld.skipReason { print("skip: \(reason)"); return }
        let world = try BrokerWorld(tag: "plain")
        defer { world.stop() }
        let log = world.dir + "/plain.jsonl"
        let plain = try FixtureServer(BrokerWorld.python, [BrokerWorld.fixtures + "/https_server.py", "--plain",
                                                           "--cert", world.certs + "/server.pem", "--key", world.certs + "/server.key",
                                                           "--log", log, "--token", world.token])
        defer { plain.stop() }
        let port = plain.ports[0]
        let policy = try world.policy("""
              allow http GET "api.broker.test:\(port)/echo/**" with header "x-api-key" gh-token
            """)
        let run = try world.run("plain_agent.sh", [String(port)], policy: policy)
        let v = run.values
        #expect(run.status == 0, "\(run.all)")
        #expect(v["plain_auth"] == "token", "\(run.all)")
        #expect((Int(v["plain_other_host"] ?? "") ?? 0) >= 400, "\(run.all)")
        #expect(v["plain_unlisted"] == "403" && v["plain_post"] == "403", "\(run.all)")
        let seen = BrokerWorld.jsonLines(log)
        #expect(seen.compactMap { $0["target"] as? String } == ["/echo/plain"], "only the allowed request arrived: \(seen.map { $0["target"] ?? "" })")
        #expect(seen.first.map { BrokerWorld.headerValues($0, "x-api-key") } == [world.token], "the agent's own X-Api-Key was replaced")
        #expect(!world.containsSecret(run.all))
    }

    static func json(_ fields: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: fields, options: [.withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Checks the run's identity token (copied by the agent to `token.jwt` in the workspace)
/// against `warden identity jwks` from the host: ES256 signature over header.payload with
/// the key whose kid the header names (verified with the openssl tool), and its claims.
enum BrokerTokenCheck {
    static func verify(world: BrokerWorld, expectIdentity: String) throws {
        let tokenPath = world.workspace + "/token.jwt"
        let jwt = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3, "not a JWS: \(jwt.prefix(80))")
        let header = try #require(try JSONSerialization.jsonObject(with: base64url(parts[0])) as? [String: Any])
        let claims = try #require(try JSONSerialization.jsonObject(with: base64url(parts[1])) as? [String: Any])
        #expect(header["alg"] as? String == "ES256" && header["typ"] as? String == "JWT")
        #expect(claims["sub"] as? String == expectIdentity, "\(claims)")
        #expect(claims["aud"] != nil && claims["iss"] != nil && claims["jti"] != nil && claims["run"] != nil, "\(claims)")
        let now = Date().timeIntervalSince1970
        #expect(((claims["iat"] as? Double) ?? .infinity) <= now + 5 && ((claims["exp"] as? Double) ?? 0) > now - 600, "\(claims)")
        #expect((claims["policy_sha256"] as? String)?.count == 64, "\(claims)")

        let jwks = try #require(try WardenBinary.run(["identity", "jwks"], environment: world.environment()))
        try #require(jwks.status == 0, "warden identity jwks: \(jwks.stderr)")
        let set = try #require(try JSONSerialization.jsonObject(with: Data(jwks.stdout.utf8)) as? [String: Any])
        let keys = (set["keys"] as? [[String: Any]]) ?? []
        let key = try #require(keys.first { $0["kid"] as? String == header["kid"] as? String }, "kid \(header["kid"] ?? "nil") not in \(jwks.stdout)")
        #expect(key["kty"] as? String == "EC" && key["crv"] as? String == "P-256" && key["alg"] as? String == "ES256")
        let x = try base64url(key["x"] as? String ?? ""), y = try base64url(key["y"] as? String ?? "")
        let signature = try base64url(parts[2])
        try #require(x.count == 32 && y.count == 32 && signature.count == 64, "key or signature size")

        // SubjectPublicKeyInfo for P-256 and a DER ECDSA signature, for `openssl dgst -verify`.
        let spki = Data([0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
                         0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04]) + x + y
        let pem = "-----BEGIN PUBLIC KEY-----\n" + spki.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) +
            "\n-----END PUBLIC KEY-----\n"
        let dir = world.dir
        try pem.write(toFile: dir + "/jwk.pem", atomically: true, encoding: .utf8)
        try Data((parts[0] + "." + parts[1]).utf8).write(to: URL(fileURLWithPath: dir + "/signed.bin"))
        try derSignature(signature).write(to: URL(fileURLWithPath: dir + "/sig.der"))
        let (ok, out) = try NetFixture.sh("/usr/bin/openssl", ["dgst", "-sha256", "-verify", dir + "/jwk.pem", "-signature", dir + "/sig.der", dir + "/signed.bin"])
        #expect(ok == 0 && out.contains("Verified OK"), "the token's signature does not verify with the JWKS key: \(out)")
        // A token with one claim changed must not verify (the check above could fail).
        var forged = claims
        forged["sub"] = "someone-else"
        let forgedPayload = try JSONSerialization.data(withJSONObject: forged).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try Data((parts[0] + "." + forgedPayload).utf8).write(to: URL(fileURLWithPath: dir + "/signed.bin"))
        let (bad, _) = try NetFixture.sh("/usr/bin/openssl", ["dgst", "-sha256", "-verify", dir + "/jwk.pem", "-signature", dir + "/sig.der", dir + "/signed.bin"])
        #expect(bad != 0, "a forged token verified")
    }

    static func base64url(_ s: String) throws -> Data {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return try #require(Data(base64Encoded: t), "bad base64url: \(s.prefix(40))")
    }

    /// r||s (64 bytes) as a DER SEQUENCE of two INTEGERs.
    static func derSignature(_ raw: Data) -> Data {
        func integer(_ bytes: Data) -> [UInt8] {
            var b = Array(bytes.drop { $0 == 0 })
            if b.isEmpty { b = [0] }
            if b[0] & 0x80 != 0 { b.insert(0, at: 0) }
            return [0x02, UInt8(b.count)] + b
        }
        let body = integer(raw.prefix(32)) + integer(raw.suffix(32))
        return Data([0x30, UInt8(body.count)] + body)
    }
}
