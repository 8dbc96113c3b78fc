import ArgumentParser
import WardenAudit
import WardenKernel

/// `warden audit show --fleet ID`: the fleet's runs as the audit trail has them, one line
/// each: run id, repository, identity, exit, duration, denials (from `run.start` and
/// `run.exit`; a run without `run.exit` is shown as unfinished). Memory grows with the
/// fleet's runs, not with the log (at most `AuditFilter.maxTrackedRuns`).
struct FleetAuditSummary {
    struct Run {
        var id: String
        var repository = "?"
        var identity = "?"
        var started = ""
        var exit: String?
        var durationMilliseconds: Int64?
        var denials: Int64 = 0
    }

    private(set) var runs: [Run] = []
    private var index: [String: Int] = [:]

    mutating func add(_ rec: AuditRecord) {
        switch rec.kind {
        case AuditKind.runStart:
            guard index[rec.run] == nil, runs.count < AuditFilter.maxTrackedRuns else { return }
            index[rec.run] = runs.count
            runs.append(Run(id: rec.run, repository: rec.fields["repository"]?.stringValue ?? "?",
                            identity: rec.fields["identity"]?.stringValue ?? "?", started: rec.ts))
        case AuditKind.runExit:
            guard let i = index[rec.run] else { return }
            if let status = rec.fields["status"]?.intValue {
                runs[i].exit = String(status)
            } else if let signal = rec.fields["signal"]?.intValue {
                runs[i].exit = rec.fields["signal_name"]?.stringValue ?? "signal \(signal)"
            } else {
                runs[i].exit = "?"
            }
            runs[i].durationMilliseconds = rec.fields["duration_ms"]?.intValue
            runs[i].denials = rec.fields["denials"]?.objectValue?.values.reduce(0) { $0 + ($1.intValue ?? 0) } ?? 0
        default: return
        }
    }

    func json(fleet: String) -> String {
        let items: [AuditValue] = runs.map { r in
            .object(["run": .string(r.id), "repository": .string(r.repository), "identity": .string(r.identity), "started": .string(r.started),
                     "exit": r.exit.map { .string($0) } ?? .null, "duration_ms": r.durationMilliseconds.map { .int($0) } ?? .null,
                     "denials": .int(r.denials)])
        }
        return AuditValue.object(["fleet": .string(fleet), "runs": .array(items)]).jsonText + "\n"
    }

    func text(fleet: String) -> String {
        let header = ["RUN", "REPOSITORY", "IDENTITY", "EXIT", "TIME", "DENIALS"]
        let rows = runs.map { r in
            [r.id, r.repository, r.identity, r.exit ?? "unfinished", r.durationMilliseconds.map(FleetReport.seconds) ?? "-", String(r.denials)]
                .map { TerminalText.escape($0, doublingBackslashes: true) }
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let lines = ([header] + rows).map { row in
            row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        }
        let ok = runs.filter { $0.exit == "0" }.count
        let unfinished = runs.filter { $0.exit == nil }.count
        return lines.joined(separator: "\n") + "\nfleet \(fleet): \(runs.count) runs in the log, \(ok) exited 0"
            + (unfinished > 0 ? ", \(unfinished) unfinished" : "") + "\n"
    }
}

extension AuditShowCommand {
    func showFleet(_ fleet: String, path: String, filter initial: AuditFilter) throws {
        var filter = initial
        var summary = FleetAuditSummary()
        do {
            try AuditTimeline.forEach(path: path, filter: &filter) { entry in
                if case .record(let rec, _) = entry { summary.add(rec) }
            }
        } catch {
            throw auditFail("\(error)")
        }
        try AuditSelection.requireRunSeen(filter, path: path)
        if summary.runs.isEmpty {
            auditNotice("no run of fleet \(fleet) in \(path)")
            throw ExitCode(1)
        }
        print(format == .json ? summary.json(fleet: fleet) : summary.text(fleet: fleet), terminator: "")
    }
}
