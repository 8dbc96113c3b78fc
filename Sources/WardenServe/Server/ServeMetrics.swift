import Synchronization

/// Counters for `/metrics` (Prometheus text exposition format 0.0.4).
public final class ServeMetrics: Sendable {
    private let deliveries = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts a delivery at `endpoint` by what came of it.
    func delivery(_ endpoint: WebhookEndpoint, _ result: String) {
        let source = endpoint.source.rawValue
        deliveries.withLock { $0["source=\"\(source)\",result=\"\(result)\"", default: 0] += 1 }
    }

    /// The exposition: delivery counters, the queue by state, whether launching is paused,
    /// the identities the kill switch has stopped (their names are identity names: no escaping needed).
    func render(queue: [RunState: Int], paused: Bool, stopped: Set<String> = []) -> String {
        var out = "# HELP warden_serve_deliveries_total Webhook deliveries received, by source and result.\n"
        out += "# TYPE warden_serve_deliveries_total counter\n"
        for (labels, n) in deliveries.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            out += "warden_serve_deliveries_total{\(labels)} \(n)\n"
        }
        out += "# HELP warden_serve_runs Runs in the queue, by state.\n# TYPE warden_serve_runs gauge\n"
        for state in RunState.allCases {
            out += "warden_serve_runs{state=\"\(state.rawValue)\"} \(queue[state] ?? 0)\n"
        }
        out += "# HELP warden_serve_paused 1 while the kill switch holds new launches.\n# TYPE warden_serve_paused gauge\n"
        out += "warden_serve_paused \(paused ? 1 : 0)\n"
        out += "# HELP warden_serve_identity_stopped 1 for each identity the kill switch has stopped.\n# TYPE warden_serve_identity_stopped gauge\n"
        for identity in stopped.sorted() { out += "warden_serve_identity_stopped{identity=\"\(identity)\"} 1\n" }
        return out
    }
}
