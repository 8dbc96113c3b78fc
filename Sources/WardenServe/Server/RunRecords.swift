import WardenAudit

/// `GET /api/runs/ID/records`: a queued run's audit records, read from the server's log: the
/// decision that allowed it (its `decision` run id) and the records of the `warden run`
/// (its run id), in log order. At most `limit` records; `truncated` says when there were more.
enum RunRecords {
    static let limit = 2000

    static func json(_ run: QueuedRun, logPath: String) -> String {
        var ids: Set<String> = [run.decision]
        if let runID = run.runID { ids.insert(runID) }
        var records: [AuditValue] = []
        var truncated = false
        var problem: String?
        do {
            try AuditFollower(path: logPath).run(follow: false) { entry in
                guard case .record(let record, _, _) = entry, ids.contains(record.run) else { return }
                guard records.count < limit else { truncated = true; return }
                if case .success(let value) = AuditValue.parseJSON(record.lineBytes()) { records.append(value) }
            }
        } catch {
            problem = error.description
        }
        var out: [String: AuditValue] = ["run": .int(run.id), "records": .array(records), "truncated": .bool(truncated)]
        if let problem { out["error"] = .string(problem) }
        return AuditValue.object(out).jsonText
    }
}
