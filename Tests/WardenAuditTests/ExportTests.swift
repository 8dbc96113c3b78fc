import Foundation
import Testing

@testable import WardenAudit

/// A log with one run of every mapped kind, written by the real writer.
private func exportFixture(_ dir: TempDir) throws -> String {
    let path = dir.file("audit.jsonl")
    let log = try AuditLog(path: path)
    let t = AuditTime(seconds: 1_790_000_000, nanoseconds: 250_000_000)
    try log.append(
        [
            .runStart(startInfo(1)),
            .denySyscall(name: "ptrace", nr: 101, args: [1, 2], pid: 7, first: t, last: t, errno: 1, rule: "p.warden:3"),
            .network(denied: true, destination: "93.184.216.34", port: 443, proto: "tcp", domain: "example.com", pid: 7, rule: nil, first: t, last: t),
            .network(denied: false, destination: "10.0.0.1", port: 5432, proto: "tcp", domain: nil, pid: 7, rule: "p.warden:4", first: t, last: t),
            .denyFs(path: "/home/a/.ssh/id_rsa", operation: "fs.read_file", access: "read", errno: 13, pid: 7, rule: nil, source: "landlock", first: t, last: t),
            .runExit(RunExitInfo(status: 3, durationMilliseconds: 12, denials: [:])),
            AuditEvent(kind: "note", fields: ["x": "y"]),
        ], run: "run-1")
    return path
}

/// All entries of a log read through `AuditFollower` (no follow).
private func entries(_ path: String) throws -> [ChainEntry] {
    var out: [ChainEntry] = []
    try AuditFollower(path: path).run(follow: false) { out.append($0) }
    return out
}

private func records(_ e: [ChainEntry]) -> [(AuditRecord, String)] {
    e.compactMap { if case .record(let r, _, let h) = $0 { return (r, h) } else { return nil } }
}

@Suite struct TimeArgumentTests {
    let now = AuditTime(seconds: 1_790_000_000, nanoseconds: 0)

    @Test func relativeAndAbsolute() throws {
        #expect(try AuditTimeArgument.parse("10m", now: now).seconds == now.seconds - 600)
        #expect(try AuditTimeArgument.parse("2h", now: now).seconds == now.seconds - 7200)
        #expect(try AuditTimeArgument.parse("1d", now: now).seconds == now.seconds - 86_400)
        #expect(try AuditTimeArgument.parse("30s", now: now).seconds == now.seconds - 30)
        let z = try AuditTimeArgument.parse("2026-12-07T10:00:00Z", now: now)
        #expect(z.rfc3339 == "2026-12-07T10:00:00.000000Z")
        let off = try AuditTimeArgument.parse("2026-12-07T11:00:00.5+01:00", now: now)
        #expect(off.rfc3339 == "2026-12-07T10:00:00.500000Z")
        let neg = try AuditTimeArgument.parse("2026-12-07t05:30:00.123456789-04:30", now: now)
        #expect(neg.rfc3339 == "2026-12-07T10:00:00.123456Z")
    }

    @Test(arguments: [
        "", "abc", "10", "m", "10x", "-5m", "10 m", "2026-12-07", "2026-12-07T10:00:00", "2026-13-07T10:00:00Z",
        "2026-12-07T25:00:00Z", "2026-12-07T10:00:00.Z", "2026-12-07T10:00:00+1:00", "0000-01-01T00:00:00Z",
        "99999999999999999d", "2026-12-07T10:00:00Zjunk", String(repeating: "9", count: 5000) + "s",
    ])
    func refusesMalformed(_ text: String) {
        #expect(throws: AuditTimeArgument.Invalid.self) { try AuditTimeArgument.parse(text, now: now) }
    }
}

@Suite struct ChainReaderTests {
    @Test func yieldsRecordsWithTheirHashes() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try exportFixture(dir)
        let e = try entries(path)
        let recs = records(e)
        #expect(recs.count == 7 && recs.count == e.count)
        let lines = splitLines(try readBytes(path))
        for (i, (rec, hash)) in recs.enumerated() {
            #expect(rec.seq == Int64(i))
            #expect(hash == AuditHash.sha256Hex(Array(lines[i].dropLast())))
            if i > 0 { #expect(rec.prev == recs[i - 1].1) }
        }
    }

    @Test func reportsABrokenChainOnceAndATornTail() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try exportFixture(dir)
        var lines = splitLines(try readBytes(path))
        // Edit record 2 (its own prev still chains; record 3's prev no longer does).
        let edited = String(decoding: lines[2], as: UTF8.self).replacingOccurrences(of: "93.184.216.34", with: "93.184.216.35")
        lines[2] = Array(edited.utf8)
        var bytes = lines.flatMap { $0 }
        bytes += Array(#"{"fields":{"x":"#.utf8)  // torn last line
        try writeBytes(path, bytes)
        let e = try entries(path)
        var problems: [Int] = []
        var unfinished: [Int] = []
        for x in e {
            if case .problem(let l, let m) = x {
                problems.append(l)
                #expect(m.contains("breaks the hash chain"))
            }
            if case .unfinished(let l, _) = x { unfinished.append(l) }
        }
        #expect(problems == [4])
        #expect(unfinished == [8])
        #expect(records(e).map(\.0.seq) == [0, 1, 2, 4, 5, 6])
    }

    @Test func hostileLinesAreReportedNotYielded() {
        var r = ChainReader(maxLine: 1024)
        var got: [ChainEntry] = []
        let junk = Array("\u{1b}[2Jnot a record\r\n".utf8) + [UInt8](repeating: 0x41, count: 5000) + [0x0A] + Array("{}\n".utf8)
        // Fed in small pieces, as a follower sees a log grow.
        junk.withUnsafeBytes { b in
            var i = 0
            while i < b.count {
                let n = min(7, b.count - i)
                r.consume(UnsafeRawBufferPointer(rebasing: b[i..<(i + n)])) { got.append($0) }
                i += n
            }
        }
        r.finish { got.append($0) }
        let lines = got.compactMap { if case .problem(let l, _) = $0 { return l } else { return nil } }
        #expect(lines == [1, 2, 3])
        #expect(got.count == 3)
        #expect(r.pendingBytes == 0)
    }
}

@Suite struct FilterTests {
    @Test func identitySinceUntil() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("a.jsonl")
        let log = try AuditLog(path: path)
        var other = startInfo(2)
        other.identity = "other"
        try log.append([.runStart(startInfo(1)), AuditEvent(kind: "note", fields: [:])], run: "r1")
        try log.append([.runStart(other), AuditEvent(kind: "note", fields: [:])], run: "r2")
        var f = AuditFilter(identity: "dependency-updater")
        let runs = records(try entries(path)).filter { f.matches($0.0) }.map(\.0.run)
        #expect(Set(runs) == ["r1"] && runs.count == 2)
        var future = AuditFilter(since: AuditTime(seconds: AuditTime.now().seconds + 3600, nanoseconds: 0))
        #expect(records(try entries(path)).filter { future.matches($0.0) }.isEmpty)
        var past = AuditFilter(until: AuditTime(seconds: 1000, nanoseconds: 0))
        #expect(records(try entries(path)).filter { past.matches($0.0) }.isEmpty)
        var run = AuditFilter(run: "r2", kind: "note")
        #expect(records(try entries(path)).filter { run.matches($0.0) }.count == 1 && run.runSeen)
    }
}

@Suite struct OCSFTests {
    @Test func everyEventHasTheRequiredFieldsAndChainPosition() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try exportFixture(dir)
        var mapper = OCSFMapper(defaultHost: "here")
        var classes: [String: (Int64, Int64)] = [:]
        for (rec, hash) in records(try entries(path)) {
            mapper.observe(rec)
            let line = AuditExportLine.ocsf(mapper.event(rec, hash: hash))
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let cls = try #require(o["class_uid"] as? Int)
            let act = try #require(o["activity_id"] as? Int)
            #expect(o["category_uid"] as? Int == (cls == 0 ? 0 : cls / 1000))
            #expect(o["type_uid"] as? Int == cls * 100 + act)
            #expect(o["time"] as? Int == Int(OCSFMapper.millis(AuditTime(rfc3339: rec.ts)!)))
            #expect((o["severity_id"] as? Int).map { (0...6).contains($0) } == true)
            let meta = try #require(o["metadata"] as? [String: Any])
            #expect(meta["version"] as? String == "1.3.0")
            let product = try #require(meta["product"] as? [String: Any])
            #expect(product["name"] as? String == "Warden" && product["vendor_name"] != nil)
            #expect(meta["sequence"] as? Int == Int(rec.seq) && meta["uid"] as? String == hash)
            let warden = try #require((o["unmapped"] as? [String: Any])?["warden"] as? [String: Any])
            #expect(warden["hash"] as? String == hash && warden["kind"] as? String == rec.kind)
            #expect(warden["identity"] as? String == "dependency-updater")
            #expect((o["device"] as? [String: Any])?["hostname"] as? String == "ci-runner-7")
            classes[rec.kind] = (Int64(cls), Int64(act))
        }
        #expect(classes["run.start"]! == (1007, 1))
        #expect(classes["run.exit"]! == (1007, 2))
        #expect(classes["deny.syscall"]! == (1007, 99))
        #expect(classes["deny.net"]! == (4001, 5))
        #expect(classes["net.connect"]! == (4001, 1))
        #expect(classes["deny.fs"]! == (1001, 2))
        #expect(classes["note"]! == (0, 99))
    }

    @Test func jsonlCarriesTheStoredRecordByteForByte() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try exportFixture(dir)
        let lines = splitLines(try readBytes(path))
        for (i, (rec, hash)) in records(try entries(path)).enumerated() {
            let out = String(decoding: AuditExportLine.jsonl(rec, hash: hash), as: UTF8.self)
            let stored = String(decoding: lines[i].dropLast(), as: UTF8.self)
            #expect(out == #"{"hash":"\#(hash)","record":\#(stored),"sequence":\#(rec.seq)}"#)
        }
    }
}

/// Parses an RFC 5424 message as a strict receiver would (the grammar of §6).
struct Syslog5424 {
    var pri: Int, timestamp: String, hostname: String, app: String, procID: String, msgID: String
    var params: [String: String]
    var msg: [UInt8]

    init?(_ b: [UInt8]) {
        var i = 0
        func token() -> String? {
            let start = i
            while i < b.count, b[i] != 0x20 {
                guard b[i] >= 33 && b[i] <= 126 else { return nil }
                i += 1
            }
            guard i < b.count, i > start else { return nil }
            defer { i += 1 }
            return String(decoding: b[start..<i], as: UTF8.self)
        }
        guard b.first == UInt8(ascii: "<"), let close = b.firstIndex(of: UInt8(ascii: ">")), close <= 4,
            let p = Int(String(decoding: b[1..<close], as: UTF8.self)), p <= 191, b[close + 1] == UInt8(ascii: "1"),
            b[close + 2] == 0x20
        else { return nil }
        pri = p
        i = close + 3
        guard let ts = token(), let h = token(), let a = token(), let pid = token(), let m = token() else { return nil }
        guard h.utf8.count <= 255, a.utf8.count <= 48, pid.utf8.count <= 128, m.utf8.count <= 32 else { return nil }
        (timestamp, hostname, app, procID, msgID) = (ts, h, a, pid, m)
        // One SD-ELEMENT: [SD-ID *(SP NAME="VALUE")]
        guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
        i += 1
        guard let sdEnd = b[i...].firstIndex(where: { $0 == 0x20 || $0 == UInt8(ascii: "]") }) else { return nil }
        guard String(decoding: b[i..<sdEnd], as: UTF8.self) == SyslogMessage.sdID else { return nil }
        i = sdEnd
        var ps: [String: String] = [:]
        while i < b.count, b[i] == 0x20 {
            i += 1
            guard let eq = b[i...].firstIndex(of: UInt8(ascii: "=")), b[eq + 1] == UInt8(ascii: "\"") else { return nil }
            let name = String(decoding: b[i..<eq], as: UTF8.self)
            guard !name.isEmpty, name.utf8.count <= 32 else { return nil }
            i = eq + 2
            var v: [UInt8] = []
            while true {
                guard i < b.count else { return nil }
                let c = b[i]
                if c == UInt8(ascii: "\\"), i + 1 < b.count, [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]")].contains(b[i + 1]) {
                    v.append(b[i + 1])
                    i += 2
                    continue
                }
                guard c != UInt8(ascii: "\""), c != UInt8(ascii: "]") else { break }
                v.append(c)
                i += 1
            }
            guard b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            ps[name] = String(decoding: v, as: UTF8.self)
        }
        guard i < b.count, b[i] == UInt8(ascii: "]") else { return nil }
        i += 1
        params = ps
        guard i + 4 <= b.count, b[i] == 0x20, Array(b[(i + 1)..<(i + 4)]) == [0xEF, 0xBB, 0xBF] else { return nil }
        msg = Array(b[(i + 4)...])
    }
}

@Suite struct SyslogFormatTests {
    func record(run: String = "run-1", kind: String = "deny.net", fields: [String: AuditValue] = [:]) -> AuditRecord {
        AuditRecord(seq: 42, ts: "2026-12-07T10:00:00.123456Z", kind: kind, run: run, fields: fields, prev: AuditRecord.genesisHash)
    }

    @Test func grammarAndEscaping() throws {
        let rec = record(fields: ["destination": "x\ny"])
        let hostile = "id\"] [forged@1 a=\"b\"]\\\n<13>1 2026-01-01T00:00:00Z evil"
        let msg = AuditExportLine.jsonl(rec, hash: String(repeating: "a", count: 64))
        let out = SyslogMessage.format(rec, hash: String(repeating: "a", count: 64), identity: hostile, msg: msg, hostname: "host name\n", procID: 99)
        #expect(!out.contains(0x0A) && !out.contains(0x0D))
        let m = try #require(Syslog5424(out))
        #expect(m.pri == 13 * 8 + 4)
        #expect(m.timestamp == "2026-12-07T10:00:00.123456Z" && m.hostname == "host_name_" && m.app == "warden")
        #expect(m.procID == "99" && m.msgID == "deny.net")
        #expect(m.params.count == 4)
        #expect(m.params["identity"] == hostile.replacingOccurrences(of: "\n", with: "\\u000a"))
        #expect(m.params["seq"] == "42" && m.params["run"] == "run-1" && m.params["hash"] == String(repeating: "a", count: 64))
        #expect(m.msg == msg)
        #expect(try JSONSerialization.jsonObject(with: Data(m.msg)) is [String: Any])
    }

    @Test func longKindsAndHugeMessagesStayWithinLimits() throws {
        let rec = record(kind: String(repeating: "k", count: 64))
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let out = SyslogMessage.format(rec, hash: String(repeating: "b", count: 64), identity: nil, msg: huge, hostname: "h", procID: 1)
        #expect(out.count <= SyslogMessage.maxBytes)
        let m = try #require(Syslog5424(out))
        #expect(m.msgID.count == 32 && m.pri == 13 * 8 + 6)
        let stub = try #require(try JSONSerialization.jsonObject(with: Data(m.msg)) as? [String: Any])
        #expect(stub["truncated"] as? Bool == true && stub["bytes"] as? Int == 1 << 20)
    }

    @Test func journalNativeFieldsAreBinarySafe() throws {
        let rec = record()
        let out = JournalMessage.format(rec, hash: "h", identity: "a\nWARDEN_SEQ=0", msg: Array("{\"x\":1}".utf8))
        let fields = try #require(JournalParse.fields(out))
        #expect(fields["MESSAGE"] == "{\"x\":1}" && fields["SYSLOG_IDENTIFIER"] == "warden" && fields["PRIORITY"] == "4")
        #expect(fields["WARDEN_IDENTITY"] == "a\nWARDEN_SEQ=0" && fields["WARDEN_SEQ"] == "42")
        #expect(fields["WARDEN_RUN"] == "run-1" && fields["WARDEN_HASH"] == "h")
    }
}

/// Reads journald's native protocol as journald does.
enum JournalParse {
    static func fields(_ b: [UInt8]) -> [String: String]? {
        var out: [String: String] = [:]
        var i = 0
        while i < b.count {
            guard let nl = b[i...].firstIndex(of: 0x0A) else { return nil }
            if let eq = b[i..<nl].firstIndex(of: UInt8(ascii: "=")) {
                out[String(decoding: b[i..<eq], as: UTF8.self)] = String(decoding: b[(eq + 1)..<nl], as: UTF8.self)
                i = nl + 1
            } else {
                let name = String(decoding: b[i..<nl], as: UTF8.self)
                guard nl + 9 <= b.count else { return nil }
                var n: UInt64 = 0
                for k in 0..<8 { n |= UInt64(b[nl + 1 + k]) << (8 * UInt64(k)) }
                let start = nl + 9
                guard start + Int(n) < b.count, b[start + Int(n)] == 0x0A else { return nil }
                out[name] = String(decoding: b[start..<(start + Int(n))], as: UTF8.self)
                i = start + Int(n) + 1
            }
        }
        guard out["MESSAGE"] != nil else { return nil }
        return out
    }
}
