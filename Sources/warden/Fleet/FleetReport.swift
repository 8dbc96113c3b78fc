import WardenAudit
import WardenKernel
import WardenRuntime

/// A fleet's result: per repository its status, exit code, duration, workspace changes,
/// denials and run id, as a table (text), one JSON document, or Markdown.
enum FleetReport {
    enum Format: String, CaseIterable, Sendable { case text, json, markdown }

    static func statusText(_ r: FleetRunRecord) -> String {
        switch r.phase {
        case .pending: return r.attempts > 0 ? "interrupted" : "not run"
        case .running: return "running"
        case .done:
            if let e = r.error, r.exitCode == nil || r.runID == nil { return "error: \(e)" }
            return r.exitCode == 0 ? "ok" : "failed (exit \(r.exitCode.map(String.init) ?? "?"))"
        }
    }

    /// The short status word of the JSON document and the table.
    static func status(_ r: FleetRunRecord) -> String {
        switch r.phase {
        case .pending: return r.attempts > 0 ? "interrupted" : "not-run"
        case .running: return "running"
        case .done: return r.succeeded ? "ok" : (r.runID == nil && r.error != nil ? "error" : "failed")
        }
    }

    static func seconds(_ ms: Int64) -> String { "\(ms / 1000).\(ms % 1000 / 100)s" }

    static func changesText(_ c: WorkspaceSnapshot.Changes?) -> String {
        guard let c else { return "-" }
        return "+\(c.added) ~\(c.modified) -\(c.removed)" + (c.complete ? "" : " (partial)")
    }

    static func render(_ state: FleetState, directory: String, format: Format) -> String {
        switch format {
        case .json: return json(state, directory: directory).jsonText + "\n"
        case .text: return table(state)
        case .markdown: return markdown(state)
        }
    }

    static func json(_ state: FleetState, directory: String) -> AuditValue {
        let runs: [AuditValue] = state.runs.map { r in
            var o = r.json.objectValue ?? [:]
            o["status"] = .string(status(r))
            o["phase"] = nil
            o["source"] = nil
            return .object(o)
        }
        let ok = state.runs.filter(\.succeeded).count
        let notRun = state.runs.filter { $0.phase != .done }.count
        return .object([
            "fleet_id": .string(state.id), "policy": .string(state.policy), "identity": state.identity.map { .string($0) } ?? .null,
            "command": .strings(state.command), "concurrency": .int(Int64(state.concurrency)), "directory": .string(directory),
            "summary": .object(["repositories": .int(Int64(state.runs.count)), "succeeded": .int(Int64(ok)),
                                "failed": .int(Int64(state.runs.count - ok - notRun)), "not_run": .int(Int64(notRun))]),
            "runs": .array(runs),
        ])
    }

    private static func rows(_ state: FleetState) -> [[String]] {
        state.runs.map { r in
            [status(r), r.repository, r.exitCode.map(String.init) ?? "-", r.durationMilliseconds.map(seconds) ?? "-",
             r.denials.map(String.init) ?? "-", changesText(r.changes), r.runID ?? (r.error ?? "-")]
        }
    }

    static let header = ["STATUS", "REPOSITORY", "EXIT", "TIME", "DENIALS", "CHANGES", "RUN"]

    static func table(_ state: FleetState) -> String {
        let all = [header] + rows(state).map { $0.map { TerminalText.escape($0) } }
        var widths = header.map { _ in 0 }
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
        out += summaryLine(state) + "\n"
        return out
    }

    static func summaryLine(_ state: FleetState) -> String {
        let ok = state.runs.filter(\.succeeded).count
        let notRun = state.runs.filter { $0.phase != .done }.count
        return "fleet \(state.id): \(ok) of \(state.runs.count) succeeded, \(state.runs.count - ok - notRun) failed"
            + (notRun > 0 ? ", \(notRun) not run (warden fleet --resume \(state.id))" : "")
    }

    static func markdown(_ state: FleetState) -> String {
        func cell(_ s: String) -> String {
            TerminalText.escape(s).flatMap { c -> [Character] in c == "|" ? ["\\", "|"] : c == "`" ? ["'"] : [c] }.reduce(into: "") { $0.append($1) }
        }
        var out = "### Fleet `\(state.id)`\n\n"
        out += "| Status | Repository | Exit | Time | Denials | Changes | Run |\n"
        out += "|" + String(repeating: " --- |", count: header.count) + "\n"
        for row in rows(state) { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out + "\n" + summaryLine(state) + "\n"
    }
}
