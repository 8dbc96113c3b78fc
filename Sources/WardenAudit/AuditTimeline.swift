import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// Reads a log for display, streaming: one pass, constant memory, records in log order.
public struct AuditTimeline: Sendable {
    public struct Run: Sendable {
        public var runID: String
        public var records: [AuditRecord]
    }

    /// What a pass over the log yields.
    public enum Entry: Sendable {
        /// A record that matched the filters, with its 1-based line number.
        case record(AuditRecord, line: Int)
        /// A line that is not a valid record (torn or damaged); `verify` explains it.
        case badLine(Int)
    }

    public var runs: [Run] = []
    /// Line numbers that are not valid records (torn or damaged); `verify` explains them.
    public var badLines: [Int] = []

    /// Calls `body` for every record of run `run` and kind `kind` (when given) and every bad
    /// line, in log order, holding one line at a time. Checkpoint records are left out unless
    /// `kind` asks for them. The log is opened like every audit input: a regular file, no
    /// symbolic link, never blocking.
    public static func forEach(
        path: String, run: String? = nil, kind: String? = nil, _ body: (Entry) -> Void
    ) throws(AuditError) {
        var filter = AuditFilter(run: run, kind: kind)
        try forEach(path: path, filter: &filter, body)
    }

    /// Calls `body` for every record `filter` selects and every bad line, in log order,
    /// holding one line at a time; `filter.runSeen` tells afterwards whether the run asked
    /// for appeared at all.
    public static func forEach(path: String, filter: inout AuditFilter, _ body: (Entry) -> Void) throws(AuditError) {
        let fd = try FileIO.openRegular(path, flags: O_RDONLY, what: "audit log")
        defer { close(fd) }
        var reader = LineReader(fd: fd, path: path)
        defer { reader.deallocate() }
        var lineNo = 0
        while try reader.next({ (line, _, newline) throws(AuditError) in
            lineNo += 1
            // Cheap header check first: only lines that may match are decoded.
            guard newline, let h = RecordHeader.scan(line) else {
                body(.badLine(lineNo))
                return
            }
            let r = RecordHeader.string(line, h.run)
            filter.noteRun(r)
            guard filter.mayMatch(kind: RecordHeader.string(line, h.kind), run: r) else { return }
            guard let rec = try? AuditRecord.parse(line: Array(line)) else {
                body(.badLine(lineNo))
                return
            }
            if filter.matches(rec) { body(.record(rec, line: lineNo)) }
        }) {}
    }

    /// Loads `path` into memory grouped by run (convenient for small logs and tests; `audit
    /// show` streams with `TimelinePrinter` instead).
    public static func load(path: String, run: String? = nil, kind: String? = nil) throws(AuditError) -> AuditTimeline {
        var t = AuditTimeline()
        var index: [String: Int] = [:]
        try forEach(path: path, run: run, kind: kind) { entry in
            switch entry {
            case .badLine(let n): t.badLines.append(n)
            case .record(let rec, _):
                if let i = index[rec.run] {
                    t.runs[i].records.append(rec)
                } else {
                    index[rec.run] = t.runs.count
                    t.runs.append(Run(runID: rec.run, records: [rec]))
                }
            }
        }
        return t
    }

    /// The same output `TimelinePrinter` streams, for a loaded timeline.
    public func text() -> String { render(.text) }

    /// The same output `TimelinePrinter` streams, for a loaded timeline.
    public func json() -> String { render(.json) }

    private func render(_ format: TimelinePrinter.Format) -> String {
        var out = ""
        var p = TimelinePrinter(format: format) { out += $0 }
        for r in runs { for rec in r.records { p.add(.record(rec, line: 0)) } }
        for l in badLines { p.add(.badLine(l)) }
        p.finish()
        return out
    }
}

/// Writes `warden audit show` output as entries arrive, in constant memory.
///
/// Text: consecutive records of one run under a `run ID` header (with the identity when the
/// stretch starts with `run.start`); runs that were written at the same time appear as several
/// stretches. Every value from the log is escaped (`TerminalText`). JSON:
/// `{"runs":[{"records":[{"fields","kind","seq","ts"}],"run"}],"bad_lines":[…],"bad_line_count":N}`
/// with one `runs` entry per stretch, in log order; `bad_lines` lists the first 1,000.
public struct TimelinePrinter {
    public enum Format: Sendable { case text, json }

    /// Bad line numbers listed at most (all are counted).
    public static let maxListedBadLines = 1000

    private let format: Format
    private let write: (String) -> Void
    private var currentRun: String?
    private var runsWritten = 0
    private var recordsInRun = 0
    private var badLines: [Int] = []
    private var badLineCount = 0

    public init(format: Format, write: @escaping (String) -> Void) {
        self.format = format
        self.write = write
        if format == .json { write(#"{"runs":["#) }
    }

    public mutating func add(_ entry: AuditTimeline.Entry) {
        switch entry {
        case .badLine(let n):
            badLineCount += 1
            if badLines.count < Self.maxListedBadLines { badLines.append(n) }
        case .record(let rec, _):
            if rec.run != currentRun { startRun(rec) }
            switch format {
            case .text: write(TimelineText.line(rec))
            case .json:
                let obj: AuditValue = .object([
                    "seq": .int(rec.seq), "ts": .string(rec.ts), "kind": .string(rec.kind), "fields": .object(rec.fields),
                ])
                write((recordsInRun > 0 ? "," : "") + String(decoding: CanonicalJSON.serialize(obj), as: UTF8.self))
            }
            recordsInRun += 1
        }
    }

    private mutating func startRun(_ rec: AuditRecord) {
        switch format {
        case .text:
            if currentRun != nil { write("\n") }
            let identity =
                rec.kind == AuditKind.runStart ? rec.fields["identity"]?.stringValue.map { "  identity \(TerminalText.escape($0, doublingBackslashes: true))" } : nil
            write("run \(rec.run)\(identity ?? "")\n")
        case .json:
            if currentRun != nil { write("]}") }
            let id = String(decoding: CanonicalJSON.serialize(.string(rec.run)), as: UTF8.self)
            write((runsWritten > 0 ? "," : "") + #"{"run":\#(id),"records":["#)
        }
        currentRun = rec.run
        runsWritten += 1
        recordsInRun = 0
    }

    public mutating func finish() {
        switch format {
        case .text:
            if currentRun != nil { write("\n") }
            if badLineCount > 0 {
                var list = badLines.map(String.init).joined(separator: ", ")
                if badLineCount > badLines.count { list += " and \(badLineCount - badLines.count) more" }
                write("lines that are not valid records: \(list) (run `warden audit verify` for details)\n")
            }
            if runsWritten == 0 && badLineCount == 0 { write("no matching records\n") }
        case .json:
            if currentRun != nil { write("]}") }
            let list = badLines.map(String.init).joined(separator: ",")
            write(#"],"bad_lines":[\#(list)],"bad_line_count":\#(badLineCount)}"# + "\n")
        }
    }
}

enum TimelineText {
    static let pad = String(repeating: " ", count: 31)

    static func line(_ rec: AuditRecord) -> String {
        let f = rec.fields
        let head = "  \(rec.ts)  "
        func s(_ k: String) -> String { f[k].map(render) ?? "?" }
        func list(_ k: String) -> String {
            let items = f[k]?.arrayValue?.compactMap(\.stringValue).map { TerminalText.escape($0, doublingBackslashes: true) } ?? []
            return items.isEmpty ? "none" : items.joined(separator: ", ")
        }
        switch rec.kind {
        case AuditKind.runStart:
            let argv = (f["argv"]?.arrayValue ?? []).compactMap(\.stringValue).map(shellQuote).joined(separator: " ")
            return head + "start      user \(s("user")) (uid \(s("uid"))) on \(s("host")), warden \(s("warden_version"))\n"
                + pad + "argv       \(argv)\n" + pad + "workspace  \(s("workspace"))\n"
                + pad + "policy     sha256 \(s("policy_sha256"))\n" + pad + "plan       sha256 \(s("plan_sha256"))\n"
                + pad + "layers     enforced \(list("layers_enforced")); skipped \(list("layers_skipped")); unobserved \(list("layers_unobserved"))\n"
        case AuditKind.denySyscall:
            return head + "deny       syscall \(s("name")) (\(s("nr"))) ×\(s("count")), pid \(s("pid"))"
                + (f["errno"].map { ", errno \(render($0))" } ?? "") + ", first \(s("first")), last \(s("last"))\n"
                + pad + "args       \(list("args"))\n"
        case AuditKind.denyNet, AuditKind.netConnect:
            // Records with an `operation` name it, so an allowed bind does not read "connect".
            let verb = rec.kind == AuditKind.denyNet ? "deny       net" : f["operation"] == nil ? "connect    net" : "allow      net"
            let operation = f["operation"].map { "\(render($0)) " } ?? ""
            let decidedBy = f["decided_by"].map { " (\(render($0)))" } ?? ""
            let explain = (f["explain"]?.arrayValue ?? []).compactMap(\.stringValue).map(shellQuote)
            return head + "\(verb) \(operation)\(s("protocol")) \(s("destination")):\(s("port"))"
                + (f["domain"].map { " (\(render($0)))" } ?? "") + " ×\(s("count")), pid \(s("pid"))"
                + (f["rule"].map { ", rule \(render($0))\(decidedBy)" } ?? "") + "\n"
                + (explain.isEmpty ? "" : pad + "explain    warden explain <policy> \(explain.joined(separator: " "))\n")
        case AuditKind.runExit:
            var how = f["status"].map { "status \(render($0))" } ?? ""
            if let sig = f["signal"] { how = "signal \(render(sig))" + (f["signal_name"].map { " (\(render($0)))" } ?? "") }
            let ms = f["duration_ms"]?.intValue.map { " after \(Double($0) / 1000) s" } ?? ""
            let timeout = f["timed_out"]?.boolValue == true ? ", timed out" : ""
            let denials = (f["denials"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                "\(TerminalText.escape($0.key, doublingBackslashes: true)) \(render($0.value))"
            }
            return head + "exit       \(how)\(ms)\(timeout); denials: \(denials.isEmpty ? "none" : denials.joined(separator: ", "))\n"
        case AuditKind.denyFs:
            return head + "deny       fs \(s("operation")) \(s("path")) ×\(s("count")), pid \(s("pid"))"
                + (f["errno"].map { ", errno \(render($0))" } ?? "") + (f["rule"].map { ", rule \(render($0))" } ?? "")
                + ", via \(s("source"))\n"
        case AuditKind.runDigest:
            var text = head + "digest     denials of the failed run, most frequent first\n"
            for (i, item) in (f["denials"]?.arrayValue ?? []).enumerated() {
                let o = item.objectValue ?? [:]
                func t(_ k: String) -> String { o[k].map(render) ?? "?" }
                text += pad + "\(i + 1). \(t("action")) ×\(t("count")): \(t("decided_by"))\n"
                if let e = o["explain"] { text += pad + "   explain: \(render(e))\n" }
                if let sg = o["suggestion"] { text += pad + "   \(render(sg))\n" }
            }
            if let more = f["more_distinct"]?.intValue, more > 0 { text += pad + "… \(more) more distinct denials\n" }
            for (layer, v) in (f["unobserved"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let partly = v.objectValue?["partly"]?.boolValue == true ? "partly observed" : "not observed"
                text += pad + "\(TerminalText.escape(layer, doublingBackslashes: true)) \(partly); check: \(v.objectValue?["explain"].map(render) ?? "?")\n"
            }
            return text
        case AuditKind.httpRequest:
            let secrets = f["secrets"]?.arrayValue?.isEmpty == false ? ", secrets \(list("secrets"))" : ""
            return head + "http       \(s("method")) \(s("host")):\(s("port"))\(s("path")) → \(s("status")), "
                + "\(s("bytes_up")) B up, \(s("bytes_down")) B down\(secrets)\n"
                + pad + "rule       \(s("rule"))\n"
        case AuditKind.httpRefused:
            let what = f["method"].map { "\(render($0)) \(s("host")):\(s("port"))\(f["path"].map(render) ?? "")" }
                ?? "\(s("host")):\(s("port"))"
            return head + "deny       http \(what)\n" + pad + "reason     \(s("reason"))\n"
                + (f["rule"].map { pad + "rule       \(render($0))\n" } ?? "")
        case AuditKind.httpExfiltration:
            let location = s("where")
            return head + "exfil      placeholder of secret \(s("secret")) sent in \(location)"
                + (location.contains("host ") ? "" : f["host"].map { " to \(render($0))" } ?? "") + "; refused\n"
        case AuditKind.identityToken:
            if f["issued"]?.boolValue == false { return head + "identity   no token issued: \(s("reason"))\n" }
            return head + "identity   token for \(s("sub")) (kid \(s("kid")), jti \(s("jti"))), expires \(s("exp"))\n"
        case AuditKind.recovery:
            return head + "recovery   \(s("length")) torn bytes at offset \(s("offset")) (sha256 \(s("sha256")))\n"
        case AuditKind.interrupted:
            return head + "interrupted run \(s("run")) (run.start at seq \(s("start_seq"))) ended without run.exit\n"
        case AuditKind.clock:
            return head + "clock      stepped back \(s("stepped_back_us")) µs from \(s("previous_ts"))\n"
        default:
            let kv = f.keys.sorted().map { "\(TerminalText.escape($0, doublingBackslashes: true))=\(render(f[$0] ?? .null))" }.joined(separator: " ")
            return head + "\(rec.kind.padding(10)) \(kv)\n"
        }
    }

    /// A field value as text, with control characters escaped (`TerminalText`).
    static func render(_ v: AuditValue) -> String {
        switch v {
        case .string(let s): return TerminalText.escape(s, doublingBackslashes: true)
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .null: return "null"
        default: return TerminalText.escape(String(decoding: CanonicalJSON.serialize(v), as: UTF8.self), doublingBackslashes: true)
        }
    }

    /// An argument as a shell would need it: bare when safe, `'…'` otherwise, and bash's
    /// `$'…'` with escapes when it holds control characters (never raw).
    static func shellQuote(_ s: String) -> String {
        let safe = s.utf8.allSatisfy { b in
            RecordSyntax.isRunByte(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: "=") || b == UInt8(ascii: ",")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "@")
        }
        if safe && !s.isEmpty { return s }
        if TerminalText.hasControlCharacters(s) {
            return "$'" + TerminalText.escape(s, doublingBackslashes: true).replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }

    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
