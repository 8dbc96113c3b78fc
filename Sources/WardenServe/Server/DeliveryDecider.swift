import Synchronization
import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy

/// One webhook delivery from the wire to the queue: authenticate, parse and filter it
/// (`WebhookIntake`), drop a replay, look up the sender's teams the decision needs
/// (`TeamResolver`, outside the decision lock: a slow lookup holds no other delivery),
/// decide it with `TriggerAuthorizer` under the triggers' budgets, record the decision
/// durably, and queue each launch it allows.
struct DeliveryDecider: Sendable {
    let policy: @Sendable () -> ServePolicy
    let store: ServeStore
    let recorder: DecisionRecorder
    let metrics: ServeMetrics
    let wake: @Sendable () -> Void
    /// Decisions and enqueues are serialized, so two deliveries never both fit a budget that
    /// has room for one.
    let decisionLock: DecisionLock
    /// Identities the kill switch has stopped: their launches are refused.
    let stoppedIdentities: @Sendable () -> Set<String>
    /// Where the sender's teams are learnt.
    let teams: TeamResolver

    func handle(_ request: ServeRequest, endpoint: WebhookEndpoint) -> ServeResponse {
        let policy = policy()
        let now = ServeClock.milliseconds()
        guard !endpoint.candidates(in: policy.triggers).isEmpty else {
            metrics.delivery(endpoint, "no-trigger")
            return .text(404, "no trigger of this policy takes deliveries at \(endpoint.path)")
        }
        let received: (delivery: WebhookDelivery, eligible: [CheckedTrigger])
        do {
            received = try WebhookIntake(triggers: policy.triggers, secrets: policy.secrets)
                .receive(WebhookRequest(request), endpoint: endpoint, now: now / 1000)
        } catch {
            let authentication = error.status == 401 || error.status == 403
            metrics.delivery(endpoint, authentication ? "unauthenticated" : "malformed")
            var fields: [String: AuditValue] = [
                "source": .string(endpoint.source.rawValue), "endpoint": .string(endpoint.path),
                "status": .int(Int64(error.status)), "reason": .string(error.reason), "policy_path": .string(policy.path),
            ]
            if authentication { fields["authenticated"] = .bool(false) }
            recorder.recordRejected(fields: fields, now: now / 1000)
            return error.response
        }
        var delivery = received.delivery
        if delivery.isPing {
            metrics.delivery(endpoint, "ping")
            return .json(200, #"{"pong":true}"#)
        }
        // A replay is answered before any team lookup (it must not cost the forge's API a
        // request); the ledger is asked again under the lock.
        if (try? [delivery.deliveryID, delivery.replayKey].contains(where: { try store.hasDelivery($0, source: endpoint.source.rawValue) })) == true {
            return duplicate(delivery)
        }
        let resolution = teams.resolve(delivery.event, triggers: received.eligible)
        delivery.event.senderTeams = resolution.teams
        let decided = delivery
        let later = resolution.source == nil ? now : ServeClock.milliseconds()
        return decisionLock.run { decide(decided, eligible: received.eligible, policy: policy, now: later, teams: resolution) }
    }

    private func decide(_ delivery: WebhookDelivery, eligible: [CheckedTrigger], policy: ServePolicy, now: Int64,
                        teams: TeamResolution) -> ServeResponse {
        let endpoint = delivery.endpoint
        let source = endpoint.source.rawValue
        do {
            for key in [delivery.deliveryID, delivery.replayKey] where try store.hasDelivery(key, source: source) {
                return duplicate(delivery)
            }
        } catch {
            metrics.delivery(endpoint, "error")
            return .text(503, "the delivery ledger cannot be read; try again")
        }
        if endpoint.source == .github,
           let stale = PayloadAge.staleness(of: delivery.payload, now: now / 1000, retentionSeconds: store.deliveryRetention / 1000) {
            return refuseStale(delivery, reason: stale, policy: policy, now: now)
        }
        // `eligible`: only triggers whose own secret verified this delivery may take it.
        let usage = BudgetUsage(store: store, triggers: eligible, now: now)
        let decision = TriggerAuthorizer(triggers: eligible).decide(delivery.event, usage: usage.of)
            .failing(teams.failure, trigger: teams.failedTrigger).noting(teams).holding(stoppedIdentities())
        let decisionID = AuditRun.newRunID()
        var fields = DeliveryFields.of(delivery, policyPath: policy.path)
        fields.merge(teams.auditFields) { _, new in new }
        fields["reason"] = .string(decision.reason)
        fields["trigger"] = decision.trigger.map { .string($0) } ?? .null
        var runs: [NewRun] = []
        if decision.allowed {
            fields["launches"] = .array(decision.launches.map { .object(["trigger": .string($0.trigger), "identity": .string($0.identity)]) })
            fields["identity"] = .string(decision.launches[0].identity)
            for launch in decision.launches {
                guard let trigger = eligible.first(where: { $0.name == launch.trigger }) else { continue }
                runs.append(NewRun(trigger: launch.trigger, identity: launch.identity, source: source,
                                   repository: delivery.event.repository, deliveryID: delivery.deliveryID, decision: decisionID,
                                   commit: delivery.commit, cloneURL: delivery.cloneURL,
                                   eventDocument: EventDocument.bytes(EventDocument.make(delivery, trigger: trigger)), enqueuedAt: now))
            }
        }
        do {
            try recorder.record(allowed: decision.allowed, id: decisionID, fields: fields)
        } catch {
            // Not decided: the delivery is not marked seen, so the sender may try again.
            metrics.delivery(endpoint, "error")
            return .text(503, "the decision cannot be recorded in the audit trail; nothing was started")
        }
        // The delivery and its runs, in one transaction (a refused one: the delivery alone).
        // Known by its id (a sender's retry, re-signed) and by what its credential signs
        // (`replayKey`: GitHub signs no delivery id, so a replay under a new id is still the
        // same delivery).
        let queued: [QueuedRun]
        do {
            let keys = [delivery.deliveryID, delivery.replayKey].map { DeliveryKey(id: $0, source: source, receivedAt: now) }
            guard let q = try store.enqueue(runs, deliveries: keys) else {
                return duplicate(delivery)
            }
            queued = q
        } catch {
            metrics.delivery(endpoint, "error")
            return .text(503, "the run queue cannot take it: \(error)")
        }
        guard decision.allowed else {
            metrics.delivery(endpoint, "refused")
            return .json(200, AuditValue.object(["decision": "refuse", "decision_id": .string(decisionID),
                                                 "reason": .string(decision.reason)]).jsonText)
        }
        metrics.delivery(endpoint, "queued")
        wake()
        return .json(202, AuditValue.object(["decision": "allow", "decision_id": .string(decisionID),
                                             "queued": .array(queued.map { .int($0.id) })]).jsonText)
    }

    /// A GitHub delivery too old to be told apart from a replay the ledger forgot
    /// (`PayloadAge`): recorded and answered 422, nothing decided or queued.
    private func refuseStale(_ delivery: WebhookDelivery, reason: String, policy: ServePolicy, now: Int64) -> ServeResponse {
        metrics.delivery(delivery.endpoint, "stale")
        var fields = DeliveryFields.of(delivery, policyPath: policy.path)
        fields["status"] = .int(422)
        fields["reason"] = .string(reason)
        recorder.recordRejected(fields: fields, now: now / 1000)
        return .text(422, reason)
    }

    private func duplicate(_ delivery: WebhookDelivery) -> ServeResponse {
        metrics.delivery(delivery.endpoint, "duplicate")
        return .json(200, AuditValue.object(["duplicate": .bool(true), "delivery": .string(delivery.deliveryID)]).jsonText)
    }
}

extension TriggerDecision {
    /// Refused with `reason` when a team lookup failed (nil: as decided): which triggers the
    /// delivery starts cannot be known, so it starts none, even one a login admits.
    func failing(_ reason: String?, trigger: String?) -> TriggerDecision {
        guard let reason else { return self }
        var refused = self
        refused.launches = []
        refused.reason = reason
        refused.trigger = trigger ?? refused.trigger
        return refused
    }
}

extension TriggerDecision {
    /// A refusal says which teams were checked, and where, when the sender's teams were
    /// looked up and none admitted the sender (`; teams checked with github-api: 'acme/eng'
    /// (not a member)`).
    func noting(_ teams: TeamResolution) -> TriggerDecision {
        guard !allowed, teams.failure == nil, let source = teams.source, !teams.checks.isEmpty else { return self }
        var noted = self
        noted.reason += "; teams checked with \(source): " + teams.checks.map { "'\($0.team)' (\($0.result == "member" ? "a member" : "not a member"))" }
            .joined(separator: ", ")
        return noted
    }
}

/// The budget usage the authorizer asks for, read from the queue (`ServeStore.usage`).
struct BudgetUsage {
    let store: ServeStore
    let triggers: [CheckedTrigger]
    let now: Int64

    func of(_ name: String) -> TriggerUsage? {
        guard let t = triggers.first(where: { $0.name == name }) else { return nil }
        let b = t.budget
        guard b.runsCount != nil || b.concurrent != nil || b.wallTimeSeconds != nil else { return nil }
        do {
            return try store.usage(trigger: name, budget: b, now: now)
        } catch {
            // Unknown usage: treat every budget as spent rather than launch past it.
            return TriggerUsage(runsInPeriod: Int.max, running: Int.max, wallTimeSecondsInPeriod: Int.max)
        }
    }
}

/// The fields every decision record of a delivery carries.
enum DeliveryFields {
    static func of(_ d: WebhookDelivery, policyPath: String) -> [String: AuditValue] {
        func opt(_ s: String?) -> AuditValue { s.map { .string($0) } ?? .null }
        var fields: [String: AuditValue] = [
            "source": .string(d.endpoint.source.rawValue), "delivery": .string(d.deliveryID), "authenticated": .bool(true),
            "secret": .string(d.secretName), "policy_path": .string(policyPath), "commit": opt(d.commit),
        ]
        let e = d.event
        switch d.endpoint {
        case .hook(let name): fields["hook"] = .string(name)
        case .github, .gitlab:
            fields["event"] = opt(e.event)
            fields["action"] = opt(e.action)
            fields["repository"] = opt(e.repository)
            fields["branch"] = opt(e.branch)
            fields["sender"] = opt(e.sender)
        }
        return fields
    }
}
