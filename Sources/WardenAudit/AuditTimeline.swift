#if canImport(Glibc)
import Glibc
#endif

/// Reads a log for display: records grouped by run, in log order.
public struct AuditTimeline: Sendable {
    public struct Run: Sendable {
        public var runID: String
        public var records: [AuditRecord]
    }

    public var runs: [Run] = []
    /// Line numbers that are not valid records (torn or damaged); `verify` explains them.
    public var badLines: [Int] = []

    /// Loads `path`, keeping records of run `run` and kind `kind` when given. Checkpoint
    /// records are left out unless `kind` asks for them.
    public static func load(path: String, run: String? = nil, kind: String? = nil) throws(AuditError) -> AuditTimeline {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", message: FileIO.errnoText(errno)) }
        defer { close(fd) }
        var reader = LineReader(fd: fd, path: path)
        defer { reader.deallocate() }
        var t = AuditTimeline()
        var index: [String: Int] = [:]
        var lineNo = 0
        while try reader.next({ (line, _, newline) throws(AuditError) in
            lineNo += 1
            guard newline, let rec = try? AuditRecord.parse(line: Array(line)) else {
                t.badLines.append(lineNo)
                return
            }
            if let run, rec.run != run { return }
            if let kind { if rec.kind != kind { return } } else if rec.kind == AuditKind.checkpoint { return }
            if let i = index[rec.run] {
                t.runs[i].records.append(rec)
            } else {
                index[rec.run] = t.runs.count
                t.runs.append(Run(runID: rec.run, records: [rec]))
            }
        }) {}
        return t
    }

    /// Stable JSON: `{"bad_lines":[…],"runs":[{"records":[{"fields":…,"kind":…,"seq":…,"ts":…}],"run":…}]}`.
    public func json() -> String {
        let runs: [AuditValue] = runs.map { r in
            .object([
                "run": .string(r.runID),
                "records": .array(
                    r.records.map { rec in
                        .object(["seq": .int(rec.seq), "ts": .string(rec.ts), "kind": .string(rec.kind), "fields": .object(rec.fields)])
                    }),
            ])
        }
        let doc: AuditValue = .object(["runs": .array(runs), "bad_lines": .array(badLines.map { .int(Int64($0)) })])
        return String(decoding: CanonicalJSON.serialize(doc), as: UTF8.self)
    }

    /// A readable timeline.
    public func text() -> String {
        var out = ""
        for r in runs {
            let identity = r.records.first { $0.kind == AuditKind.runStart }?.fields["identity"]?.stringValue
            out += "run \(r.runID)" + (identity.map { "  identity \($0)" } ?? "") + "\n"
            for rec in r.records { out += TimelineText.line(rec) }
            out += "\n"
        }
        if !badLines.isEmpty {
            out += "lines that are not valid records: \(badLines.map(String.init).joined(separator: ", "))"
            out += " (run `warden audit verify` for details)\n"
        }
        if runs.isEmpty && badLines.isEmpty { out += "no matching records\n" }
        return out
    }
}

enum TimelineText {
    static let pad = String(repeating: " ", count: 31)

    static func line(_ rec: AuditRecord) -> String {
        let f = rec.fields
        let head = "  \(rec.ts)  "
        func s(_ k: String) -> String { f[k].map(render) ?? "?" }
        func list(_ k: String) -> String {
            let items = f[k]?.arrayValue?.compactMap(\.stringValue) ?? []
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
            let verb = rec.kind == AuditKind.denyNet ? "deny       net" : "connect    net"
            return head + "\(verb) \(s("protocol")) \(s("destination")):\(s("port"))"
                + (f["domain"].map { " (\(render($0)))" } ?? "") + " ×\(s("count")), pid \(s("pid"))"
                + (f["rule"].map { ", rule \(render($0))" } ?? "") + "\n"
        case AuditKind.runExit:
            var how = f["status"].map { "status \(render($0))" } ?? ""
            if let sig = f["signal"] { how = "signal \(render(sig))" + (f["signal_name"].map { " (\(render($0)))" } ?? "") }
            let ms = f["duration_ms"]?.intValue.map { " after \(Double($0) / 1000) s" } ?? ""
            let timeout = f["timed_out"]?.boolValue == true ? ", timed out" : ""
            let denials = (f["denials"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \(render($0.value))" }
            return head + "exit       \(how)\(ms)\(timeout); denials: \(denials.isEmpty ? "none" : denials.joined(separator: ", "))\n"
        case AuditKind.recovery:
            return head + "recovery   \(s("length")) torn bytes at offset \(s("offset")) (sha256 \(s("sha256")))\n"
        default:
            let kv = f.keys.sorted().map { "\($0)=\(render(f[$0] ?? .null))" }.joined(separator: " ")
            return head + "\(rec.kind.padding(10)) \(kv)\n"
        }
    }

    static func render(_ v: AuditValue) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .null: return "null"
        default: return String(decoding: CanonicalJSON.serialize(v), as: UTF8.self)
        }
    }

    static func shellQuote(_ s: String) -> String {
        let safe = s.utf8.allSatisfy { b in
            RecordSyntax.isRunByte(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: "=") || b == UInt8(ascii: ",")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "@")
        }
        if safe && !s.isEmpty { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }

    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
