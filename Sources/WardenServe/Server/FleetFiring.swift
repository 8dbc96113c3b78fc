import WardenAudit
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// One firing of a fleet trigger (`fleet "LIST"`, `on schedule` or `on manual`), after the
/// authorizer allowed it: reads the list, checks what only a whole fleet can spend, records
/// the decision with the fleet's id, and queues one run per repository in one transaction.
///
/// Refused (recorded as `trigger.refuse`, nothing queued): a list that cannot be read or
/// parsed, a fleet of the same trigger still going (queued or running runs: a schedule
/// never stacks fleets), and a fleet larger than what is left of `budget runs N per PERIOD`
/// (each repository's run is a run).
struct FleetFiring {
    let store: ServeStore
    let recorder: DecisionRecorder

    /// What came of the firing.
    enum Outcome {
        /// Queued: the fleet and its runs.
        case queued(FleetRecord, [QueuedRun])
        /// Refused and recorded; the reason.
        case refused(String)
        /// Nothing recorded or queued (the audit trail or the queue failed); the reason.
        case failed(String)
    }

    /// `decision` is the authorizer's (kill switch applied); `fields` the decision record's
    /// fields; `document` the event every run receives, to which `fleet` and `repository`
    /// are added.
    func fire(_ trigger: CheckedTrigger, decision: TriggerDecision, decisionID: String, fields: [String: AuditValue],
              document: [String: AuditValue], source: String, now: Int64) -> Outcome {
        guard let list = trigger.fleet else { return .failed("internal: trigger \(trigger.name) has no fleet") }
        var fields = fields
        fields["fleet_list"] = .string(list)
        var refusal: String? = decision.allowed ? nil : decision.reason
        var repositories: [FleetRepository] = []
        if refusal == nil {
            do { repositories = try FleetListFile.read(list) } catch { refusal = error.description }
        }
        if refusal == nil {
            do {
                if let going = try store.fleetGoing(trigger: trigger.name) {
                    refusal = "fleet \(going) of trigger \(trigger.name) is still going; a fleet trigger fires again once its last fleet is over"
                } else if let limit = trigger.budget.runsCount {
                    let used = try store.usage(trigger: trigger.name, budget: trigger.budget, now: now).runsInPeriod
                    if used + repositories.count > limit {
                        refusal = "trigger \(trigger.name)'s fleet of \(repositories.count) runs would pass its budget runs \(limit) per \(trigger.budget.runsPeriod.rawValue) (\(used) used)"
                    }
                }
            } catch {
                return .failed("the run queue cannot be read: \(error)")
            }
        }
        let fleetID = AuditRun.newRunID()
        fields["reason"] = .string(refusal ?? decision.reason)
        if refusal == nil {
            fields["identity"] = .string(trigger.identity)
            fields["fleet"] = .string(fleetID)
            fields["repositories"] = .int(Int64(repositories.count))
        } else {
            fields["identity"] = nil
        }
        do { try recorder.record(allowed: refusal == nil, id: decisionID, fields: fields) } catch {
            return .failed("the decision cannot be recorded in the audit trail; nothing was started")
        }
        if let refusal { return .refused(refusal) }
        let record = FleetRecord(id: fleetID, trigger: trigger.name, identity: trigger.identity, listPath: list, decision: decisionID,
                                 repositories: repositories.count, createdAt: now)
        let runs = repositories.map { r -> NewRun in
            var event = document
            event["fleet"] = .string(fleetID)
            event["repository"] = .string(r.name)
            return NewRun(trigger: trigger.name, identity: trigger.identity, source: source, repository: r.name, decision: decisionID,
                          cloneURL: r.location, eventDocument: EventDocument.bytes(.object(event)), enqueuedAt: now, fleetID: fleetID)
        }
        do {
            return .queued(record, try store.enqueueFleet(record, runs: runs))
        } catch {
            return .failed("allowed but not queued: \(error)")
        }
    }
}
