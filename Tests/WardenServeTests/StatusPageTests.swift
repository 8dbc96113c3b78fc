import Crypto
import Foundation
import Testing
import WardenAudit
@testable import WardenServe

/// The server's read side: the page escapes what peers chose, the API token guards it, the
/// routes answer as documented.
@Suite struct StatusPageTests {
    struct World {
        let dir = StoreTempDir()
        let store: ServeStore
        let application: ServeApplication

        init(token: String? = nil) throws {
            store = try ServeStore(path: dir.file("queue.sqlite3"))
            application = ServeApplication(policy: ServePolicy(path: "/p.warden", triggers: [], secrets: [:]), store: store,
                                           recorder: DecisionRecorder(logPath: dir.file("audit.jsonl"), signingKeyPath: nil),
                                           apiToken: token.map { Array($0.utf8) }, paused: { true })
        }

        func get(_ path: String, token: String? = nil) -> ServeResponse {
            var headers: [(name: String, value: String)] = []
            if let token { headers.append((name: "Authorization", value: "Bearer " + token)) }
            let parts = path.split(separator: "?", maxSplits: 1)
            return application.handle(ServeRequest(method: "GET", path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "", headers: headers))
        }
    }

    static func text(_ r: ServeResponse) -> String { String(decoding: r.body, as: UTF8.self) }

    @Test func thePageEscapesWhatPeersChose() throws {
        let w = try World()
        let hostile = "<script>alert(1)</script>\u{1b}[31m\"'&"
        _ = try w.store.enqueue(NewRun(trigger: "t", identity: "i", source: "github", repository: "acme/app", deliveryID: "d",
                                       decision: "0123456789abcdef", eventDocument: Array("{}".utf8), enqueuedAt: 1))
        let claimed = try #require(try w.store.claim(limits: ConcurrencyLimits(host: 1), now: 2))
        try w.store.finish(claimed.id, state: .failed, exitCode: nil, error: hostile, now: 3)
        let page = w.get("/")
        #expect(page.status == 200 && page.contentType.hasPrefix("text/html"))
        let html = Self.text(page)
        #expect(!html.contains("<script>") && !html.contains("\u{1b}") && html.contains("&lt;script&gt;") && html.contains("&quot;&#39;&amp;"), "\(html)")
        #expect(page.headers.contains { $0.name == "Content-Security-Policy" && $0.value.contains("default-src 'none'") })
        #expect(html.contains("paused"))
        // The JSON API gives the same run with its error as data.
        let api = w.get("/api/runs/\(claimed.id)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(api.body)) as? [String: Any])
        #expect(object["error"] as? String == hostile && object["state"] as? String == "failed")
    }

    @Test func theTokenGuardsEverythingButHealth() throws {
        let token = "s3cret-token-0123456789"
        let w = try World(token: token)
        for path in ["/", "/api/runs", "/metrics", "/api/runs/1", "/api/runs/1/records", "/api/events"] {
            #expect(w.get(path).status == 401, "\(path)")
            #expect(w.get(path, token: "wrong-token-0123456789").status == 401, "\(path)")
            #expect(w.get(path, token: String(token.dropLast())).status == 401, "a prefix of the token: \(path)")
        }
        #expect(w.get("/healthz").status == 200)
        #expect(w.get("/metrics", token: token).status == 200)
        #expect(w.get("/api/runs", token: token).status == 200)
    }

    @Test func routesAnswerAsDocumented() throws {
        let w = try World()
        #expect(w.get("/nowhere").status == 404)
        #expect(w.get("/api/runs/999").status == 404)
        #expect(w.get("/api/runs/not-a-number").status == 404)
        #expect(Self.text(w.get("/api/runs?limit=abc")) == "[]\n")
        let metrics = Self.text(w.get("/metrics"))
        #expect(metrics.contains("# TYPE warden_serve_runs gauge") && metrics.contains("warden_serve_paused 1"), "\(metrics)")
        let post = w.application.handle(ServeRequest(method: "POST", path: "/api/runs"))
        #expect(post.status == 405)
        let getHook = w.application.handle(ServeRequest(method: "GET", path: "/hooks/github"))
        #expect(getHook.status == 405)
        // A policy with no trigger at this endpoint: 404, and nothing recorded.
        let hook = w.application.handle(ServeRequest(method: "POST", path: "/hooks/github", body: Array("{}".utf8)))
        #expect(hook.status == 404)
    }

    /// The live section's script is the only one the page may run: the policy names exactly
    /// its hash (so an injected script cannot run), and it adds records as text.
    @Test func theLiveScriptIsAllowedByItsHashAlone() throws {
        let html = StatusPage.html([], queue: [:], paused: false, live: true)
        let start = try #require(html.range(of: "<script>")), end = try #require(html.range(of: "</script>"))
        let script = String(html[start.upperBound..<end.lowerBound])
        let digest = Data(SHA256.hash(data: Data(script.utf8))).base64EncodedString()
        #expect(StatusPage.contentSecurityPolicy.contains("script-src 'sha256-\(digest)'"), "\(StatusPage.contentSecurityPolicy)")
        #expect(html.components(separatedBy: "<script>").count == 2)
        #expect(script.contains("textContent") && !script.contains("innerHTML"))
    }

    /// Without a token, the read side answers only requests addressed to a local name, so a
    /// web page elsewhere cannot read it through DNS rebinding.
    @Test func withoutATokenOnlyLocalHostNamesAreAnswered() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file("queue.sqlite3"))
        let application = ServeApplication(policy: ServePolicy(path: "/p", triggers: [], secrets: [:]), store: store,
                                           recorder: DecisionRecorder(logPath: dir.file("a.jsonl"), signingKeyPath: nil), apiToken: nil,
                                           localHosts: ServeApplication.localHostNames(listening: "127.0.0.1"), paused: { false })
        func get(_ host: String?) -> Int {
            application.handle(ServeRequest(method: "GET", path: "/api/runs", headers: host.map { [(name: "Host", value: $0)] } ?? [])).status
        }
        for host in ["127.0.0.1:8420", "localhost:8420", "LOCALHOST", "[::1]:8420"] { #expect(get(host) == 200, "\(host)") }
        for host in ["attacker.example", "attacker.example:8420", "127.0.0.1.attacker.example", "[::2]:1"] { #expect(get(host) == 421, "\(host)") }
        #expect(get(nil) == 421)
        #expect(application.handle(ServeRequest(method: "GET", path: "/healthz", headers: [(name: "Host", value: "x")])).status == 200)
    }
}
