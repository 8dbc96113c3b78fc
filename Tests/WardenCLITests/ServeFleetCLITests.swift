import Foundation
import Testing

/// Fleet triggers under `warden serve`, through the real binary, checked from outside: a
/// manual fleet trigger started through the API runs its command once per repository of a
/// list of 50 local git repositories, never more at once than its `budget concurrent`; the
/// aggregate (`GET /api/fleets/ID`) is right; the audit log verifies and `audit show
/// --fleet` summarizes it; and after a `kill -9` of the server mid-fleet and a restart on the
/// same state, every repository ends with exactly one finished run.
@Suite("warden serve fleets", .serialized) struct ServeFleetCLITests {
    static let token = "fleet-bot-token-0123456789"
    static let repositories = 50
    static let cap = 3

    struct FleetWorld {
        let world: ServeCLITests.World
        let marks: String
        let list: String
        var dir: String { world.dir }

        /// 50 git repositories (each with `name.txt`), their list, a marks file the agent may
        /// append to, the policy and the API token file.
        init(sleep: String) throws {
            // The policy names paths in the world's directory, known once it exists: `@DIR@` until then.
            let marks = "@DIR@/marks/marks.txt"
            // The command: a start mark, a pause, an end mark (host clock, nanoseconds), a result
            // file; stopped (the server's death), a stop mark instead of the end mark.
            let command = #"n=$(cat name.txt); trap 'echo "stop $n $(date +%s%N)" >> "# + marks + #"; exit 143' TERM; "#
                + #"echo "start $n $(date +%s%N)" >> "# + marks + #""#
                + #"; sleep "# + sleep + #"; echo "end $n $(date +%s%N)" >> "# + marks + #""#
                + #"; echo done > result.txt"#
            let triggers = """
                identity fleet-agent {
                  description "Touches every repository of a fleet"
                  use toolchains, scratch-exec, home-secrets, git-control-plane, agent-tool-config
                  allow fs read, write, exec "${workspace}"
                  allow fs read, write "@DIR@/marks"
                  limit processes 256
                  limit wall-time 5m
                  env pass PATH, HOME, LANG
                }

                trigger sweep {
                  identity fleet-agent
                  on manual
                  by "token:fleet-bot"
                  fleet "@DIR@/repos.txt"
                  run "sh", "-c", \(ServeCLITests.World.quoted(command))
                  budget concurrent \(ServeFleetCLITests.cap)
                }
                """
            world = try ServeCLITests.World(triggers: triggers)
            self.marks = world.dir + "/marks/marks.txt"
            self.list = world.dir + "/repos.txt"
            let policy = try String(contentsOfFile: world.policy, encoding: .utf8).replacingOccurrences(of: "@DIR@", with: world.dir)
            try policy.write(toFile: world.policy, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: world.dir + "/marks", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: self.marks, contents: nil)
            chmod(self.marks, 0o666)
            let script = """
                set -e
                cd "$1"
                for i in $(seq -w 1 \(ServeFleetCLITests.repositories)); do
                  mkdir "repos/r$i" && cd "repos/r$i"
                  git init -q . && echo "r$i" > name.txt && git add name.txt
                  git -c user.name=t -c user.email=t@example.org commit -q -m init
                  cd ../..
                  echo "repos/r$i" >> repos.txt
                done
                """
            try FileManager.default.createDirectory(atPath: world.dir + "/repos", withIntermediateDirectories: true)
            let made = try CLISupport.run("/bin/sh", ["-c", script, "sh", world.dir])
            guard made.status == 0 else { throw ServeCLITests.Failure("cannot make the repositories: \(made.stderr)") }
            let tokens = world.dir + "/tokens"
            try "fleet-bot launch:sweep,read \(ServeFleetCLITests.token)\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            chmod(tokens, 0o600)
        }

        func start() throws -> ServeCLITests.Server {
            try world.start(["--api-tokens", world.dir + "/tokens", "--concurrency", "8"])
        }

        func fleet(_ server: ServeCLITests.Server, _ id: String) -> [String: Any]? {
            guard let (status, body) = try? ServeCLITests.request(port: server.port, method: "GET", path: "/api/fleets/\(id)",
                                                                   headers: ["Authorization": "Bearer \(ServeFleetCLITests.token)"]),
                  status == 200 else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }

        func startFleet(_ server: ServeCLITests.Server) throws -> String {
            let (status, body) = try ServeCLITests.request(port: server.port, path: "/api/triggers/sweep/runs",
                                                           headers: ["Authorization": "Bearer \(ServeFleetCLITests.token)"], body: "")
            guard status == 202, let doc = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let id = doc["fleet"] as? String else { throw ServeCLITests.Failure("not started: \(status) \(body) \(server.output)") }
            return id
        }

        /// The marks as (repository, start ns, end ns, stopped) per pair, and the most runs that
        /// were between their start and end (or stop) marks at once.
        func intervals() -> (pairs: [(String, Int, Int, Bool)], maxOverlap: Int) {
            let lines = ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").split(separator: "\n")
            var open: [String: Int] = [:]
            var pairs: [(String, Int, Int, Bool)] = []
            var events: [(Int, Int)] = []
            for line in lines {
                let f = line.split(separator: " ")
                guard f.count == 3, let t = Int(f[2]) else { continue }
                if f[0] == "start" { open[String(f[1])] = t; events.append((t, 1)) }
                if f[0] == "end" || f[0] == "stop" {
                    if let s = open.removeValue(forKey: String(f[1])) { pairs.append((String(f[1]), s, t, f[0] == "stop")) }
                    events.append((t, -1))
                }
            }
            // A started run without an end or stop mark counts until the end.
            var level = 0, most = 0
            for (_, d) in events.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) {
                level += d
                most = max(most, level)
            }
            return (pairs, most)
        }
    }

    /// Per repository of fleet `id`, the `run.exit` records' exit statuses (signals left out),
    /// from the audit log.
    static func exitsByRepository(_ log: String, fleet id: String) -> (statuses: [String: [Int]], runs: Int) {
        let records = CLISupport.auditRecords(log)
        var repositoryOf: [String: String] = [:]
        for r in records where r["kind"] as? String == "run.start" {
            let f = r["fields"] as? [String: Any]
            if f?["fleet"] as? String == id, let run = r["run"] as? String { repositoryOf[run] = f?["repository"] as? String }
        }
        var out: [String: [Int]] = [:]
        for r in records where r["kind"] as? String == "run.exit" {
            guard let run = r["run"] as? String, let repo = repositoryOf[run] else { continue }
            if let status = (r["fields"] as? [String: Any])?["status"] as? Int { out[repo, default: []].append(status) }
        }
        return (out, repositoryOf.count)
    }

    /// The runs of fleet `id` as the audit log has them: repository, `run.start` and
    /// `run.exit` times (RFC 3339 with microseconds: they sort as text), and the most of
    /// them between their start and exit at once. Unlike the agent's own marks, this counts
    /// an agent the server's death killed before it could write anything.
    static func auditIntervals(_ log: String, fleet id: String) -> (runs: [(String, String, String)], maxOverlap: Int) {
        let records = CLISupport.auditRecords(log)
        var started: [String: (String, String)] = [:]
        var runs: [(String, String, String)] = []
        for r in records {
            guard let run = r["run"] as? String, let ts = r["ts"] as? String else { continue }
            let f = r["fields"] as? [String: Any]
            if r["kind"] as? String == "run.start", f?["fleet"] as? String == id { started[run] = (f?["repository"] as? String ?? "?", ts) }
            if r["kind"] as? String == "run.exit", let (repo, start) = started.removeValue(forKey: run) { runs.append((repo, start, ts)) }
        }
        var events: [(time: String, step: Int)] = []
        for run in runs {
            events.append((run.1, 1))
            events.append((run.2, -1))
        }
        events.sort { a, b in a.time != b.time ? a.time < b.time : a.step < b.step }
        var level = 0, most = 0
        for (_, d) in events {
            level += d
            most = max(most, level)
        }
        let unfinished: [(String, String, String)] = started.values.map { ($0.0, $0.1, "~") }
        return (runs + unfinished, most)
    }

    /// The clause through the CLI: `warden test` decides a fleet schedule, `explain
    /// --trigger` names the list (text and JSON), `fmt --check` accepts it, `lint` flags a
    /// fleet without a cap, and `warden trigger` refuses a fleet trigger before deciding.
    @Test func explainTestFmtLintAndTriggerKnowFleets() throws {
        let dir = try WardenBinary.tempDir("fleet-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/fleet.warden"
        try """
            warden 1

            identity maint {
              description "Sweeps"
              allow fs read "/usr"
              limit processes 64
              limit memory 1GiB
              limit wall-time 10m
            }

            trigger weekly-sweep {
              identity maint
              on schedule "0 4 * * 1"
              fleet "/etc/warden/repos.txt"
              run "make", "lint"
            }

            test "the sweep" {
              expect allow trigger schedule weekly-sweep at "2026-12-07T04:00Z"
              expect deny  trigger schedule weekly-sweep at "2026-12-08T04:00Z"
            }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        guard let tested = try WardenBinary.run(["test", path]) else { return }
        #expect(tested.status == 0, "\(tested.stdout) \(tested.stderr)")
        let explained = try #require(try WardenBinary.run(["explain", path, "--trigger", "schedule", "weekly-sweep", "at", "2026-12-07T04:00Z"]))
        #expect(explained.status == 0 && explained.stdout.contains("of each repository of fleet list /etc/warden/repos.txt"), "\(explained.stdout)")
        let json = try #require(try WardenBinary.run(["explain", path, "--format", "json", "--trigger", "schedule", "weekly-sweep", "at", "2026-12-07T04:00Z"]))
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let launch = (doc?["launches"] as? [[String: Any]])?.first
        #expect(launch?["fleet"] as? String == "/etc/warden/repos.txt" && launch?["workspace"] as? String == "clone", "\(json.stdout)")
        let fmt = try #require(try WardenBinary.run(["fmt", "--check", path]))
        #expect(fmt.status == 0, "\(fmt.stdout) \(fmt.stderr)")
        let lint = try #require(try WardenBinary.run(["lint", path]))
        #expect(lint.stdout.contains("trigger-fleet-unbounded") || lint.stderr.contains("trigger-fleet-unbounded"), "\(lint.stdout) \(lint.stderr)")
        let manual = dir + "/manual.warden"
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "on schedule \"0 4 * * 1\"", with: "on manual\n  by \"root\"")
            .replacingOccurrences(of: "  expect allow trigger schedule weekly-sweep at \"2026-12-07T04:00Z\"\n  expect deny  trigger schedule weekly-sweep at \"2026-12-08T04:00Z\"\n", with: "  expect allow trigger manual weekly-sweep by \"root\"\n")
            .write(toFile: manual, atomically: true, encoding: .utf8)
        let log = dir + "/audit.jsonl"
        let started = try #require(try WardenBinary.run(["trigger", "--policy", manual, "weekly-sweep", "--audit-log", log]))
        #expect(started.status == 125 && started.stderr.contains("runs a fleet") && started.stderr.contains("warden serve"), "\(started.stderr)")
        #expect(CLISupport.auditRecords(log).isEmpty, "nothing decided, nothing recorded")
    }

    @Test func aFleetOf50RepositoriesRunsUnderItsCapAndSurvivesKill9() throws {
        guard ServeCLITests.isRoot, FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let w = try FleetWorld(sleep: "0.4")
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        var server = try w.start()

        // 1. A whole fleet, undisturbed.
        let first = try w.startFleet(server)
        #expect(ServeCLITests.wait(seconds: 300) { w.fleet(server, first)?["done"] as? Bool == true }, "\(server.output)")
        let aggregate = try #require(w.fleet(server, first))
        let summary = try #require(aggregate["summary"] as? [String: Any])
        #expect(summary["repositories"] as? Int == Self.repositories && summary["succeeded"] as? Int == Self.repositories, "\(summary)")
        let runs = try #require(aggregate["runs"] as? [[String: Any]])
        #expect(runs.count == Self.repositories)
        for (i, r) in runs.enumerated() {
            let name = String(format: "repos/r%02d", i + 1)
            #expect(r["repository"] as? String == name && r["status"] as? String == "ok" && r["exit_code"] as? Int == 0
                    && r["attempts"] as? Int == 1 && (r["run_id"] as? String)?.count == 16 && r["duration_ms"] is Int, "\(r)")
            let changes = r["changes"] as? [String: Any]
            #expect(changes?["added"] as? Int == 1 && (changes?["paths"] as? [String]) == ["result.txt"], "\(r)")
        }
        let marks = w.intervals()
        #expect(marks.pairs.count == Self.repositories)
        #expect(marks.maxOverlap <= Self.cap, "the trigger's budget concurrent \(Self.cap) was passed: \(marks.maxOverlap) at once")
        #expect(marks.maxOverlap >= 2, "the fleet never ran two repositories at once")
        let exits = Self.exitsByRepository(w.world.log, fleet: first)
        #expect(exits.runs == Self.repositories && exits.statuses.values.allSatisfy { $0 == [0] }, "\(exits)")
        // Intact (3: no public key was given to check checkpoint signatures with).
        let verify = try #require(try WardenBinary.run(["audit", "verify", w.world.log]))
        #expect(verify.status == 3 && (verify.stdout + verify.stderr).contains("the chain is intact"), "\(verify.stdout) \(verify.stderr)")
        let shown = try #require(try WardenBinary.run(["audit", "show", w.world.log, "--fleet", first]))
        #expect(shown.status == 0 && shown.stdout.contains("fleet \(first): \(Self.repositories) runs in the log, \(Self.repositories) exited 0"),
                "\(shown.stdout) \(shown.stderr)")

        // 2. The same fleet again, and the server killed (SIGKILL) while it goes.
        try "".write(toFile: w.marks, atomically: false, encoding: .utf8)
        let second = try w.startFleet(server)
        #expect(ServeCLITests.wait(seconds: 300) {
            ((w.fleet(server, second)?["summary"] as? [String: Any])?["succeeded"] as? Int ?? 0) >= 10
        }, "\(server.output)")
        let killedOutput = server.output
        _ = server.stop(SIGKILL)
        server = try w.start()
        defer { _ = server.stop() }
        #expect(ServeCLITests.wait(seconds: 300) { w.fleet(server, second)?["done"] as? Bool == true }, "\(killedOutput)\n---\n\(server.output)")
        let after = try #require(w.fleet(server, second))
        let afterSummary = try #require(after["summary"] as? [String: Any])
        #expect(afterSummary["succeeded"] as? Int == Self.repositories, "\(afterSummary)\n\(server.output)")
        let afterRuns = try #require(after["runs"] as? [[String: Any]])
        // Each run under way at the kill was either stopped (recorded interrupted, run again
        // as attempt 2) or ended on its own before the restart looked (recorded finished).
        let retried = afterRuns.filter { ($0["attempts"] as? Int ?? 0) > 1 }
        let settled = server.output.components(separatedBy: "ended while the server was down").count - 1
        #expect(retried.count + settled >= 1, "no run was under way at the kill: \(afterSummary)\n\(server.output)")
        #expect(server.output.components(separatedBy: "queued again").count - 1 == retried.count, "\(server.output)")
        for r in retried {
            let history = r["history"] as? [[String: Any]] ?? []
            #expect(history.first?["state"] as? String == "interrupted" && history.last?["state"] as? String == "finished"
                    && history.count == 2, "\(r)")
        }
        #expect(afterRuns.allSatisfy { $0["status"] as? String == "ok" && ($0["attempts"] as? Int ?? 0) <= 2 })
        // From the audit log: every repository exactly one run.exit that finished (status 0);
        // a stopped attempt exited 143 (its trap) or by the signal.
        let afterExits = Self.exitsByRepository(w.world.log, fleet: second)
        #expect(afterExits.statuses.count == Self.repositories, "\(afterExits.statuses.count) repositories have an exit status")
        let notOnce = afterExits.statuses.filter { $0.value.filter { $0 == 0 }.count != 1 || $0.value.contains { $0 != 0 && $0 != 143 } }
        #expect(notOnce.isEmpty, "repositories without exactly one finished run: \(notOnce)")
        // Never two runs of one repository at once (a retry starts after the stopped attempt's
        // run.exit), and the cap held across the restart: from the audit log, which has
        // every attempt, also one killed before its agent could write a mark.
        let audited = Self.auditIntervals(w.world.log, fleet: second)
        #expect(audited.maxOverlap <= Self.cap, "\(audited.maxOverlap) at once: \(audited.runs)")
        #expect(!audited.runs.contains { $0.2 == "~" }, "a run without run.exit: \(audited.runs)")
        var byRepository: [String: [(String, String)]] = [:]
        for (repo, start, end) in audited.runs { byRepository[repo, default: []].append((start, end)) }
        #expect(byRepository.count == Self.repositories)
        for (repo, list) in byRepository {
            let sorted = list.sorted { $0.0 < $1.0 }
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.1 <= b.0, "\(repo): two runs at once \(sorted)") }
        }
        // The agents' own marks: every repository's command completed exactly once.
        let ends = w.intervals().pairs.filter { !$0.3 }.map(\.0)
        #expect(ends.count == Self.repositories && Set(ends).count == Self.repositories, "\(ends.sorted())")
        let verifyAfter = try #require(try WardenBinary.run(["audit", "verify", w.world.log]))
        #expect(verifyAfter.status == 3 && (verifyAfter.stdout + verifyAfter.stderr).contains("the chain is intact"),
                "\(verifyAfter.stdout) \(verifyAfter.stderr)")
    }
}
