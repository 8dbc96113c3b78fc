import Foundation
import Testing

/// End-to-end tests of `warden audit …` through the built binary.
@Suite struct AuditCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = packageRoot.appendingPathComponent(".build/debug/warden").path

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs warden; nil (after printing why) when the binary has not been built.
    static func warden(_ args: [String], env: [String: String] = [:]) throws -> Output? {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("skipping: \(binary) not built (run `swift build` first)")
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        e.removeValue(forKey: "WARDEN_AUDIT_KEY")
        e.removeValue(forKey: "WARDEN_AUDIT_LOG")
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: r, as: UTF8.self))
    }

    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.path + "/warden-audit-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func keygenAppendVerifyExitCodes() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let kg = try Self.warden(["audit", "keygen", "--output", d + "/k"]) else { return }
        #expect(kg.status == 0)
        let attrs = try FileManager.default.attributesOfItem(atPath: d + "/k.key")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect(try Self.warden(["audit", "keygen", "--output", d + "/k"])?.status == 2)  // never overwrites

        let log = d + "/audit.jsonl"
        let a = try Self.warden(["audit", "append", log, "--kind", "note", "--field", "who=alice", "--signing-key", d + "/k.key"])
        #expect(a?.status == 0, "\(a?.stderr ?? "")")
        #expect(try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])?.status == 0)
        #expect(try Self.warden(["audit", "verify", log])?.status == 3)  // no key given
        // Key from the environment.
        #expect(try Self.warden(["audit", "append", log, "--field", "x=y"], env: ["WARDEN_AUDIT_KEY": d + "/k.key"])?.status == 0)
        // Unsigned records at the end: warning.
        _ = try Self.warden(["audit", "append", log, "--field", "x=z"])
        let warn = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub", "--format", "json"])
        #expect(warn?.status == 3)
        let json = try JSONSerialization.jsonObject(with: Data((warn?.stdout ?? "").utf8)) as? [String: Any]
        #expect(json?["status"] as? String == "warnings")
        #expect(json?["exit_code"] as? Int == 3)
        #expect((json?["warnings"] as? [[String: Any]])?.first?["code"] as? String == "unsigned-tail")

        // Tamper: change one byte of the first line.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: log))
        let i = bytes.firstIndex(of: UInt8(ascii: "a"))!  // "alice"
        bytes[i] = UInt8(ascii: "A")
        try bytes.write(to: URL(fileURLWithPath: log))
        let bad = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])
        #expect(bad?.status == 1)
        #expect(bad?.stdout.contains("TAMPERED: line 1 (seq 0)") == true, "\(bad?.stdout ?? "")")

        // Usage and I/O errors.
        #expect(try Self.warden(["audit", "verify", d + "/missing.jsonl"])?.status == 2)
        #expect(try Self.warden(["audit", "verify", log, "--public-key", d + "/k.key"])?.status == 2)
    }

    @Test func trustedCheckpointCatchesTruncation() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard try Self.warden(["audit", "keygen", "--output", d + "/k"]) != nil else { return }
        let log = d + "/audit.jsonl"
        for i in 0..<3 {
            #expect(try Self.warden(["audit", "append", log, "--field", "i=\(i)", "--signing-key", d + "/k.key"])?.status == 0)
        }
        #expect(try Self.warden(["audit", "checkpoint", log, "--output", d + "/trusted"])?.status == 0)
        let trusted = ["--public-key", d + "/k.pub", "--trusted-checkpoint", d + "/trusted"]
        #expect(try Self.warden(["audit", "verify", log] + trusted)?.status == 0)
        // Drop the last two lines (a record and its checkpoint): the log still chains, but
        // the trusted checkpoint proves records are missing.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast(2).joined(separator: "\n") + "\n").write(toFile: log, atomically: false, encoding: .utf8)
        #expect(try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])?.status == 0)
        let r = try Self.warden(["audit", "verify", log] + trusted)
        #expect(r?.status == 1)
        #expect(r?.stdout.contains("trusted-checkpoint") == true)
    }

    /// 16 separate processes append to one log at the same time.
    @Test func sixteenProcessesAppendConcurrently() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard try Self.warden(["audit", "keygen", "--output", d + "/k"]) != nil else { return }
        let log = d + "/audit.jsonl"
        var procs: [Process] = []
        for w in 0..<16 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.binary)
            p.arguments = ["audit", "append", log, "--field", "writer=\(w)", "--repeat", "60", "--batch", "3",
                           "--run", "proc-\(w)", "--signing-key", d + "/k.key"]
            try p.run()
            procs.append(p)
        }
        for p in procs {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let v = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])
        #expect(v?.status == 0, "\(v?.stdout ?? "")")
        let show = try Self.warden(["audit", "show", log, "--kind", "note", "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data((show?.stdout ?? "").utf8)) as? [String: Any]
        // `show` streams: consecutive records of a run form one entry, so runs written at the
        // same time appear as several entries; joined per run, each is complete and in order.
        var byRun: [String: [Int]] = [:]
        for entry in json?["runs"] as? [[String: Any]] ?? [] {
            let records = entry["records"] as? [[String: Any]] ?? []
            byRun[entry["run"] as? String ?? "", default: []] += records.compactMap { ($0["fields"] as? [String: Any])?["i"] as? Int }
        }
        #expect(byRun.count == 16)
        for (run, order) in byRun { #expect(order == Array(0..<60), "\(run)") }
    }

    /// A writer killed with SIGKILL in the middle of large writes leaves a log that verifies
    /// up to the torn line; the next writer continues cleanly.
    @Test func sigkillMidWriteThenContinue() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard try Self.warden(["audit", "keygen", "--output", d + "/k"]) != nil else { return }
        let log = d + "/audit.jsonl"
        #expect(try Self.warden(["audit", "append", log, "--field", "first=1", "--signing-key", d + "/k.key"])?.status == 0)
        let pad = String(repeating: "p", count: 4000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["audit", "append", log, "--field", "pad=\(pad)", "--repeat", "1000000", "--batch", "2000",
                       "--signing-key", d + "/k.key"]
        try p.run()
        // Kill it once it has written a few batches (each batch is one ~8 MB write).
        var size = 0
        for _ in 0..<2000 {
            size = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            if size > 20_000_000 { break }
            usleep(5000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        let after = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub", "--format", "json"])
        #expect(after?.status == 3, "\(after?.stdout.prefix(2000) ?? "")")  // unsigned tail, maybe torn: never tampered
        let torn = after?.stdout.contains("\"torn-tail\"") == true
        print("SIGKILL left a torn tail: \(torn)")
        #expect(try Self.warden(["audit", "append", log, "--field", "after=1", "--signing-key", d + "/k.key"])?.status == 0)
        let v = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub", "--format", "json"])
        #expect(v?.status == 0, "\(v?.stdout.prefix(2000) ?? "")")
        let json = try JSONSerialization.jsonObject(with: Data((v?.stdout ?? "").utf8)) as? [String: Any]
        #expect(((json?["recoveries"] as? [Any])?.count ?? 0) == (torn ? 1 : 0))
    }

    @Test func showTimelineText() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let log = d + "/audit.jsonl"
        guard try Self.warden(["audit", "append", log, "--kind", "maintenance", "--field", "who=ops", "--run", "ops-1"]) != nil else { return }
        _ = try Self.warden(["audit", "append", log, "--kind", "note", "--field", "x=1", "--run", "other"])
        let s = try Self.warden(["audit", "show", log, "--run", "ops-1"])
        #expect(s?.status == 0)
        #expect(s?.stdout.contains("run ops-1") == true)
        #expect(s?.stdout.contains("maintenance") == true)
        #expect(s?.stdout.contains("who=ops") == true)
        #expect(s?.stdout.contains("other") == false)
        #expect(try Self.warden(["audit", "show", d + "/nope.jsonl"])?.status == 2)
    }

    /// Audit inputs that are not regular files fail at once with exit 2 and a clear message.
    @Test func badInputsAreUsageErrors() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let zero = try Self.warden(["audit", "verify", "/dev/zero"]) else { return }
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("character device, not a regular file"), "\(zero.stderr)")
        let log = d + "/audit.jsonl"
        #expect(try Self.warden(["audit", "append", log, "--field", "x=1"])?.status == 0)
        let tc = try Self.warden(["audit", "verify", log, "--trusted-checkpoint", "/dev/zero"])
        #expect(tc?.status == 2)
        #expect(tc?.stderr.contains("trusted checkpoint is a character device") == true, "\(tc?.stderr ?? "")")
        #expect(tc?.stderr.contains("ExitCode") == false)
        let fifo = d + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        for args in [["audit", "verify", fifo], ["audit", "show", fifo], ["audit", "append", fifo],
                     ["audit", "verify", log, "--public-key", fifo]] {
            let r = try Self.warden(args)
            #expect(r?.status == 2, "\(args)")
            #expect(r?.stderr.contains("FIFO") == true, "\(args): \(r?.stderr ?? "")")
        }
        let link = d + "/link.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: log)
        let before = try Data(contentsOf: URL(fileURLWithPath: log))
        let l = try Self.warden(["audit", "append", link, "--field", "x=2"])
        #expect(l?.status == 2 && l?.stderr.contains("symbolic link") == true, "\(l?.stderr ?? "")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: log)) == before)
        #expect(try Self.warden(["audit", "verify", ""])?.status == 2)
        #expect(try Self.warden(["audit", "append", "", "--field", "x=1"])?.status == 2)
        let run = try Self.warden(["run", "--policy", "/nonexistent.warden", "--audit-log", "", "--", "true"])
        #expect(run?.status == 125 && run?.stderr.contains("--audit-log") == true, "\(run?.stderr ?? "")")
        // Not a Warden log: refused, untouched.
        let notes = d + "/notes.txt"
        try "my notes\n".write(toFile: notes, atomically: false, encoding: .utf8)
        let n = try Self.warden(["audit", "append", notes, "--field", "x=1"])
        #expect(n?.status == 2 && n?.stderr.contains("not a Warden audit log") == true, "\(n?.stderr ?? "")")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
    }

    /// Edited records are tampering (exit 1) and stay so: the next writer refuses the log.
    @Test func editedTailIsTamperingAndWritersRefuseIt() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard try Self.warden(["audit", "keygen", "--output", d + "/k"]) != nil else { return }
        let log = d + "/audit.jsonl"
        for i in 0..<3 {
            #expect(try Self.warden(["audit", "append", log, "--field", "i=\(i)", "--signing-key", d + "/k.key"])?.status == 0)
        }
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let n = lines.count
        for i in (n - 3)..<n { lines[i] = String(lines[i].dropLast()) }  // break the JSON
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: false, encoding: .utf8)
        let v = try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])
        #expect(v?.status == 1 && v?.stdout.contains("TAMPERED: line \(n - 2)") == true, "\(v?.stdout ?? "")")
        let a = try Self.warden(["audit", "append", log, "--field", "x=1", "--signing-key", d + "/k.key"])
        #expect(a?.status == 2 && a?.stderr.contains("refusing to append") == true, "\(a?.stderr ?? "")")
        #expect(try Self.warden(["audit", "verify", log, "--public-key", d + "/k.pub"])?.status == 1)
    }

    /// Control characters in records reach the terminal escaped.
    @Test func showEscapesControlCharacters() throws {
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let log = d + "/audit.jsonl"
        let hostile = "ok\u{1B}[2K\rforged\nrun fake\u{07}\u{9B}1m"
        guard try Self.warden(["audit", "append", log, "--field", "note=\(hostile)", "--run", "r1"]) != nil else { return }
        let s = try Self.warden(["audit", "show", log])
        #expect(s?.status == 0)
        let out = s?.stdout ?? ""
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, "\(out)")
        #expect(out.contains(#"note=ok\x1b[2K\rforged\nrun fake\x07\u009b1m"#), "\(out)")
        let j = try Self.warden(["audit", "show", log, "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data((j?.stdout ?? "").utf8)) as? [String: Any]
        let rec = ((json?["runs"] as? [[String: Any]])?.first?["records"] as? [[String: Any]])?.first
        #expect((rec?["fields"] as? [String: Any])?["note"] as? String == hostile)
    }

    /// A supervisor killed with SIGKILL never writes `run.exit`; the next run names it.
    @Test func killedRunIsRecordedAsInterruptedByTheNextRun() throws {
        guard geteuid() == 0 else { print("skip: needs root for the sandbox"); return }
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        let d = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let log = d + "/audit/audit.jsonl"
        try FileManager.default.createDirectory(atPath: d + "/ws", withIntermediateDirectories: true)
        let policy = Self.packageRoot.appendingPathComponent("policies/default.warden").path
        let args = ["run", "-q", "--policy", policy, "--workspace", d + "/ws", "--audit-log", log, "--"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args + ["sleep", "60"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until run.start is on disk, then kill the supervisor.
        var started = false
        for _ in 0..<600 where !started {
            started = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(#""kind":"run.start""#)
            if !started { usleep(50_000) }
        }
        #expect(started)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let next = try Self.warden(args + ["true"])
        #expect(next?.status == 0, "\(next?.stderr ?? "")")
        let show = try Self.warden(["audit", "show", log, "--kind", "interrupted", "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data((show?.stdout ?? "").utf8)) as? [String: Any]
        let records = (json?["runs"] as? [[String: Any]])?.flatMap { $0["records"] as? [[String: Any]] ?? [] } ?? []
        #expect(records.count == 1, "\(show?.stdout ?? "")")
        #expect((records.first?["fields"] as? [String: Any])?["start_seq"] as? Int == 0)
        let v = try Self.warden(["audit", "verify", log, "--format", "json"])
        #expect(v?.status == 3)  // no key given; the interruption itself is informative
        let report = try JSONSerialization.jsonObject(with: Data((v?.stdout ?? "").utf8)) as? [String: Any]
        #expect((report?["interrupted"] as? [Any])?.count == 1)
        #expect((report?["warnings"] as? [[String: Any]])?.map { $0["code"] as? String } == ["no-public-key"])
    }
}
