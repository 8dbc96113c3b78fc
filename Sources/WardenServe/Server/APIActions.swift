import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// The API's actions, each needing a token with its scope (`ServeTokens`):
/// - `POST /api/triggers/NAME/runs` (`launch:NAME`): starts manual trigger NAME, decided by
///   the policy as the user `token:TOKEN-NAME` (the trigger's `by` must name it), recorded
///   as `trigger.allow`/`trigger.refuse` before anything is queued.
/// - `POST` / `DELETE /api/kill-switch/IDENTITY` (`control`): sets or clears the identity's
///   kill switch (`KillSwitch`; the watcher stops its runs and records the change).
struct APIActions: Sendable {
    let policy: @Sendable () -> ServePolicy
    let store: ServeStore
    let recorder: DecisionRecorder
    let tokens: ServeTokens
    let killSwitch: KillSwitch?
    let decisionLock: DecisionLock
    let stoppedIdentities: @Sendable () -> Set<String>
    let wake: @Sendable () -> Void

    static let triggersPrefix = "/api/triggers/", killSwitchPrefix = "/api/kill-switch/"

    /// The answer, or nil when the path is not one of these actions.
    func handle(_ request: ServeRequest) -> ServeResponse? {
        let path = request.path
        if path.hasPrefix(Self.triggersPrefix), path.hasSuffix("/runs") {
            let name = String(path.dropFirst(Self.triggersPrefix.count).dropLast("/runs".count))
            guard request.method == "POST" else { return .text(405, "runs are started with POST") }
            return launch(name, request)
        }
        if path.hasPrefix(Self.killSwitchPrefix) {
            let identity = String(path.dropFirst(Self.killSwitchPrefix.count))
            guard request.method == "POST" || request.method == "DELETE" else { return .text(405, "POST sets the switch, DELETE clears it") }
            return killSwitch(identity, set: request.method == "POST", request)
        }
        return nil
    }

    /// The request's token when it has the scope; else the answer: 401 (no valid token:
    /// recorded, rate-limited) or 403 (the token lacks the scope).
    private func token(_ request: ServeRequest, allowed: (ServeTokens.Token) -> Bool,
                       what: String) -> (token: ServeTokens.Token?, refusal: ServeResponse?) {
        guard let token = tokens.authenticate(request.header("authorization")) else {
            recorder.recordRejected(fields: ["source": "api", "endpoint": .string(request.path), "status": 401,
                                             "reason": "no valid API token", "authenticated": false],
                                    now: ServeClock.milliseconds() / 1000)
            return (nil, ServeResponse(status: 401, body: Array("an API token is required (Authorization: Bearer ...)\n".utf8),
                                       headers: [("WWW-Authenticate", "Bearer")]))
        }
        guard allowed(token) else { return (nil, ServeResponse.text(403, "token \(token.name) may not \(what)")) }
        return (token, nil)
    }

    private func launch(_ name: String, _ request: ServeRequest) -> ServeResponse {
        guard !name.isEmpty, name.utf8.count <= 128, name.utf8.allSatisfy(ServeTokens.isNameByte) else {
            return .text(404, "no such trigger")
        }
        let checked = self.token(request, allowed: { $0.mayLaunch(name) }, what: "start trigger \(name)")
        guard let token = checked.token else { return checked.refusal ?? .text(403, "refused") }
        let policy = policy()
        guard let trigger = policy.triggers.first(where: { $0.name == name }), trigger.source == .manual else {
            return .text(404, "the policy has no manual trigger \(name)")
        }
        if case .clone = trigger.workspace, trigger.fleet == nil {
            return .text(422, "trigger \(name) clones an event's repository; it cannot be started through the API")
        }
        return decisionLock.run { () -> ServeResponse in
            let now = ServeClock.milliseconds()
            let decision = TriggerAuthorizer(triggers: [trigger])
                .decide(.manual(name, by: TriggerEvent.LocalUser(name: token.user)))
                .holding(stoppedIdentities())
            let decisionID = AuditRun.newRunID()
            var fields: [String: AuditValue] = ["source": "manual", "via": "api", "trigger": .string(name), "user": .string(token.user),
                                                "token": .string(token.name), "reason": .string(decision.reason),
                                                "policy_path": .string(policy.path)]
            if trigger.fleet != nil {
                let document: [String: AuditValue] = ["source": "manual", "via": "api", "trigger": .string(name),
                                                      "token": .string(token.name), "user": .string(token.user)]
                switch FleetFiring(store: store, recorder: recorder).fire(trigger, decision: decision, decisionID: decisionID, fields: fields,
                                                                          document: document, source: "manual", now: now) {
                case .queued(let fleet, let runs):
                    wake()
                    return .json(202, AuditValue.object(["decision": "allow", "decision_id": .string(decisionID), "fleet": .string(fleet.id),
                                                         "queued": .array(runs.map { .int($0.id) })]).jsonText)
                case .refused(let why):
                    // 409: the policy allowed it, the fleet could not start (list, a fleet going, budget).
                    return .json(decision.allowed ? 409 : 403,
                                 AuditValue.object(["decision": "refuse", "decision_id": .string(decisionID), "reason": .string(why)]).jsonText)
                case .failed(let why):
                    return .text(503, why)
                }
            }
            if decision.allowed { fields["identity"] = .string(trigger.identity) }
            do { try recorder.record(allowed: decision.allowed, id: decisionID, fields: fields) } catch {
                return .text(503, "the decision cannot be recorded in the audit trail; nothing was started")
            }
            guard decision.allowed else {
                return .json(403, AuditValue.object(["decision": "refuse", "decision_id": .string(decisionID),
                                                     "reason": .string(decision.reason)]).jsonText)
            }
            let event: AuditValue = .object(["source": "manual", "via": "api", "trigger": .string(name), "token": .string(token.name),
                                             "user": .string(token.user)])
            let run = NewRun(trigger: name, identity: trigger.identity, source: "manual", decision: decisionID,
                             eventDocument: EventDocument.bytes(event), enqueuedAt: now)
            let queued: [QueuedRun]
            do {
                guard let q = try store.enqueue([run], deliveries: []) else { return .text(503, "the run queue did not take it") }
                queued = q
            } catch {
                return .text(503, "the run queue cannot take it: \(error)")
            }
            wake()
            return .json(202, AuditValue.object(["decision": "allow", "decision_id": .string(decisionID),
                                                 "queued": .array(queued.map { .int($0.id) })]).jsonText)
        }
    }

    private func killSwitch(_ identity: String, set: Bool, _ request: ServeRequest) -> ServeResponse {
        let checked = token(request, allowed: { $0.scopes.contains(ServeTokens.Scope.control) }, what: "use the kill switch")
        guard checked.token != nil else { return checked.refusal ?? .text(403, "refused") }
        guard let killSwitch else { return .text(404, "this server has no kill switch") }
        guard KillSwitch.isIdentityName(identity) else { return .text(404, "not an identity name") }
        let path = killSwitch.directory + "/" + identity
        if set {
            if mkdir(killSwitch.directory, 0o700) != 0 && errno != EEXIST {
                return .text(503, "cannot create \(killSwitch.directory): \(String(cString: strerror(errno)))")
            }
            let fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return .text(503, "cannot set the switch: \(String(cString: strerror(errno)))") }
            close(fd)
        } else if unlink(path) != 0 && errno != ENOENT {
            return .text(503, "cannot clear the switch: \(String(cString: strerror(errno)))")
        }
        return .json(200, AuditValue.object(["identity": .string(identity), "state": .string(set ? "on" : "off")]).jsonText)
    }
}
