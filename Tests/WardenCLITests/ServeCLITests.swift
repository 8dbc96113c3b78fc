import Foundation
import Testing

/// `warden serve` through the real binary: a signed generic webhook is decided, recorded,
/// queued and run with its event in the agent's world; unsigned, stale and repeated
/// deliveries are refused; the kill switch holds launches; a restart resumes the queue and
/// records a run that was going as interrupted; SIGTERM stops cleanly.
@Suite("warden serve", .serialized) struct ServeCLITests {
    static let key = "k3y-for-the-build-hook-0123456789"

    struct World {
        let dir: String
        var policy: String { dir + "/agents.warden" }
        var log: String { dir + "/audit/audit.jsonl" }
        var state: String { dir + "/state" }

        init(command: String = #"cat "$WARDEN_EVENT_FILE" > event-seen.json; echo done > out.txt"#, triggers: String? = nil) throws {
            dir = try WardenBinary.tempDir("serve")
            chmod(dir, 0o755)
            for d in ["/audit", "/state"] { try FileManager.default.createDirectory(atPath: dir + d, withIntermediateDirectories: true) }
            try ServeCLITests.key.write(toFile: dir + "/hook-key", atomically: true, encoding: .utf8)
            chmod(dir + "/hook-key", 0o600)
            let body = triggers ?? """
            trigger on-build {
              identity default
              on webhook "build"
              secret hook-key
              workspace empty
              fields "ref", "note"
              run "sh", "-c", \(Self.quoted(command))
            }
            """
            try """
            warden 1
            include "\(WardenBinary.root)/policies/default.warden"
            secret hook-key from file "\(dir)/hook-key"

            \(body)

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        }

        static func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }

        func start(_ extra: [String] = []) throws -> Server {
            unlink(state + "/listening")
            return try Server(["serve", "--policy", policy, "--listen", "127.0.0.1:0", "--state-dir", state, "--audit-log", log] + extra, world: self)
        }

        func records() -> [[String: Any]] { CLISupport.auditRecords(log) }
    }

    /// A `warden serve` in the background.
    final class Server {
        let process = Process()
        let out: String
        var port = 0

        init(_ arguments: [String], world: World) throws {
            out = world.dir + "/serve-output-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            process.executableURL = URL(fileURLWithPath: WardenBinary.path)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: WardenBinary.root)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try handle.close()
            let listening = world.state + "/listening"
            guard ServeCLITests.wait(for: { FileManager.default.fileExists(atPath: listening) || !self.process.isRunning }),
                  let text = try? String(contentsOfFile: listening, encoding: .utf8),
                  let p = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
                throw Failure("warden serve did not start: \(output)")
            }
            port = p
        }

        var output: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }

        /// Sends `signal` and waits for the exit (SIGKILL after a minute); the status.
        func stop(_ signal: Int32 = SIGTERM) -> Int32 {
            kill(process.processIdentifier, signal)
            if !ServeCLITests.wait(for: { !self.process.isRunning }) {
                Issue.record("warden serve did not stop: \(output)")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func wait(seconds: Int = 60, for condition: () -> Bool) -> Bool {
        for _ in 0..<(seconds * 10) {
            if condition() { return true }
            usleep(100_000)
        }
        return false
    }

    /// One request through python3's urllib, signed (when `sign` says how) with python3's
    /// hmac, an implementation independent of Warden's; (status, body).
    static func request(port: Int, method: String = "POST", path: String, headers: [String: String] = [:], body: String? = nil,
                        sign: [String: String]? = nil) throws -> (Int, String) {
        let script = """
        import hmac, hashlib, json, sys, urllib.request, urllib.error
        spec = json.loads(sys.argv[1])
        data = spec["body"].encode() if spec.get("body") is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (spec["port"], spec["path"]), data=data, method=spec["method"])
        for k, v in spec["headers"].items(): req.add_header(k, v)
        sign = spec.get("sign")
        if sign and sign["kind"] == "github":
            req.add_header("X-Hub-Signature-256", "sha256=" + hmac.new(sign["key"].encode(), data, hashlib.sha256).hexdigest())
        elif sign and sign["kind"] == "generic":
            msg = (sign["ts"] + ".").encode() + data
            req.add_header("X-Warden-Signature", "sha256=" + hmac.new(sign["key"].encode(), msg, hashlib.sha256).hexdigest())
        try:
            r = urllib.request.urlopen(req, timeout=30)
            print(r.status); print(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); print(e.read().decode())
        """
        var spec: [String: Any] = ["port": port, "method": method, "path": path, "headers": headers]
        if let body { spec["body"] = body }
        if let sign { spec["sign"] = sign }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let r = try CLISupport.run("/usr/bin/env", ["python3", "-c", script, json])
        let lines = r.stdout.split(separator: "\n", maxSplits: 1)
        guard let status = lines.first.flatMap({ Int($0) }) else { throw Failure("no answer: \(r.stdout) \(r.stderr)") }
        return (status, lines.count > 1 ? String(lines[1]) : "")
    }

    /// POSTs `body` to a generic hook, signed with `key` (none: unsigned) at `timestamp`.
    static func deliver(port: Int, body: String, delivery: String, key: String? = ServeCLITests.key,
                        timestamp: Int = Int(Date().timeIntervalSince1970), path: String = "/hooks/webhook/build") throws -> (Int, String) {
        try request(port: port, path: path, headers: ["Content-Type": "application/json", "X-Warden-Delivery": delivery,
                                                     "X-Warden-Timestamp": String(timestamp)],
                    body: body, sign: key.map { ["kind": "generic", "key": $0, "ts": String(timestamp)] })
    }

    /// POSTs a GitHub-style delivery, signed like GitHub (HMAC-SHA256 of the body in
    /// X-Hub-Signature-256) with `key`, or with `signature` as given.
    static func deliverGitHub(port: Int, body: String, event: String = "pull_request", delivery: String,
                              key: String = ServeCLITests.key, signature: String? = nil) throws -> (Int, String) {
        var headers = ["Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery]
        if let signature { headers["X-Hub-Signature-256"] = signature }
        return try request(port: port, path: "/hooks/github", headers: headers, body: body,
                           sign: signature == nil ? ["kind": "github", "key": key] : nil)
    }

    /// A GitHub pull_request payload, updated `age` seconds ago (GitHub dates every payload;
    /// the server refuses one older than its delivery ledger remembers).
    static func pullRequest(repository: String = "acme/app", sender: String = "alice", head: String, action: String = "opened",
                            age: Int = 0) -> String {
        let updated = ISO8601DateFormatter().string(from: Date(timeIntervalSinceNow: -Double(age)))
        return """
        {"action":"\(action)","number":7,"pull_request":{"number":7,"title":"Bump deps","head":{"ref":"feature","sha":"\(head)"},\
        "base":{"ref":"main","sha":"\(head)"},"created_at":"2020-01-01T00:00:00Z","updated_at":"\(updated)"},\
        "repository":{"full_name":"\(repository)","clone_url":"https://github.com/\(repository).git","pushed_at":1577836800},\
        "sender":{"login":"\(sender)"}}
        """
    }

    /// GET `path`.
    static func get(port: Int, _ path: String) throws -> (Int, String) {
        try request(port: port, method: "GET", path: path)
    }

    static func run(port: Int, _ id: Int) -> [String: Any]? {
        guard let (status, body) = try? get(port: port, "/api/runs/\(id)"), status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    static var isRoot: Bool {
        if getuid() == 0 { return true }
        print("skip: needs root (warden run's mounts)")
        return false
    }

    @Test func aSignedDeliveryIsDecidedRecordedQueuedAndRunWithItsEvent() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let server = try w.start()
        let body = #"{"ref":"refs/heads/main","note":"line\u0007two","other":"not passed"}"#
        let (status, answer) = try Self.deliver(port: server.port, body: body, delivery: "d-1")
        #expect(status == 202, "\(answer) \(server.output)")
        #expect(Self.wait { (Self.run(port: server.port, 1)?["state"] as? String) == "finished" }, "\(server.output)")
        let run = try #require(Self.run(port: server.port, 1))
        #expect(run["exit_code"] as? Int == 0, "\(run)")
        let workspace = try #require(run["workspace"] as? String)
        #expect(try String(contentsOfFile: workspace + "/out.txt", encoding: .utf8) == "done\n")
        let seen = try String(contentsOfFile: workspace + "/event-seen.json", encoding: .utf8)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(seen.utf8)) as? [String: Any])
        #expect(event["source"] as? String == "webhook")
        let fields = try #require(event["fields"] as? [String: Any])
        #expect(fields["ref"] as? String == "refs/heads/main" && fields["note"] as? String == "line\u{7}two", "\(event)")
        #expect(event["delivery"] as? String == "d-1" && event["trigger"] as? String == "on-build")
        #expect(!seen.contains("not passed"), "only the trigger's fields reach the agent: \(seen)")

        // The decision and the run are tied together in the trail.
        let records = w.records()
        let allow = try #require(records.first { $0["kind"] as? String == "trigger.allow" })
        let allowFields = try #require(allow["fields"] as? [String: Any])
        #expect(allowFields["delivery"] as? String == "d-1")
        #expect(allowFields["trigger"] as? String == "on-build")
        let start = try #require(records.first { $0["kind"] as? String == "run.start" })
        let startFields = try #require(start["fields"] as? [String: Any])
        #expect(startFields["trigger"] as? String == "on-build")
        #expect(startFields["trigger_decision"] as? String == allow["run"] as? String)
        #expect(start["run"] as? String == run["run_id"] as? String)
        let sum = try CLISupport.run("/usr/bin/sha256sum", [w.state + "/runs/1/event.json"])
        #expect(startFields["event_sha256"] as? String == sum.stdout.split(separator: " ").first.map(String.init))

        // One click from the run to its records: the decision, then the run's own.
        let (recordsStatus, recordsBody) = try Self.get(port: server.port, "/api/runs/1/records")
        let recordsDocument = try #require(try JSONSerialization.jsonObject(with: Data(recordsBody.utf8)) as? [String: Any])
        let kinds = (recordsDocument["records"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(recordsStatus == 200 && kinds.first == "trigger.allow" && kinds.contains("run.start") && kinds.last == "run.exit", "\(kinds)")

        // The same delivery again: acknowledged, not run twice.
        let (again, againBody) = try Self.deliver(port: server.port, body: body, delivery: "d-1")
        #expect(again == 200 && againBody.contains("duplicate"), "\(againBody)")
        #expect(Self.run(port: server.port, 2) == nil)
        #expect(server.stop() == 0, "\(server.output)")
        // Intact (3: no public key was given to check checkpoint signatures with).
        let verify = try WardenBinary.run(["audit", "verify", w.log])
        #expect(verify?.status == 3 && ((verify?.stdout ?? "") + (verify?.stderr ?? "")).contains("the chain is intact"), "\(verify?.stdout ?? "") \(verify?.stderr ?? "")")
    }

    @Test func unsignedStaleAndForgedDeliveriesAreRefusedAndRecorded() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let server = try w.start()
        defer { _ = server.stop() }
        let body = #"{"ref":"x"}"#
        let (unsigned, _) = try Self.deliver(port: server.port, body: body, delivery: "u-1", key: nil)
        let (forged, _) = try Self.deliver(port: server.port, body: body, delivery: "u-2", key: "not-the-key")
        let (stale, _) = try Self.deliver(port: server.port, body: body, delivery: "u-3", timestamp: Int(Date().timeIntervalSince1970) - 3600)
        let (nohook, _) = try Self.deliver(port: server.port, body: body, delivery: "u-4", path: "/hooks/webhook/other")
        #expect([401, 403].contains(unsigned) && [401, 403].contains(forged) && [401, 403].contains(stale), "\(unsigned) \(forged) \(stale)")
        #expect(nohook == 404)
        #expect(Self.run(port: server.port, 1) == nil, "nothing was queued")
        let refusals = w.records().filter { $0["kind"] as? String == "trigger.refuse" }
        #expect(refusals.count == 3, "\(refusals)")
        #expect(refusals.allSatisfy { ($0["fields"] as? [String: Any])?["authenticated"] as? Bool == false })
    }

    @Test func theKillSwitchHoldsLaunchesAndARestartResumesTheQueue() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        _ = FileManager.default.createFile(atPath: w.state + "/paused", contents: nil)
        var server = try w.start()
        let (status, answer) = try Self.deliver(port: server.port, body: #"{"ref":"held"}"#, delivery: "p-1")
        #expect(status == 202, "\(answer)")
        usleep(1_500_000)
        #expect(Self.run(port: server.port, 1)?["state"] as? String == "queued")
        let (_, metrics) = try Self.get(port: server.port, "/metrics")
        #expect(metrics.contains("warden_serve_paused 1") && metrics.contains("warden_serve_runs{state=\"queued\"} 1"), "\(metrics)")
        // Killed outright: the queue is on disk.
        #expect(server.stop(SIGKILL) != 0)
        unlink(w.state + "/paused")
        server = try w.start()
        defer { _ = server.stop() }
        #expect(Self.wait { (Self.run(port: server.port, 1)?["state"] as? String) == "finished" }, "\(server.output)")
    }

    /// An identity's kill switch stops its running run (recorded, the run interrupted),
    /// refuses its deliveries, shows in the metrics, and, once cleared, lets it run again.
    @Test func anIdentitysKillSwitchStopsItsRunsAndRefusesItsLaunches() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let token = String(UInt32.random(in: 100_000...999_999))
        let w = try World(command: "echo started > started; exec sleep 3\(token)")
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let server = try w.start()
        defer { _ = server.stop() }
        #expect(try Self.deliver(port: server.port, body: #"{"ref":"one"}"#, delivery: "k-1").0 == 202)
        #expect(Self.wait { FileManager.default.fileExists(atPath: w.state + "/runs/1/workspace/started") }, "\(server.output)")
        try FileManager.default.createDirectory(atPath: w.state + "/kill-switch", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: w.state + "/kill-switch/default", contents: nil)
        #expect(Self.wait { (Self.run(port: server.port, 1)?["state"] as? String) == "interrupted" }, "\(server.output)")
        #expect(RunSignalsCLITests.processes(containing: "sleep 3\(token)").isEmpty)
        let on = w.records().first { $0["kind"] as? String == "serve.kill_switch" }
        let onFields = on?["fields"] as? [String: Any]
        #expect(onFields?["identity"] as? String == "default" && onFields?["state"] as? String == "on"
                && onFields?["stopped"] as? [Int] == [1], "\(String(describing: on))")
        #expect(w.records().contains { $0["kind"] as? String == "run.exit" }, "the stopped run recorded its end")

        let (refused, answer) = try Self.deliver(port: server.port, body: #"{"ref":"two"}"#, delivery: "k-2")
        #expect(refused == 200 && answer.contains("kill switch"), "\(refused) \(answer)")
        let refusal = w.records().last { $0["kind"] as? String == "trigger.refuse" }
        #expect(((refusal?["fields"] as? [String: Any])?["reason"] as? String ?? "").contains("kill switch"))
        let (_, metrics) = try Self.get(port: server.port, "/metrics")
        #expect(metrics.contains(#"warden_serve_identity_stopped{identity="default"} 1"#), "\(metrics)")

        unlink(w.state + "/kill-switch/default")
        #expect(Self.wait { w.records().contains { ($0["fields"] as? [String: Any])?["state"] as? String == "off" } })
        #expect(try Self.deliver(port: server.port, body: #"{"ref":"three"}"#, delivery: "k-3").0 == 202)
        #expect(Self.wait { FileManager.default.fileExists(atPath: w.state + "/runs/2/workspace/started") }, "\(server.output)")
    }

    /// API tokens: a token with `launch:NAME` starts manual trigger NAME when the policy's
    /// `by` names it (decided and recorded like any launch); a token without the scope, an
    /// unknown token, or one the trigger does not name cannot; `control` sets and clears the
    /// kill switch; `read` is needed for the read routes once tokens exist.
    @Test func apiTokensStartManualTriggersAndPullTheKillSwitchWithinTheirScopes() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World(triggers: """
            trigger nightly {
              identity default
              on manual
              by "token:ci-bot"
              workspace empty
              run "sh", "-c", "echo done > out.txt"
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let tokens = w.dir + "/tokens"
        try """
            ci-bot   launch:nightly,read   ci-bot-token-0123456789
            stranger launch:*              stranger-token-0123456789
            ops      control               ops-token-0123456789

            """.write(toFile: tokens, atomically: true, encoding: .utf8)
        chmod(tokens, 0o644)
        // A tokens file others can read is refused at start.
        #expect {
            _ = try w.start(["--api-tokens", tokens])
        } throws: { error in
            (error as? Failure)?.description.contains("no one else can read or write") ?? false
        }
        chmod(tokens, 0o600)
        let server = try w.start(["--api-tokens", tokens])
        defer { _ = server.stop() }
        func post(_ path: String, _ token: String?, method: String = "POST") throws -> (Int, String) {
            try Self.request(port: server.port, method: method, path: path,
                             headers: token.map { ["Authorization": "Bearer " + $0] } ?? [:], body: "")
        }
        let (started, answer) = try post("/api/triggers/nightly/runs", "ci-bot-token-0123456789")
        #expect(started == 202 && answer.contains("\"queued\":[1]"), "\(started) \(answer)")
        #expect(Self.wait { (try? Self.request(port: server.port, method: "GET", path: "/api/runs/1",
                                               headers: ["Authorization": "Bearer ci-bot-token-0123456789"]).1)?
                    .contains("\"state\":\"finished\"") ?? false }, "\(server.output)")
        #expect(FileManager.default.fileExists(atPath: w.state + "/runs/1/workspace/out.txt"))
        let allow = w.records().first { $0["kind"] as? String == "trigger.allow" }
        let allowFields = allow?["fields"] as? [String: Any]
        #expect(allowFields?["token"] as? String == "ci-bot" && allowFields?["user"] as? String == "token:ci-bot"
                && allowFields?["source"] as? String == "manual" && allowFields?["via"] as? String == "api", "\(String(describing: allow))")

        #expect(try post("/api/triggers/nightly/runs", nil).0 == 401)
        #expect(try post("/api/triggers/nightly/runs", "not-a-token-0123456789").0 == 401)
        #expect(try post("/api/triggers/nightly/runs", "ops-token-0123456789").0 == 403, "no launch scope")
        let (notNamed, why) = try post("/api/triggers/nightly/runs", "stranger-token-0123456789")
        #expect(notNamed == 403 && why.contains("refuse"), "the policy's by does not name it: \(notNamed) \(why)")
        #expect(w.records().contains { ($0["fields"] as? [String: Any])?["token"] as? String == "stranger" && $0["kind"] as? String == "trigger.refuse" })
        #expect(try post("/api/triggers/nosuch/runs", "stranger-token-0123456789").0 == 404)
        #expect(try post("/api/triggers/nightly/runs", "ci-bot-token-0123456789", method: "GET").0 == 405)

        // Read routes need the read scope now.
        #expect(try Self.request(port: server.port, method: "GET", path: "/api/runs", headers: ["Authorization": "Bearer ops-token-0123456789"]).0 == 401)
        #expect(try Self.request(port: server.port, method: "GET", path: "/api/runs", headers: ["Authorization": "Bearer ci-bot-token-0123456789"]).0 == 200)

        // The kill switch through the API, control scope only.
        #expect(try post("/api/kill-switch/default", "ci-bot-token-0123456789").0 == 403)
        #expect(try post("/api/kill-switch/default", "ops-token-0123456789").0 == 200)
        #expect(FileManager.default.fileExists(atPath: w.state + "/kill-switch/default"))
        #expect(Self.wait { w.records().contains { $0["kind"] as? String == "serve.kill_switch" } })
        let (held, heldWhy) = try post("/api/triggers/nightly/runs", "ci-bot-token-0123456789")
        #expect(held == 403 && heldWhy.contains("kill switch"), "\(held) \(heldWhy)")
        #expect(try post("/api/kill-switch/..", "ops-token-0123456789").0 == 404)
        #expect(try post("/api/kill-switch/default", "ops-token-0123456789", method: "DELETE").0 == 200)
        #expect(!FileManager.default.fileExists(atPath: w.state + "/kill-switch/default"))
    }

    @Test func aRunGoingWhenTheServerDiesIsStoppedAndRecordedAsInterrupted() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let token = String(UInt32.random(in: 100_000...999_999))
        let w = try World(command: "echo started > started; exec sleep 4\(token)")
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        var server = try w.start()
        let (status, _) = try Self.deliver(port: server.port, body: #"{"ref":"long"}"#, delivery: "l-1")
        #expect(status == 202)
        #expect(Self.wait { FileManager.default.fileExists(atPath: w.state + "/runs/1/workspace/started") }, "\(server.output)")
        _ = server.stop(SIGKILL)
        // The run was tied to the server: it stops and records its end.
        #expect(Self.wait { RunSignalsCLITests.processes(containing: "sleep 4\(token)").isEmpty })
        #expect(Self.wait { w.records().contains { $0["kind"] as? String == "run.exit" } }, "the run recorded its end")
        server = try w.start()
        defer { _ = server.stop() }
        #expect(Self.run(port: server.port, 1)?["state"] as? String == "interrupted")
        #expect(server.output.contains("recorded as interrupted"))
    }

    /// The issue's end-to-end case: a signed GitHub pull request for a repository in a local
    /// bare mirror starts the review identity on a fresh clone at the pull request's head; a
    /// forged signature, a replay under a new delivery id, a sender not allowed and a
    /// repository not matched are each refused and recorded, and nothing else runs.
    @Test func aGitHubPullRequestRunsTheReviewerOnAFreshCloneAndEverythingElseIsRefused() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World(triggers: """
            trigger review-prs {
              identity default
              on github pull_request opened, synchronize
              repository "acme/*"
              branch "main"
              by "alice"
              secret hook-key
              workspace clone
              fields "pull_request.number"
              run "sh", "-c", "git rev-parse HEAD > head.txt && cat \\"$WARDEN_EVENT_FILE\\" > ev.json"
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        // The mirror: acme/app.git with main and a pull request branch one commit ahead.
        let src = w.dir + "/src", bare = w.dir + "/mirror/acme/app.git"
        func git(_ args: [String]) throws -> String {
            let r = try CLISupport.run("/usr/bin/git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"] + args)
            guard r.status == 0 else { throw Failure("git \(args): \(r.stderr)") }
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "-q", src])
        try "one\n".write(toFile: src + "/README", atomically: true, encoding: .utf8)
        _ = try git(["-C", src, "add", "README"])
        _ = try git(["-C", src, "commit", "-qm", "one"])
        _ = try git(["init", "-q", "--bare", bare])
        _ = try git(["-C", src, "push", "-q", bare, "HEAD:refs/heads/main"])
        _ = try git(["-C", src, "checkout", "-qb", "feature"])
        try "two\n".write(toFile: src + "/README", atomically: true, encoding: .utf8)
        _ = try git(["-C", src, "commit", "-qam", "two"])
        _ = try git(["-C", src, "push", "-q", bare, "HEAD:refs/heads/feature"])
        let head = try git(["-C", src, "rev-parse", "HEAD"])

        let server = try w.start(["--clone-mirror", w.dir + "/mirror"])
        defer { _ = server.stop() }
        let body = Self.pullRequest(head: head)
        let (status, answer) = try Self.deliverGitHub(port: server.port, body: body, delivery: "gh-1")
        #expect(status == 202, "\(answer) \(server.output)")
        #expect(Self.wait { (Self.run(port: server.port, 1)?["state"] as? String) == "finished" }, "\(server.output)")
        let run = try #require(Self.run(port: server.port, 1))
        #expect(run["exit_code"] as? Int == 0, "\(run) \((try? String(contentsOfFile: w.state + "/runs/1/output.log", encoding: .utf8)) ?? "")")
        let workspace = try #require(run["workspace"] as? String)
        #expect((try? String(contentsOfFile: workspace + "/head.txt", encoding: .utf8)) == head + "\n", "the pull request's head is checked out")
        let event = try String(contentsOfFile: workspace + "/ev.json", encoding: .utf8)
        #expect(event.contains("\"pull_request.number\":7") && event.contains("\"sender\":\"alice\""), "\(event)")
        // The review: what the agent wrote, as a branch on the pull request's head and a
        // patch, recorded under the decision with the patch's digest.
        let review = try #require(w.records().first { $0["kind"] as? String == "run.review" }?["fields"] as? [String: Any], "\(w.records())")
        #expect(review["base"] as? String == head && review["paths"] as? Int == 2 && review["queue_id"] as? Int == 1, "\(review)")
        let patch = try #require(review["patch"] as? String)
        let patchText = try String(contentsOfFile: patch, encoding: .utf8)
        #expect(patchText.contains("+++ b/head.txt") && patchText.contains("+++ b/ev.json"), "\(patchText)")
        let digest = try CLISupport.run("/usr/bin/sha256sum", [patch])
        #expect(digest.stdout.hasPrefix((review["patch_sha256"] as? String ?? "?") + " "), "\(review)")
        let branch = try git(["--git-dir=" + (review["repository"] as? String ?? "?"), "rev-parse", "refs/heads/" + (review["branch"] as? String ?? "?")])
        #expect(branch == review["commit"] as? String)

        // Refused: a forged signature, a replay under a new id, a sender not allowed, another owner.
        let forged = try Self.deliverGitHub(port: server.port, body: body, delivery: "gh-2", signature: "sha256=" + String(repeating: "0", count: 64))
        let replay = try Self.deliverGitHub(port: server.port, body: body, delivery: "gh-3")
        let mallory = try Self.deliverGitHub(port: server.port, body: Self.pullRequest(sender: "mallory", head: head), delivery: "gh-4")
        let evil = try Self.deliverGitHub(port: server.port, body: Self.pullRequest(repository: "evil/app", head: head), delivery: "gh-5")
        // Eight days old: older than the ledger's seven days, so a replay of it could no longer be recognized.
        let stale = try Self.deliverGitHub(port: server.port, body: Self.pullRequest(head: head, age: 8 * 86_400), delivery: "gh-6")
        #expect(stale.0 == 422 && stale.1.contains("older than the delivery ledger"), "\(stale)")
        #expect(forged.0 == 403, "\(forged)")
        #expect(replay.0 == 200 && replay.1.contains("duplicate"), "\(replay)")
        #expect(mallory.0 == 200 && mallory.1.contains("refuse") && mallory.1.contains("mallory"), "\(mallory)")
        #expect(evil.0 == 200 && evil.1.contains("refuse") && evil.1.contains("evil/app"), "\(evil)")
        #expect(Self.run(port: server.port, 2) == nil, "nothing else was queued")
        let refusals = w.records().filter { $0["kind"] as? String == "trigger.refuse" }.compactMap { $0["fields"] as? [String: Any] }
        #expect(refusals.contains { $0["authenticated"] as? Bool == false && $0["status"] as? Int == 403 }, "\(refusals)")
        #expect(refusals.contains { $0["sender"] as? String == "mallory" && $0["delivery"] as? String == "gh-4" }, "\(refusals)")
        #expect(refusals.contains { $0["repository"] as? String == "evil/app" }, "\(refusals)")
        #expect(refusals.contains { $0["delivery"] as? String == "gh-6" && $0["status"] as? Int == 422 }, "\(refusals)")
    }

    /// A burst of 200 signed deliveries: every one is answered and accounted for (queued and
    /// run, or refused by the budget with its reason), in the answers, the queue and the audit
    /// trail; the server's memory stays bounded.
    @Test func aBurstOf200DeliveriesIsAllAccountedFor() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World(triggers: """
            trigger on-build {
              identity default
              on webhook "build"
              secret hook-key
              workspace empty
              run "true"
              budget runs 150 per hour
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let server = try w.start(["--concurrency", "4"])
        defer { _ = server.stop() }
        let before = Self.residentKiB(server.process.processIdentifier)
        let script = """
        import hmac, hashlib, sys, time, json, urllib.request, urllib.error
        from concurrent.futures import ThreadPoolExecutor
        port, key = sys.argv[1], sys.argv[2]
        def one(i):
            ts = str(int(time.time()))
            data = json.dumps({"n": i}).encode()
            req = urllib.request.Request("http://127.0.0.1:%s/hooks/webhook/build" % port, data=data, method="POST")
            req.add_header("Content-Type", "application/json")
            req.add_header("X-Warden-Delivery", "burst-%d" % i)
            req.add_header("X-Warden-Timestamp", ts)
            req.add_header("X-Warden-Signature", "sha256=" + hmac.new(key.encode(), (ts + ".").encode() + data, hashlib.sha256).hexdigest())
            try:
                r = urllib.request.urlopen(req, timeout=120)
                return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
            except Exception as e:
                return 0, str(e)
        with ThreadPoolExecutor(50) as pool:
            for status, body in pool.map(one, range(200)):
                print(json.dumps({"status": status, "body": body}))
        """
        let r = try CLISupport.run("/usr/bin/env", ["python3", "-c", script, String(server.port), Self.key])
        let answers = r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(answers.count == 200, "\(r.stderr)")
        let queued = answers.filter { $0["status"] as? Int == 202 }.count
        let refused = answers.filter { $0["status"] as? Int == 200 && ($0["body"] as? String ?? "").contains("budget runs 150 per hour") }.count
        #expect(queued == 150 && refused == 50, "queued \(queued), refused \(refused): \(answers.filter { $0["status"] as? Int != 202 }.prefix(3))")
        // Every queued run runs to its end.
        #expect(Self.wait(seconds: 300) {
            guard let (status, body) = try? Self.get(port: server.port, "/metrics"), status == 200 else { return false }
            return body.contains("warden_serve_runs{state=\"finished\"} 150")
        }, "\(server.output)")
        let records = w.records()
        #expect(records.filter { $0["kind"] as? String == "trigger.allow" }.count == 150)
        #expect(records.filter { $0["kind"] as? String == "trigger.refuse" }.count == 50)
        #expect(records.filter { $0["kind"] as? String == "run.exit" }.count == 150)
        let after = Self.residentKiB(server.process.processIdentifier)
        print("serve burst: resident \(before) KiB before, \(after) KiB after 200 deliveries and 150 runs")
        #expect(after < before + 64 * 1024, "resident memory grew from \(before) KiB to \(after) KiB")
    }

    /// VmRSS of `pid` in KiB (0 when unreadable).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// The options `warden serve` gives `warden run` are refused on their own, and bad input to
    /// `warden serve` itself is exit 2 with the reason.
    @Test func badOptionsAreRefusedWithTheReason() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let dir = try WardenBinary.tempDir("serve-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[1,2]".write(toFile: dir + "/not-an-object.json", atomically: true, encoding: .utf8)
        // `warden run`'s usage errors are 125 (never an agent's own status); `warden serve`'s are 2.
        let cases: [([String], String)] = [
            (["run", "--policy", "default", "--event", dir + "/x.json", "--", "true"], "--event goes with --trigger"),
            (["run", "--policy", "default", "--trigger", "t", "--trigger-decision", "0123456789abcdef", "--event", dir + "/not-an-object.json", "--", "true"], "not a JSON object"),
            (["run", "--policy", "default", "--trigger", "t", "--trigger-decision", "0123456789abcdef", "--event", dir + "/missing.json", "--", "true"], "missing.json"),
            (["serve", "--policy", "default", "--listen", "nowhere"], "--listen"),
            (["serve", "--policy", "default", "--listen", "127.0.0.1:99999"], "--listen"),
            (["serve", "--policy", "default", "--concurrency", "0"], "--concurrency"),
            (["serve", "--policy", "-"], "standard input"),
            (["serve", "--policy", "default", "--keep-runs", "23h"], "at least 24h"),
            (["serve", "--policy", "default", "--keep-runs", "forever"], "--keep-runs"),
        ]
        for (arguments, reason) in cases {
            guard let r = try WardenBinary.run(arguments) else { return }
            #expect(r.status == (arguments[0] == "run" ? 125 : 2), "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(reason), "\(arguments): \(r.stderr)")
        }
        // A webhook trigger without a secret: refused at start, with the trigger named.
        try """
            warden 1
            identity a {
              allow fs read "${workspace}"
            }
            trigger open-hook {
              identity a
              on webhook "x"
              run "true"
            }
            """.write(toFile: dir + "/p.warden", atomically: true, encoding: .utf8)
        guard let r = try WardenBinary.run(["serve", "--policy", dir + "/p.warden", "--listen", "127.0.0.1:0", "--state-dir", dir + "/state"]) else { return }
        #expect(r.status == 2 && r.stderr.contains("open-hook") && r.stderr.contains("no `secret`"), "\(r.stderr)")
    }

    /// SIGHUP puts an edited policy in force for the next delivery; a policy that fails to
    /// load leaves the previous one in force, and the server says why.
    @Test func reloadTakesAGoodPolicyAndKeepsTheOldOneForABadOne() throws {
        guard Self.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let server = try w.start()
        defer { _ = server.stop() }
        #expect(try Self.deliver(port: server.port, body: #"{"n":1}"#, delivery: "r-1", path: "/hooks/webhook/deploy").0 == 404)
        // Add a trigger on the hook "deploy" and reload. (Each delivery has its own body: two
        // equal bodies signed in the same second are one delivery to the replay key.)
        let original = try String(contentsOfFile: w.policy, encoding: .utf8)
        try (original + """
            trigger on-deploy {
              identity default
              on webhook "deploy"
              secret hook-key
              workspace empty
              run "true"
            }

            """).write(toFile: w.policy, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(Self.wait { server.output.contains("policy reloaded") }, "\(server.output)")
        #expect(try Self.deliver(port: server.port, body: #"{"n":2}"#, delivery: "r-2", path: "/hooks/webhook/deploy").0 == 202)
        // A broken edit: refused, and the policy in force still takes deliveries.
        try (original + "trigger broken {\n").write(toFile: w.policy, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(Self.wait { server.output.contains("reload refused") }, "\(server.output)")
        #expect(try Self.deliver(port: server.port, body: #"{"n":3}"#, delivery: "r-3", path: "/hooks/webhook/deploy").0 == 202)
        #expect(server.process.isRunning)
    }
}
