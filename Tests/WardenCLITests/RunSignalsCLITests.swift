import Foundation
import Testing

/// `warden run` and the operator: signals escalate to the agent's whole tree, the
/// terminal's modes come back, a SIGKILLed supervisor's run directory is cleaned up.
@Suite(.serialized) struct RunSignalsCLITests {
    /// A `warden run` in the background, its output in files.
    struct Background {
        let process = Process()
        let out: String

        /// `unblockedSignals`: start Warden with no signal blocked, as from a shell (this test
        /// process blocks SIGTERM, and a spawned child inherits the mask).
        init(_ arguments: [String], stdin: FileHandle = .nullDevice, unblockedSignals: Bool = false) throws {
            out = NSTemporaryDirectory() + "warden-bg-out-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            if unblockedSignals {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                process.arguments = ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                                     + "signal.signal(signal.SIGPIPE, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
                                     WardenBinary.path] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: WardenBinary.path)
                process.arguments = arguments
            }
            process.currentDirectoryURL = URL(fileURLWithPath: WardenBinary.root)
            process.standardInput = stdin
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            try handle.close()
        }

        var output: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }

        /// Waits (up to a minute, so a bug fails instead of hanging) until `condition`.
        func wait(for what: String, _ condition: () -> Bool) -> Bool {
            for _ in 0..<600 {
                if condition() { return true }
                usleep(100_000)
            }
            Issue.record("gave up waiting for \(what); output: \(output)")
            return false
        }

        /// Waits for the exit; SIGKILLs after a minute (and records an issue) so no test hangs.
        func finish() -> Int32 {
            if !wait(for: "warden to exit", { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: out)
            return process.terminationStatus
        }
    }

    /// True when `signal` is not pending for `pid` (per thread or process-wide).
    static func notPending(_ signal: Int32, _ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
        return status.split(separator: "\n").filter { $0.hasPrefix("SigPnd:") || $0.hasPrefix("ShdPnd:") }.allSatisfy {
            let mask = $0.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) } ?? 0
            return mask & (UInt64(1) << UInt64(signal - 1)) == 0
        }
    }

    /// PIDs whose command line contains `token`.
    static func processes(containing token: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(token)
        }
    }

    static func run(_ f: PolicyCommandsCLITests.RunFixture, _ command: [String], extra: [String] = []) -> [String] {
        ["run", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", f.workspace,
         "--audit-log", f.log] + extra + ["--"] + command
    }

    /// An agent that ignores SIGTERM and SIGINT (and a child that does too).
    static func stubbornAgent(_ token: String) -> [String] {
        ["/bin/sh", "-c", "trap '' TERM INT; sleep 1\(token) & echo ready > ready; exec sleep 2\(token)"]
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func secondSignalKillsTheWholeTree(_ signal: Int32) throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let token = String(UInt32.random(in: 100_000...999_999))
        let bg = try Background(Self.run(f, Self.stubbornAgent(token), extra: ["--grace", "300s"]))
        guard bg.wait(for: "the agent", { FileManager.default.fileExists(atPath: f.workspace + "/ready") }) else {
            _ = bg.finish(); return
        }
        let pid = bg.process.processIdentifier
        kill(pid, signal)
        // Standard signals do not queue: send the second only once the first was delivered.
        _ = bg.wait(for: "the first signal to be delivered") { Self.notPending(signal, pid) }
        kill(pid, signal)
        let status = bg.finish()
        #expect(status == 128 + SIGKILL, "the agent was killed, not ended by the grace period (300 s)")
        #expect(Self.processes(containing: "sleep 1\(token)").isEmpty && Self.processes(containing: "sleep 2\(token)").isEmpty)
    }

    @Test func theGracePeriodAfterOneSignalKillsTheWholeTree() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let token = String(UInt32.random(in: 100_000...999_999))
        let bg = try Background(Self.run(f, Self.stubbornAgent(token), extra: ["--grace", "1s"]))
        guard bg.wait(for: "the agent", { FileManager.default.fileExists(atPath: f.workspace + "/ready") }) else {
            _ = bg.finish(); return
        }
        kill(bg.process.processIdentifier, SIGTERM)
        #expect(bg.finish() == 128 + SIGKILL)
        #expect(Self.processes(containing: "sleep 1\(token)").isEmpty && Self.processes(containing: "sleep 2\(token)").isEmpty)
        let log = (try? String(contentsOfFile: f.log, encoding: .utf8)) ?? ""
        #expect(log.contains("\"kind\":\"run.exit\""), "the run is recorded to its end")
    }

    /// The agent turns echo and canonical input off on the operator's terminal (a pty made
    /// by a small Python helper, which checks the modes after `warden run` exits); after the
    /// run the terminal has them back.
    @Test func terminalModesAreRestored() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let helper = """
        import os, pty, subprocess, sys, termios
        master, slave = pty.openpty()
        def modes():
            lflag = termios.tcgetattr(slave)[3]
            return "echo=%d icanon=%d" % (lflag & termios.ECHO != 0, lflag & termios.ICANON != 0)
        print("before", modes())
        r = subprocess.run(sys.argv[1:], stdin=slave, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        print("status", r.returncode, r.stderr.decode(errors="replace").replace("\\n", " | "))
        print("after", modes())
        """
        let args = ["python3", "-c", helper, WardenBinary.path]
            + Self.run(f, ["/bin/sh", "-c", "stty -echo -icanon && stty -a > modes"])
        let r = try CLISupport.run("/usr/bin/env", args)
        guard r.status == 0, r.stdout.contains("before") else {
            print("skip: no python3 with pty support here: \(r.stderr)")
            return
        }
        #expect(r.stdout.contains("before echo=1 icanon=1"), "\(r.stdout)")
        #expect(r.stdout.contains("status 0 "), "\(r.stdout)")
        let modes = (try? String(contentsOfFile: f.workspace + "/modes", encoding: .utf8)) ?? ""
        #expect(modes.contains("-echo ") && modes.contains("-icanon"), "the agent changed the modes: \(modes)")
        #expect(r.stdout.contains("after echo=1 icanon=1"), "the modes are back: \(r.stdout)")
    }

    /// A SIGKILLed supervisor leaves its run directory and no `run.exit`; the next run removes
    /// the directory, and its audit writer records the killed run as `interrupted`.
    @Test func theNextRunRemovesAKilledSupervisorsRunDirectory() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let token = String(UInt32.random(in: 100_000...999_999))
        let bg = try Background(Self.run(f, ["/bin/sh", "-c", "echo ready > ready; touch /tmp/agent-file; exec sleep 3\(token)"]))
        guard bg.wait(for: "the agent", { FileManager.default.fileExists(atPath: f.workspace + "/ready") }) else {
            _ = bg.finish(); return
        }
        let log = try String(contentsOfFile: f.log, encoding: .utf8)
        let start = try #require(log.split(separator: "\n").first)
        let object = try JSONSerialization.jsonObject(with: Data(start.utf8)) as? [String: Any]
        let runID = try #require(object?["run"] as? String)
        let tmp = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("warden-\(runID)-") }
        #expect(tmp.count == 1)
        // Tests run in parallel, and any other `warden run` of this user may take the abandoned
        // directory first. Hold it open from before the kill: once the supervisor is gone its lock
        // is free, and taking it here keeps the directory for this test's next run to remove.
        let held = open("/tmp/" + (tmp.first ?? "?"), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        kill(bg.process.processIdentifier, SIGKILL)
        _ = bg.finish()
        // The sandbox dies with its supervisor (parent-death signal); let it finish dying.
        _ = bg.wait(for: "the agent to die") { Self.processes(containing: "sleep 3\(token)").isEmpty }
        if held >= 0 {
            let locked = bg.wait(for: "the killed supervisor's lock to be released") { flock(held, LOCK_EX | LOCK_NB) == 0 }
            var st = stat()
            if fstat(held, &st) == 0, st.st_nlink == 0 {
                print("note: a concurrent run removed the abandoned directory first")
            } else {
                #expect(locked, "the killed supervisor's lock on its directory is released")
                #expect(FileManager.default.fileExists(atPath: "/tmp/" + (tmp.first ?? "?")), "left behind by the killed supervisor")
            }
            close(held)
        }

        guard let next = try WardenBinary.run(Self.run(f, ["true"])) else { return }
        #expect(next.status == 0, "\(next.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/" + (tmp.first ?? "?")))
        // The next writer also records that the killed run ended without run.exit.
        let records = try String(contentsOfFile: f.log, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(records.contains {
            $0["kind"] as? String == "interrupted" && ($0["fields"] as? [String: Any])?["run"] as? String == runID
        })
    }

    /// A stop signal arriving after the agent is gone (an operator's late Ctrl-C, a fleet's or
    /// server's death through the parent-death signal) never kills Warden before it records
    /// the run's end: SIGTERM is sent again and again from the moment the agent has done its
    /// work, and every run still ends with `run.exit` and the agent's own status.
    @Test func aStopSignalAfterTheAgentIsGoneStillGetsRunExit() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        for round in 0..<15 {
            let marker = f.workspace + "/done-\(round)"
            let bg = try Background(Self.run(f, ["/bin/sh", "-c", "echo x > done-\(round); exit 3"]))
            guard bg.wait(for: "the agent's work", { FileManager.default.fileExists(atPath: marker) || !bg.process.isRunning }) else {
                _ = bg.finish(); return
            }
            while bg.process.isRunning {
                kill(bg.process.processIdentifier, SIGTERM)
                usleep(200)
            }
            bg.process.waitUntilExit()
            let reason = bg.process.terminationReason
            let status = bg.process.terminationStatus
            _ = bg.finish()
            // 3 is the agent's; 143 (128+SIGTERM) when the signal reached a still-running agent.
            #expect(reason == .exit && (status == 3 || status == 143), "round \(round): warden ended by \(reason == .exit ? "exit" : "signal") \(status)")
        }
        let records = try String(contentsOfFile: f.log, encoding: .utf8).split(separator: "\n")
        let starts = records.filter { $0.contains(#""kind":"run.start""#) }.count
        let exits = records.filter { $0.contains(#""kind":"run.exit""#) }.count
        #expect(starts == 15 && exits == 15, "run.start \(starts), run.exit \(exits)")
    }

    /// A stop signal that arrives once `run.start` is in the log, before the agent has
    /// started, is held and passed to the agent: Warden never dies between the two records.
    @Test func aStopSignalBetweenRunStartAndTheAgentIsHeldForTheAgent() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let rounds = 15
        for round in 0..<rounds {
            let before = Self.count("run.start", in: f.log)
            let bg = try Background(Self.run(f, ["/bin/sh", "-c", "exit 3"]), unblockedSignals: true)
            // Poll the log until this run's run.start is there, then signal at once (once: a
            // second signal would rightly kill the agent's tree).
            while bg.process.isRunning && Self.count("run.start", in: f.log) == before { usleep(100) }
            if bg.process.isRunning { kill(bg.process.processIdentifier, SIGTERM) }
            bg.process.waitUntilExit()
            let reason = bg.process.terminationReason
            let status = bg.process.terminationStatus
            _ = bg.finish()
            // 143 (128+SIGTERM) when the held signal reached the agent; 3 when it had already exited.
            #expect(reason == .exit && (status == 3 || status == 143),
                    "round \(round): warden ended by \(reason == .exit ? "exit" : "signal") \(status)")
        }
        let starts = Self.count("run.start", in: f.log), exits = Self.count("run.exit", in: f.log)
        #expect(starts == rounds && exits == rounds, "run.start \(starts), run.exit \(exits)")
    }

    static func count(_ kind: String, in log: String) -> Int {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"kind\":\"\(kind)\"") }.count
    }

    /// A run whose parent is not the fleet or server that says it started it (that one died
    /// and the run was re-parented, to init or to a subreaper) does not launch.
    @Test func aRunWhoseParentIsAlreadyGoneDoesNotLaunch() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        // The test process is the real parent: its pid passes, any other pid does not.
        let mine = String(getpid())
        guard let ok = try AuditCLITests.warden(Self.run(f, ["/bin/true"], extra: ["--stop-with-parent", "--parent-pid", mine])) else { return }
        #expect(ok.status == 0, "\(ok.stderr)")
        let other = String(getpid() == 2 ? 3 : 2)
        guard let gone = try AuditCLITests.warden(Self.run(f, ["/bin/true"], extra: ["--stop-with-parent", "--parent-pid", other])) else { return }
        #expect(gone.status == 125 && gone.stderr.contains("is gone; not launching"), "\(gone.status) \(gone.stderr)")
        #expect(Self.count("run.start", in: f.log) == 1)
        guard let alone = try AuditCLITests.warden(Self.run(f, ["/bin/true"], extra: ["--parent-pid", mine])) else { return }
        #expect(alone.status == 125 && alone.stderr.contains("--parent-pid goes with"), "\(alone.status) \(alone.stderr)")
    }
}
