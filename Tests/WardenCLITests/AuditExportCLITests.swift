import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `warden audit show` filters and `--follow`, and `warden audit export` to stdout, syslog and
/// journald, through the built binary.
@Suite struct AuditExportCLITests {
    static func w(_ args: [String]) throws -> AuditCLITests.Output? { try AuditCLITests.warden(args) }

    /// Two runs of two identities, built with `warden audit append`.
    static func twoRunLog(_ d: String) throws -> String? {
        let log = d + "/audit.jsonl"
        for args in [
            ["--kind", "run.start", "--run", "r1", "--field", "identity=updater", "--field", "user=agent", "--field", "host=h1"],
            ["--kind", "deny.net", "--run", "r1", "--field", "destination=10.0.0.1", "--field", "protocol=tcp"],
            ["--kind", "run.start", "--run", "r2", "--field", "identity=other"],
            ["--kind", "note", "--run", "r2", "--field", "x=\u{1b}[31mred\nforged line"],
        ] {
            guard let o = try w(["audit", "append", log] + args) else { return nil }
            #expect(o.status == 0, "\(o.stderr)")
        }
        return log
    }

    @Test func showFiltersAndUnknownRun() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let byIdentity = try #require(try Self.w(["audit", "show", log, "--identity", "updater"]))
        #expect(byIdentity.status == 0)
        #expect(byIdentity.stdout.contains("run r1") && !byIdentity.stdout.contains("run r2"))
        let other = try #require(try Self.w(["audit", "show", log, "--identity", "other", "--kind", "note"]))
        #expect(other.stdout.contains("\\x1b[31mred\\nforged line") && !other.stdout.contains("\u{1b}"))
        let future = try #require(try Self.w(["audit", "show", log, "--since", "2999-01-01T00:00:00Z"]))
        #expect(future.status == 0 && future.stdout.contains("no matching records"))
        let recent = try #require(try Self.w(["audit", "show", log, "--since", "1h", "--until", "2999-01-01T00:00:00+02:00"]))
        #expect(recent.stdout.contains("run r1") && recent.stdout.contains("run r2"))
        let none = try #require(try Self.w(["audit", "show", log, "--run", "nosuch"]))
        #expect(none.status == 1 && none.stderr.contains("no run nosuch in \(log)"))
        #expect(try Self.w(["audit", "show", log, "--run", "r2", "--kind", "deny.net"])?.status == 0)
        for bad in [["--since", "yesterday"], ["--until", "10"], ["--since", "2026-02-30T00:00:00"], ["--since", "1h", "--until", "2h"]] {
            let o = try #require(try Self.w(["audit", "show", log] + bad))
            #expect(o.status == 2, "\(bad)")
            #expect(o.stderr.contains("--since") || o.stderr.contains("--until"))
        }
        #expect(try Self.w(["audit", "export", log, "--since", "\u{1b}]0;x"])?.stderr.contains("\u{1b}") == false)
    }

    /// Starts `warden audit show --follow` (or export --follow) in the background.
    static func follow(_ args: [String]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AuditCLITests.binary)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    static func append(_ path: String, _ bytes: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(bytes.utf8))
        try h.close()
    }

    @Test func followPrintsAppendedRecordsChecksTheChainSurvivesRotationAndStopsOnSIGTERM() throws {
        guard FileManager.default.isExecutableFile(atPath: AuditCLITests.binary) else { return }
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let (p, out, err) = try Self.follow(["audit", "show", log, "--follow"])
        Thread.sleep(forTimeInterval: 0.8)
        _ = try Self.w(["audit", "append", log, "--kind", "note", "--run", "live1", "--field", "y=appended"])
        // A forged record that does not chain (seq and prev made up), with a terminal escape.
        let forged = #"{"fields":{"x":"\u001b[2Jforged"},"kind":"note","prev":"\#(String(repeating: "0", count: 64))","run":"evil","seq":99,"ts":"2026-12-07T10:00:00.000000Z","version":1}"#
        try Self.append(log, forged + "\n")
        Thread.sleep(forTimeInterval: 0.8)
        // Rotation: the log is moved away and a new one started.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        _ = try Self.w(["audit", "append", log, "--kind", "note", "--run", "afterrot", "--field", "z=new"])
        Thread.sleep(forTimeInterval: 1.0)
        // Idle, it sleeps rather than spins.
        kill(p.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!p.isRunning, "--follow did not stop on SIGTERM")
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(o.contains("run r1") && o.contains("y=appended") && o.contains("z=new"), "\(o)")
        #expect(o.contains("!! line 8: record seq 99 breaks the hash chain"), "\(o)")
        #expect(!o.contains("2Jforged") && !o.contains("run evil") && !o.contains("\u{1b}"))
        #expect(e.contains("was replaced (rotated or recreated)"), "\(e)")
    }

    @Test func followSleepsWhenIdle() throws {
        guard FileManager.default.isExecutableFile(atPath: AuditCLITests.binary) else { return }
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let (p, _, _) = try Self.follow(["audit", "export", log, "--follow"])
        Thread.sleep(forTimeInterval: 0.5)
        let before = Self.cpuTicks(p.processIdentifier)
        Thread.sleep(forTimeInterval: 2.0)
        let after = Self.cpuTicks(p.processIdentifier)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        // 2 s idle: a busy loop would use ~200 ticks; polling 5 times a second uses ~0.
        #expect(after - before < 20, "idle follower used \(after - before) ticks in 2 s")
    }

    static func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(f[11]) ?? 0) + (Int(f[12]) ?? 0)  // utime, stime
    }

    @Test func exportJSONLinesAndOCSF() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let stored = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let j = try #require(try Self.w(["audit", "export", log]))
        #expect(j.status == 0, "\(j.stderr)")
        let lines = j.stdout.split(separator: "\n")
        #expect(lines.count == stored.count)
        for (i, l) in lines.enumerated() {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            #expect(o["sequence"] as? Int == i && (o["hash"] as? String)?.count == 64)
            #expect(l.contains(#","record":\#(stored[i]),"sequence""#))
        }
        let oc = try #require(try Self.w(["audit", "export", log, "--format", "ocsf", "--identity", "updater"]))
        #expect(oc.status == 0)
        let events = try oc.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(events.count == 3)  // run.start, interrupted (r1's writer was gone), deny.net
        #expect(events.map { $0["class_uid"] as? Int } == [1007, 0, 4001])
        #expect(events.allSatisfy { ($0["type_uid"] as? Int) == ($0["class_uid"] as! Int) * 100 + ($0["activity_id"] as! Int) })
        let none = try #require(try Self.w(["audit", "export", log, "--run", "nosuch"]))
        #expect(none.status == 1 && none.stdout.isEmpty)
    }

    @Test func exportOfAHostileLog() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        // A huge field (1 MiB of control characters), a broken chain, junk and a torn last line.
        _ = try Self.w(["audit", "append", log, "--kind", "note", "--field", "big=" + String(repeating: "\u{7}\u{1b}", count: 50_000)])
        try Self.append(log, "\u{1b}]52;c;AAAA\u{7} not a record\n")
        try Self.append(log, #"{"fields":{},"kind":"note","prev":"\#(String(repeating: "f", count: 64))","run":"x","seq":3,"ts":"2026-12-07T10:00:00.000000Z","version":1}"# + "\n")
        try Self.append(log, String(repeating: "z", count: 20 << 20) + "\n")
        try Self.append(log, #"{"fields":{"torn":"#)
        for format in ["jsonl", "ocsf"] {
            let o = try #require(try Self.w(["audit", "export", log, "--format", format]))
            #expect(o.status == 1)
            let lines = o.stdout.split(separator: "\n")
            #expect(lines.count == 7)
            for l in lines { #expect((try? JSONSerialization.jsonObject(with: Data(l.utf8))) != nil) }
            #expect(!o.stderr.contains("\u{1b}") && !o.stderr.contains("\u{7}"))
            #expect(o.stderr.contains("line 8: not a valid record") && o.stderr.contains("line 9: record seq 3 breaks the hash chain"), "\(o.stderr)")
            #expect(o.stderr.contains("line 10: line longer than") && o.stderr.contains("line 11: unfinished last line"), "\(o.stderr)")
        }
    }

    /// A unix datagram socket standing in for syslog or journald.
    final class DatagramListener {
        let fd: Int32
        let path: String

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &sa.sun_path) { p in for (i, b) in path.utf8.enumerated() { p[i] = b } }
            let r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            #expect(r == 0)
            var big: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, 4)
        }

        init(udpPort port: inout UInt16) {
            path = ""
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            port = UInt16(bigEndian: sa.sin_port)
        }

        deinit { close(fd) }

        /// Every datagram queued now.
        func drain() -> [[UInt8]] {
            var out: [[UInt8]] = []
            var buf = [UInt8](repeating: 0, count: 1 << 17)
            while true {
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n <= 0 { return out }
                out.append(Array(buf[0..<n]))
            }
        }
    }

    @Test func syslogOverUnixDatagramAndUDP() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let listener = try DatagramListener(path: d + "/log.sock")
        let o = try #require(try Self.w(["audit", "export", log, "--to", "syslog", "--syslog-address", "unix:" + listener.path]))
        #expect(o.status == 0, "\(o.stderr)")
        let msgs = listener.drain()
        #expect(msgs.count == 6)
        for m in msgs {
            #expect(!m.contains(0x0A))
            let parsed = try #require(SyslogLine.parse(m))
            #expect(parsed.app == "warden")
            #expect((try? JSONSerialization.jsonObject(with: Data(parsed.msg))) != nil)
        }
        let first = try #require(SyslogLine.parse(msgs[0]))
        #expect(first.msgID == "run.start" && first.sd.contains(#"identity="updater""#) && first.sd.contains(#"seq="0""#))
        var port: UInt16 = 0
        let udp = DatagramListener(udpPort: &port)
        let u = try #require(try Self.w(["audit", "export", log, "--format", "ocsf", "--to", "syslog", "--syslog-address", "udp:127.0.0.1:\(port)"]))
        #expect(u.status == 0, "\(u.stderr)")
        #expect(udp.drain().count == 6)
        let missing = try #require(try Self.w(["audit", "export", log, "--to", "syslog", "--syslog-address", "unix:" + d + "/nobody"]))
        #expect(missing.status == 1 && missing.stderr.contains("cannot reach"))
        #expect(try Self.w(["audit", "export", log, "--to", "syslog", "--syslog-address", "tcp:x:1"])?.status == 2)
    }

    @Test func followedDeliveryStopsWhenTheReceiverGoesAway() throws {
        guard FileManager.default.isExecutableFile(atPath: AuditCLITests.binary) else { return }
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        var listener: DatagramListener? = try DatagramListener(path: d + "/log.sock")
        let (p, _, err) = try Self.follow(["audit", "export", log, "--follow", "--to", "syslog", "--syslog-address", "unix:" + d + "/log.sock"])
        Thread.sleep(forTimeInterval: 0.8)
        #expect(listener?.drain().count == 6)
        listener = nil
        _ = try Self.w(["audit", "append", log, "--kind", "note", "--field", "after=gone"])
        let deadline = Date().addingTimeInterval(3)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!p.isRunning, "export --follow kept running after delivery failed")
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("sending to unix:"))
    }

    @Test func journaldNativeSocketAndAbsence() throws {
        let d = try AuditCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard let log = try Self.twoRunLog(d) else { return }
        let listener = try DatagramListener(path: d + "/journal.sock")
        let o = try #require(try Self.w(["audit", "export", log, "--to", "journald", "--journal-socket", listener.path]))
        #expect(o.status == 0, "\(o.stderr)")
        let msgs = listener.drain()
        #expect(msgs.count == 6)
        let text = msgs.map { String(decoding: $0, as: UTF8.self) }
        #expect(text[0].contains("SYSLOG_IDENTIFIER=warden\n") && text[0].contains("WARDEN_IDENTITY=updater\n") && text[0].contains("WARDEN_SEQ=0\n"))
        #expect(text.allSatisfy { $0.contains("WARDEN_HASH=") && $0.contains("MESSAGE=") && $0.contains("PRIORITY=") })
        let absent = try #require(try Self.w(["audit", "export", log, "--to", "journald", "--journal-socket", d + "/none"]))
        #expect(absent.status == 1 && absent.stderr.contains("journald is not running here"))
    }
}

/// Splits an RFC 5424 message into header fields, the structured data and MSG (after the BOM).
enum SyslogLine {
    struct Parts { var app: String, msgID: String, sd: String, msg: [UInt8] }

    static func parse(_ b: [UInt8]) -> Parts? {
        guard let bom = (0..<(b.count - 2)).first(where: { b[$0] == 0xEF && b[$0 + 1] == 0xBB && b[$0 + 2] == 0xBF }) else { return nil }
        let head = String(decoding: b[..<bom], as: UTF8.self)
        let parts = head.split(separator: " ", maxSplits: 6)
        guard parts.count == 7, parts[0].hasPrefix("<"), parts[0].hasSuffix(">1"), parts[6].hasPrefix("["), parts[6].hasSuffix("] ") else { return nil }
        return Parts(app: String(parts[3]), msgID: String(parts[5]), sd: String(parts[6]), msg: Array(b[(bom + 3)...]))
    }
}
