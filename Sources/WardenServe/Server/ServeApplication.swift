import Synchronization
import WardenAudit
import WardenRuntime

/// `warden serve`'s routes:
///
/// - `POST /hooks/github`, `/hooks/gitlab`, `/hooks/webhook/NAME`: deliveries (`WebhookIntake`).
/// - `GET /healthz`: liveness, no token needed.
/// - `GET /`, `/api/runs[?limit=N]`, `/api/runs/ID`, `/api/runs/ID/records`, `/api/fleets/ID`, `/api/events`
///   (server-sent events), `/metrics`: the runs, their audit records, live records and
///   counters; when the server has an API token, these need `Authorization: Bearer TOKEN`.
public final class ServeApplication: ServeHandler {
    private let current: Mutex<ServePolicy>
    let store: ServeStore
    let metrics = ServeMetrics()
    let recorder: DecisionRecorder
    let decisionLock = DecisionLock()
    /// The API's tokens (`--api-tokens`, and `--api-token-file`'s as `api`, scope read).
    private let tokens: ServeTokens
    private let killSwitch: KillSwitch?
    /// Without a token, the read routes answer only requests addressed to these host names
    /// (the `Host` header without its port): a page on another site cannot read them through
    /// DNS rebinding. Nil: any.
    private let localHosts: Set<String>?
    private let pausedCheck: @Sendable () -> Bool
    /// Identities the kill switch has stopped (their launches are refused).
    private let stoppedIdentities: @Sendable () -> Set<String>
    private let wakeWorkers: Mutex<(@Sendable () -> Void)?> = Mutex(nil)
    /// The live records of `/api/events` (nil: not offered).
    let feed: AuditFeed?
    /// Where deliveries' senders' teams are learnt.
    let teams: TeamResolver

    public init(policy: ServePolicy, store: ServeStore, recorder: DecisionRecorder, apiToken: [UInt8]?,
                feed: AuditFeed? = nil, localHosts: Set<String>? = nil, paused: @escaping @Sendable () -> Bool,
                stoppedIdentities: @escaping @Sendable () -> Set<String> = { [] },
                tokens: ServeTokens = ServeTokens(), killSwitch: KillSwitch? = nil, teams: TeamSources = TeamSources()) {
        self.stoppedIdentities = stoppedIdentities
        self.teams = TeamResolver(sources: teams)
        var tokens = tokens
        if let apiToken { tokens.addReadToken(apiToken) }
        self.tokens = tokens
        self.killSwitch = killSwitch
        current = Mutex(policy)
        self.localHosts = localHosts.map { Set($0.map { $0.lowercased() }) }
        self.feed = feed
        self.store = store
        self.recorder = recorder
        self.pausedCheck = paused
    }

    /// The policy in force.
    public var policy: ServePolicy { current.withLock { $0 } }

    /// Puts `policy` in force for every later decision (reload).
    public func replace(_ policy: ServePolicy) { current.withLock { $0 = policy } }

    /// What to call when a run was queued.
    public func onQueued(_ wake: @escaping @Sendable () -> Void) { wakeWorkers.withLock { $0 = wake } }

    /// The schedule ticker, sharing this application's policy, store, recorder and decision lock.
    public func makeScheduleTicker(report: @escaping @Sendable (String) -> Void) -> ScheduleTicker {
        ScheduleTicker(policy: { self.policy }, store: store, recorder: recorder, decisionLock: decisionLock,
                       wake: { self.wake() }, report: report, stoppedIdentities: stoppedIdentities)
    }

    private func wake() { wakeWorkers.withLock { $0 }?() }

    /// `Host` without its port, lowercased (`[::1]:8420` is `::1`).
    static func hostName(_ header: String) -> String {
        var h = Substring(header.lowercased())
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return String(h) }
            return String(h[h.index(after: h.startIndex)..<close])
        }
        if let colon = h.lastIndex(of: ":") { h = h[..<colon] }
        return String(h)
    }

    /// The names a local client uses for a server listening on `host`.
    public static func localHostNames(listening host: String) -> Set<String> {
        ["localhost", "127.0.0.1", "::1", host.lowercased()]
    }

    public func handle(_ request: ServeRequest) -> ServeResponse {
        if let endpoint = WebhookEndpoint.parse(path: request.path) {
            guard request.method == "POST" else { return .text(405, "deliveries are POSTed") }
            let decider = DeliveryDecider(policy: { self.policy }, store: store, recorder: recorder, metrics: metrics,
                                          wake: { self.wake() }, decisionLock: decisionLock, stoppedIdentities: stoppedIdentities,
                                          teams: teams)
            return decider.handle(request, endpoint: endpoint)
        }
        let actions = APIActions(policy: { self.policy }, store: store, recorder: recorder, tokens: tokens, killSwitch: killSwitch,
                                 decisionLock: decisionLock, stoppedIdentities: stoppedIdentities, wake: { self.wake() })
        if let answer = actions.handle(request) { return answer }
        guard request.method == "GET" else { return .text(405, "only GET here") }
        if request.path == "/healthz" { return .text(200, "ok") }
        guard authorized(request) else {
            if tokens.isEmpty { return .text(421, "this server answers only requests addressed to it by a local name (Host)") }
            return ServeResponse(status: 401, body: Array("an API token is required (Authorization: Bearer ...)\n".utf8),
                                 headers: [("WWW-Authenticate", "Bearer")])
        }
        do {
            switch request.path {
            case "/":
                var fleets: [(FleetRecord, AuditValue)] = []
                for fleet in try store.fleets(limit: 10) {
                    fleets.append((fleet, FleetAggregate.json(fleet, runs: try store.fleetRuns(fleet.id), trigger: nil)))
                }
                let page = StatusPage.html(try store.runs(limit: 100, before: nil), queue: try store.counts(), paused: pausedCheck(), stopped: stoppedIdentities(),
                                           live: feed != nil, fleets: fleets)
                return ServeResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8),
                                     headers: [("Content-Security-Policy", StatusPage.contentSecurityPolicy)])
            case "/api/events":
                guard let feed else { return .text(404, "this server offers no event stream") }
                return .events(feed)
            case "/metrics":
                let text = metrics.render(queue: try store.counts(), paused: pausedCheck(), stopped: stoppedIdentities())
                return ServeResponse(status: 200, contentType: "text/plain; version=0.0.4", body: Array(text.utf8))
            case "/api/runs":
                let limit = min(1000, max(1, request.queryValue("limit").flatMap(Int.init) ?? 100))
                let before = request.queryValue("before").flatMap(Int64.init)
                return .json(200, AuditValue.array(try store.runs(limit: limit, before: before).map(StatusPage.json)).jsonText)
            default:
                if request.path.hasPrefix("/api/runs/"), request.path.hasSuffix("/records"),
                   let id = Int64(request.path.dropFirst("/api/runs/".count).dropLast("/records".count)) {
                    guard let run = try store.run(id) else { return .text(404, "no run \(id)") }
                    guard let records = RunRecords.json(run, logPath: recorder.logPath) else {
                        return .text(503, "another request is reading the audit log's records; try again")
                    }
                    return .json(200, records)
                }
                if request.path.hasPrefix("/api/fleets/") {
                    let id = String(request.path.dropFirst("/api/fleets/".count))
                    guard FleetMembership.isValidID(id), let fleet = try store.fleet(id) else { return .text(404, "no fleet \(StatusPage.escape(id))") }
                    let trigger = policy.triggers.first { $0.name == fleet.trigger }
                    return .json(200, FleetAggregate.json(fleet, runs: try store.fleetRuns(id), trigger: trigger).jsonText)
                }
                if request.path.hasPrefix("/api/runs/"), let id = Int64(request.path.dropFirst("/api/runs/".count)) {
                    guard let run = try store.run(id) else { return .text(404, "no run \(id)") }
                    return .json(200, StatusPage.json(run).jsonText)
                }
                return .text(404, "not found")
            }
        } catch {
            return .text(503, "the run queue cannot be read: \(error)")
        }
    }

    /// With tokens: the request carries one with scope `read` (compared in constant time).
    /// Without: the request names one of the local host names.
    private func authorized(_ request: ServeRequest) -> Bool {
        guard !tokens.isEmpty else {
            guard let localHosts else { return true }
            return request.header("host").map { localHosts.contains(Self.hostName($0)) } ?? false
        }
        return tokens.authenticate(request.header("authorization"))?.scopes.contains(.read) ?? false
    }
}
