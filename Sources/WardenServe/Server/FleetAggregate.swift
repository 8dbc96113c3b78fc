import WardenAudit
import WardenPolicy
import WardenRuntime

/// A fleet run's workspace changes as stored (`runs.changes`): the JSON object `warden
/// fleet --format json` gives a run's `changes`, its path list cut so the text stays under
/// `StoreBounds.maxChangesBytes`.
public enum FleetChanges {
    public static func json(_ c: WorkspaceSnapshot.Changes) -> String {
        var paths = c.paths
        while true {
            let text = AuditValue.object([
                "added": .int(Int64(c.added)), "modified": .int(Int64(c.modified)), "removed": .int(Int64(c.removed)),
                "complete": .bool(c.complete), "paths": .strings(paths),
            ]).jsonText
            if text.utf8.count <= StoreBounds.maxChangesBytes || paths.isEmpty { return text }
            paths.removeLast(max(1, paths.count / 2))
        }
    }
}

/// `GET /api/fleets/ID`: a fleet's aggregate, one entry per repository in list order, shaped
/// like `warden fleet --format json`'s `runs` entries (repository, status, attempts, run_id,
/// exit_code, duration_ms, denials, workspace, error, changes), plus the repository's
/// queue state and every attempt (`history`).
///
/// A repository's result is its last attempt's. Status: `ok` (finished, exit 0), `failed`
/// (finished, another exit), `error` (no exit status: the workspace or launch failed),
/// `running`, `not-run` (queued), `interrupted` (the server died under its last attempt and
/// no attempt is left), `cancelled` (the kill switch).
public enum FleetAggregate {
    public static func json(_ fleet: FleetRecord, runs: [QueuedRun], trigger: CheckedTrigger?) -> AuditValue {
        var order: [String] = []
        var byRepository: [String: [QueuedRun]] = [:]
        for run in runs {
            let repository = run.repository ?? "?"
            if byRepository[repository] == nil { order.append(repository) }
            byRepository[repository, default: []].append(run)
        }
        var entries: [AuditValue] = []
        var counts: [String: Int] = [:]
        for repository in order {
            let attempts = byRepository[repository] ?? []
            guard let last = attempts.last else { continue }
            let status = status(last)
            counts[status, default: 0] += 1
            var duration: AuditValue = .null
            if let start = last.startedAt, let end = last.finishedAt { duration = .int(max(0, end - start)) }
            var changes: AuditValue = .null
            if let text = last.changes, case .success(let value) = AuditValue.parseJSON(Array(text.utf8)) { changes = value }
            entries.append(.object([
                "repository": .string(repository), "status": .string(status),
                "attempts": .int(Int64(attempts.filter { $0.startedAt != nil }.count)),
                "run_id": last.runID.map { .string($0) } ?? .null, "exit_code": last.exitCode.map { .int(Int64($0)) } ?? .null,
                "duration_ms": duration, "denials": last.denials.map { .int($0) } ?? .null,
                "workspace": last.workspace.map { .string($0) } ?? .null, "error": last.error.map { .string($0) } ?? .null,
                "changes": changes, "state": .string(last.state.rawValue), "queue_id": .int(last.id),
                "history": .array(attempts.map { a in
                    .object(["queue_id": .int(a.id), "attempt": .int(Int64(a.attempt)), "state": .string(a.state.rawValue),
                             "run_id": a.runID.map { .string($0) } ?? .null, "exit_code": a.exitCode.map { .int(Int64($0)) } ?? .null,
                             "error": a.error.map { .string($0) } ?? .null])
                }),
            ]))
        }
        let succeeded = counts["ok"] ?? 0
        let failed = (counts["failed"] ?? 0) + (counts["error"] ?? 0)
        let going = (counts["running"] ?? 0) + (counts["not-run"] ?? 0)
        return .object([
            "fleet_id": .string(fleet.id), "trigger": .string(fleet.trigger), "identity": .string(fleet.identity),
            "list": .string(fleet.listPath), "decision_id": .string(fleet.decision), "created_ms": .int(fleet.createdAt),
            "command": trigger.map { .strings($0.run) } ?? .null,
            "concurrency": trigger?.budget.concurrent.map { .int(Int64($0)) } ?? .null,
            "done": .bool(going == 0),
            "summary": .object([
                "repositories": .int(Int64(order.count)), "succeeded": .int(Int64(succeeded)), "failed": .int(Int64(failed)),
                "not_run": .int(Int64(order.count - succeeded - failed)), "running": .int(Int64(counts["running"] ?? 0)),
                "interrupted": .int(Int64(counts["interrupted"] ?? 0)), "cancelled": .int(Int64(counts["cancelled"] ?? 0)),
                "attempts": .int(Int64(runs.filter { $0.startedAt != nil }.count)),
            ]),
            "runs": .array(entries),
        ])
    }

    static func status(_ run: QueuedRun) -> String {
        switch run.state {
        case .queued: return "not-run"
        case .running: return "running"
        case .finished: return run.exitCode == 0 && run.error == nil ? "ok" : "failed"
        case .failed: return "error"
        case .interrupted: return "interrupted"
        case .cancelled: return "cancelled"
        }
    }
}
