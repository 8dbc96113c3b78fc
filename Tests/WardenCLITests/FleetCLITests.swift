import Foundation
import Testing

/// `warden fleet` through the real binary: the contract's JSON, the aggregate over many
/// repositories under a concurrency cap (checked from the audit trail, outside the
/// sandbox), workspace changes seen without touching the source, `kill -9` and resume with
/// nothing lost or run twice, and bad input refused.
@Suite("Fleets", .serialized) struct FleetCLITests {
    struct World {
        let dir: String
        var log: String { dir + "/audit.jsonl" }
        var state: String { dir + "/state" }
        var list: String { dir + "/repos.txt" }

        init() throws { dir = try WardenBinary.tempDir("fleet") }

        /// A git repository `name` with `files`, committed.
        func repository(_ name: String, files: [String: String]) throws -> String {
            let path = dir + "/src/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(toFile: path + "/" + file, atomically: true, encoding: .utf8) }
            for args in [["init", "-q"], ["add", "-A"], ["-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "init"]] {
                let r = try CLISupport.run("/usr/bin/git", args, in: path)
                #expect(r.status == 0, "git \(args): \(r.stderr)")
            }
            return path
        }

        func fleet(_ extra: [String], command: [String]) throws -> WardenBinary.Result? {
            try WardenBinary.run(["fleet", "--policy", "default", "--repos", list, "--state-dir", state, "--audit-log", log, "-q"]
                                 + extra + ["--"] + command)
        }

        func records() -> [[String: Any]] { CLISupport.auditRecords(log) }

        static func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
        }
    }

    static var gitAvailable: Bool {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/git") { return true }
        print("skip: /usr/bin/git is missing")
        return false
    }

    /// Fifty repositories, eight at a time: every repository has exactly one entry with its
    /// own exit status and a run id; the audit trail holds fifty runs of the fleet, never
    /// more than eight at once; `audit show --fleet` agrees.
    @Test func fiftyRepositoriesUnderACap() throws {
        guard Self.gitAvailable else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        var expected: [String: Int] = [:]
        var lines: [String] = []
        for i in 0..<50 {
            let code = i % 7 == 3 ? 3 : 0
            let path = try w.repository("r\(i)", files: ["code": "\(code)\n"])
            expected[path] = code
            lines.append(path)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: w.list, atomically: true, encoding: .utf8)
        guard let r = try w.fleet(["--concurrency", "8", "--format", "json"], command: ["/bin/sh", "-c", "sleep 0.2; exit $(cat code)"]) else { return }
        #expect(r.status == 1, "some runs exit 3: \(r.stderr)")
        let doc = try World.json(r.stdout)
        let runs = try #require(doc["runs"] as? [[String: Any]])
        #expect(runs.count == 50)
        var runIDs = Set<String>()
        for run in runs {
            let repo = try #require(run["repository"] as? String)
            #expect(run["exit_code"] as? Int == expected[repo], "\(repo): \(run)")
            let id = try #require(run["run_id"] as? String)
            #expect(id.count == 16)
            runIDs.insert(id)
        }
        #expect(runIDs.count == 50)
        #expect(Set(runs.compactMap { $0["repository"] as? String }) == Set(expected.keys))
        let fleetID = try #require(doc["fleet_id"] as? String)

        // From the audit trail: the fleet's runs and how many overlapped.
        let records = w.records()
        let starts = records.filter { $0["kind"] as? String == "run.start" && ($0["fields"] as? [String: Any])?["fleet"] as? String == fleetID }
        #expect(starts.count == 50)
        #expect(Set(starts.compactMap { $0["run"] as? String }) == runIDs)
        var events: [(String, Int)] = []
        for rec in records where runIDs.contains(rec["run"] as? String ?? "") {
            guard let ts = rec["ts"] as? String else { continue }
            if rec["kind"] as? String == "run.start" { events.append((ts, 1)) }
            if rec["kind"] as? String == "run.exit" { events.append((ts, -1)) }
        }
        #expect(events.filter { $0.1 < 0 }.count == 50, "every run has its run.exit")
        var now = 0, peak = 0
        for e in events.sorted(by: { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }) { now += e.1; peak = max(peak, now) }
        #expect(peak <= 8, "at most eight runs at once, saw \(peak)")

        guard let show = try WardenBinary.run(["audit", "show", w.log, "--fleet", fleetID, "--format", "json"]) else { return }
        #expect(show.status == 0, "\(show.stderr)")
        let summary = try World.json(show.stdout)
        #expect((summary["runs"] as? [[String: Any]])?.count == 50)
        #expect((summary["runs"] as? [[String: Any]])?.filter { $0["exit"] as? String == "3" }.count == expected.values.filter { $0 == 3 }.count)
    }

    /// The result counts what the agent changed in its workspace (added, modified — also
    /// with its mtime set back — and removed), the source repository stays as it was, and
    /// the text and Markdown tables name every repository.
    @Test func changesAreCountedAndTheSourceIsUntouched() throws {
        guard Self.gitAvailable else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let source = try w.repository("app", files: ["keep.txt": "same\n", "edit.txt": "old\n", "gone.txt": "bye\n"])
        try (source + "\n").write(toFile: w.list, atomically: true, encoding: .utf8)
        let script = "echo new > edit.txt; touch -d 2001-01-01 edit.txt; rm gone.txt; echo hi > added.txt"
        guard let r = try w.fleet(["--format", "json"], command: ["/bin/sh", "-c", script]) else { return }
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let run = try #require((try World.json(r.stdout)["runs"] as? [[String: Any]])?.first)
        let changes = try #require(run["changes"] as? [String: Any])
        #expect(changes["added"] as? Int == 1 && changes["modified"] as? Int == 1 && changes["removed"] as? Int == 1, "\(changes)")
        #expect(changes["paths"] as? [String] == ["added.txt", "edit.txt", "gone.txt"])
        #expect(try String(contentsOfFile: source + "/edit.txt", encoding: .utf8) == "old\n")
        #expect(FileManager.default.fileExists(atPath: source + "/gone.txt"))
        let status = try CLISupport.run("/usr/bin/git", ["status", "--porcelain"], in: source)
        #expect(status.stdout.isEmpty, "the source is clean: \(status.stdout)")
        let workspace = try #require(run["workspace"] as? String)
        #expect(try String(contentsOfFile: workspace + "/edit.txt", encoding: .utf8) == "new\n", "the workspace is kept for review")

        for format in ["text", "markdown"] {
            guard let again = try w.fleet(["--format", format], command: ["true"]) else { return }
            #expect(again.status == 0)
            #expect(again.stdout.contains(source) && again.stdout.contains("ok"), "\(format): \(again.stdout)")
        }
    }

    /// The run's changes become a branch and a patch in Warden's own repository beside the
    /// workspace, made without any git reading the tree the agent wrote: the agent's
    /// attributes name a filter and a diff driver that the operator's git configuration
    /// defines, and a nested repository sets fsmonitor; none of them runs. The base's
    /// ignore rules leave build output out, a nested `.git` is left out and listed, a link
    /// stays a link, a name with a newline is carried exactly, and the patch applies to the
    /// source.
    @Test func theRunsChangesBecomeAReviewBranchAndPatchWithoutGitInTheWorkspace() throws {
        guard Self.gitAvailable else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let source = try w.repository("app", files: [".gitignore": "target/\n", "README": "one\n", "old.txt": "bye\n"])
        try (source + "\n").write(toFile: w.list, atomically: true, encoding: .utf8)
        let marks = w.dir + "/marks"
        let hostile = w.dir + "/operator.gitconfig"
        try """
            [filter "evil"]
            \tclean = touch \(marks)-filter
            \tsmudge = touch \(marks)-smudge
            [diff "evil"]
            \ttextconv = touch \(marks)-textconv
            [core]
            \tfsmonitor = touch \(marks)-fsmonitor
            """.write(toFile: hostile, atomically: true, encoding: .utf8)
        let script = """
            echo two >> README; rm old.txt; mkdir -p src target sub/.git; echo 'fn main() {}' > src/main.rs; echo junk > target/out.bin
            printf '[core]\\n\\tfsmonitor = touch \(marks)-nested\\n' > sub/.git/config; echo x > sub/file
            echo '* filter=evil diff=evil' > .gitattributes; ln -s /etc/passwd link; printf 'n' > "$(printf 'new\\nline')"
            mkfifo pipe; mkdir -p deep/.GIT; echo y > deep/.GIT/HEAD
            """
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_GLOBAL"] = hostile
        guard let r = try WardenBinary.run(["fleet", "--policy", "default", "--repos", w.list, "--state-dir", w.state, "--audit-log", w.log, "-q",
                                            "--format", "json", "--", "/bin/sh", "-c", script], environment: environment) else { return }
        // The nested repository's config is a git control-plane finding: the run exits 123.
        #expect(r.status == 1, "\(r.stderr)\(r.stdout)")
        let run = try #require((try World.json(r.stdout)["runs"] as? [[String: Any]])?.first)
        #expect(run["exit_code"] as? Int == 123, "\(run)")
        let review = try #require(run["review"] as? [String: Any], "\(run)")
        let repository = try #require(review["repository"] as? String), commit = try #require(review["commit"] as? String)
        let base = try #require(review["base"] as? String), patch = try #require(review["patch"] as? String)
        let leftOut = review["left_out"] as? [String] ?? []
        #expect(leftOut.contains { $0.hasPrefix("sub/.git/config") } && leftOut.contains { $0.hasPrefix("deep/.GIT/HEAD") }, "\(leftOut)")
        #expect(leftOut.contains("pipe: a FIFO"), "\(leftOut)")
        #expect(review["branch"] as? String == "warden/review/" + (run["run_id"] as? String ?? "?"))

        let tree = try CLISupport.run("/usr/bin/git", ["--git-dir=" + repository, "ls-tree", "-r", "-z", commit], in: w.dir)
        let entries = Set(tree.stdout.split(separator: "\0").map(String.init))
        let names = Set(entries.compactMap { $0.split(separator: "\t", maxSplits: 1).last.map(String.init) })
        #expect(names == [".gitattributes", ".gitignore", "README", "src/main.rs", "sub/file", "link", "new\nline"], "\(names)")
        #expect(entries.contains { $0.hasPrefix("120000 ") && $0.hasSuffix("\tlink") }, "the link is a link: \(entries)")
        let parent = try CLISupport.run("/usr/bin/git", ["--git-dir=" + repository, "rev-parse", commit + "^"], in: w.dir)
        #expect(parent.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == base)
        let sourceHead = try CLISupport.run("/usr/bin/git", ["rev-parse", "HEAD"], in: source)
        #expect(sourceHead.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == base, "the base is the source's commit")

        for suffix in ["filter", "smudge", "textconv", "fsmonitor", "nested"] {
            #expect(!FileManager.default.fileExists(atPath: marks + "-" + suffix), "no git ran code named by the agent's tree: \(suffix)")
        }
        // The patch applies to a fresh clone of the source and gives the branch's tree.
        let check = w.dir + "/check"
        _ = try CLISupport.run("/usr/bin/git", ["clone", "-q", source, check], in: w.dir)
        let apply = try CLISupport.run("/usr/bin/git", ["-c", "core.attributesFile=/dev/null", "apply", "--index", patch], in: check)
        #expect(apply.status == 0, "\(apply.stderr)")
        let applied = try CLISupport.run("/usr/bin/git", ["write-tree"], in: check)
        let branchTree = try CLISupport.run("/usr/bin/git", ["--git-dir=" + repository, "rev-parse", commit + "^{tree}"], in: w.dir)
        #expect(applied.stdout == branchTree.stdout, "the patch gives the branch's tree")
    }

    /// `kill -9` of the fleet mid-way: its runs are stopped (parent-death signal) and still
    /// record their exit; `--resume` runs exactly the repositories without a result, so in
    /// the end every repository has one run that exited 0, and the chain verifies.
    @Test func killedFleetResumesWithNothingLostOrRunTwice() throws {
        guard Self.gitAvailable else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        var paths: [String] = []
        for i in 0..<6 { paths.append(try w.repository("k\(i)", files: ["f": "\(i)\n"])) }
        try (paths.joined(separator: "\n") + "\n").write(toFile: w.list, atomically: true, encoding: .utf8)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: WardenBinary.path)
        p.arguments = ["fleet", "--policy", "default", "--repos", w.list, "--state-dir", w.state, "--audit-log", w.log, "-q",
                       "--concurrency", "2", "--", "/bin/sh", "-c", "sleep 1.5"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the first two runs have started, then kill the fleet outright.
        let deadline = Date().addingTimeInterval(30)
        while w.records().filter({ $0["kind"] as? String == "run.start" }).count < 2, Date() < deadline { usleep(50_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let fleets = try FileManager.default.contentsOfDirectory(atPath: w.state)
        let fleetID = try #require(fleets.first)
        // The orphaned runs stop on their own and record their exit.
        let settle = Date().addingTimeInterval(60)
        func unfinished() -> Int {
            let recs = w.records()
            return recs.filter { $0["kind"] as? String == "run.start" }.count - recs.filter { $0["kind"] as? String == "run.exit" }.count
        }
        while unfinished() > 0, Date() < settle { usleep(100_000) }
        if unfinished() > 0 {
            // Say what is left, for whoever reads the failure: the runs' processes and output.
            let ps = try CLISupport.run("/bin/ps", ["-eo", "pid,ppid,stat,etime,args"])
            let left = ps.stdout.split(separator: "\n").filter { $0.contains(w.state) || $0.contains(w.dir) }
            var outputs = ""
            for run in (try? FileManager.default.subpathsOfDirectory(atPath: w.state)) ?? [] where run.hasSuffix("output.log") {
                outputs += run + ": " + ((try? String(contentsOfFile: w.state + "/" + run, encoding: .utf8)) ?? "") + "\n"
            }
            Issue.record("runs without run.exit 60 s after the fleet died; processes: \(left); outputs: \(outputs)")
        }

        guard let r = try WardenBinary.run(["fleet", "--resume", fleetID, "--state-dir", w.state, "-q", "--format", "json"]) else { return }
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let runs = try #require(try World.json(r.stdout)["runs"] as? [[String: Any]])
        #expect(runs.count == 6 && runs.allSatisfy { $0["exit_code"] as? Int == 0 })
        let recs = w.records()
        let exits = Dictionary(grouping: recs.filter { $0["kind"] as? String == "run.exit" }, by: { $0["run"] as? String ?? "" })
        var successes: [String: Int] = [:]
        for start in recs where start["kind"] as? String == "run.start" {
            guard let fields = start["fields"] as? [String: Any], fields["fleet"] as? String == fleetID,
                  let repo = fields["repository"] as? String, let run = start["run"] as? String else { continue }
            let status = (exits[run]?.first?["fields"] as? [String: Any])?["status"] as? Int
            if status == 0 { successes[repo, default: 0] += 1 }
        }
        #expect(successes.count == 6 && successes.values.allSatisfy { $0 == 1 }, "one successful run per repository: \(successes)")
        guard let v = try WardenBinary.run(["audit", "verify", w.log]) else { return }
        #expect(v.status == 3, "intact, unsigned: \(v.stdout)\(v.stderr)")
    }

    /// Hostile or broken input: a clear message and exit 2, nothing launched.
    @Test func badInputIsRefused() throws {
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        let lists: [(String, String)] = [
            ("ext://sh -c touch /tmp/pwned\n", "unsupported URL scheme"),
            ("ext::sh -c id\n", "remote helpers"),
            ("/tmp/a\n/tmp/a\n", "repeats line 1"),
            ("# only a comment\n\n", "names no repository"),
            ("--upload-pack=touch /tmp/x\n", "may not start with '-'"),
            ("/tmp/a\u{1B}]0;x\u{07}\n", "control characters"),
        ]
        for (text, message) in lists {
            try text.write(toFile: w.list, atomically: true, encoding: .utf8)
            guard let r = try w.fleet([], command: ["true"]) else { return }
            #expect(r.status == 2 && r.stderr.contains(message), "\(text.debugDescription): \(r.status) \(r.stderr)")
            #expect(!r.stderr.contains("\u{1B}"))
        }
        #expect(!FileManager.default.fileExists(atPath: w.log), "nothing was launched")
        try "/tmp\n".write(toFile: w.list, atomically: true, encoding: .utf8)
        let usage: [[String]] = [
            ["fleet", "--repos", w.list, "--", "true"],
            ["fleet", "--policy", "default", "--", "true"],
            ["fleet", "--policy", "default", "--repos", w.list],
            ["fleet", "--policy", "default", "--repos", w.list, "--concurrency", "0", "--", "true"],
            ["fleet", "--policy", "default", "--repos", w.list, "--timeout", "soon", "--", "true"],
            ["fleet", "--resume", "not-an-id"],
            ["fleet", "--resume", "0123456789abcdef", "--policy", "default"],
        ]
        for args in usage {
            guard let r = try WardenBinary.run(args + ["--state-dir", w.state]) else { return }
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
        }
        guard let unknown = try WardenBinary.run(["fleet", "--resume", "0123456789abcdef", "--state-dir", w.state]) else { return }
        #expect(unknown.status == 2 && unknown.stderr.contains("fleet.json"), "\(unknown.stderr)")
        try FileManager.default.createDirectory(atPath: w.state + "/0123456789abcdef", withIntermediateDirectories: true)
        try "{\"version\":1,\"id\":\"0123456789abcdef\"".write(toFile: w.state + "/0123456789abcdef/fleet.json", atomically: true, encoding: .utf8)
        guard let torn = try WardenBinary.run(["fleet", "--resume", "0123456789abcdef", "--state-dir", w.state]) else { return }
        #expect(torn.status == 2 && torn.stderr.contains("not valid JSON"), "\(torn.stderr)")
        guard let noFleet = try WardenBinary.run(["audit", "show", w.dir + "/none.jsonl", "--fleet", "zz"]) else { return }
        #expect(noFleet.status == 2)
    }
}
