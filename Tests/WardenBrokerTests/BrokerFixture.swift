import Foundation
import NIOCore
import NIOPosix
import Synchronization
import WardenBroker
import WardenBrokerProtocol

/// Everything a broker test needs: a fake upstream with certificates from a test CA, a
/// broker trusting that CA, a policy as closures, and an event recorder.
final class BrokerFixture {
    static let secret = "s3cr3t-value-Zq9"
    static let placeholderSecret = "ph-secret-value-Kx7"
    static let placeholder = "wdn_ph_0123456789abcdef0123456789abcdef"

    let pki: TestPKI
    let upstream: UpstreamServer
    let broker: Broker
    let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let events = EventLog()
    let names: [String]

    final class EventLog: Sendable {
        let state = Mutex<[BrokerEvent]>([])
        func add(_ e: BrokerEvent) { state.withLock { $0.append(e) } }
        var all: [BrokerEvent] { state.withLock { $0 } }
        var exfiltrations: [(secret: String, host: String?, where: String)] {
            all.compactMap { if case .exfiltration(let s, let h, let w) = $0 { return (s, h, w) } else { return nil } }
        }
        var refusals: [(reason: String, rule: String?)] {
            all.compactMap { if case .refused(_, _, _, _, let reason, let rule, _) = $0 { return (reason, rule) } else { return nil } }
        }
        var requests: [(path: String, status: Int, up: Int, down: Int, secrets: [String], rule: String)] {
            all.compactMap {
                if case .request(_, _, _, let path, let status, let up, let down, let secrets, let rule) = $0 {
                    return (path, status, up, down, secrets, rule)
                }
                return nil
            }
        }
        /// Waits briefly for events emitted after the client saw its bytes.
        func waitFor(_ condition: (EventLog) -> Bool) -> Bool {
            for _ in 0..<500 where !condition(self) { usleep(2000) }
            return condition(self)
        }
    }

    init(limits: BrokerLimits = BrokerLimits(), upstreamTrusted: Bool = true,
         names: [String] = ["api.test", "other.test"]) throws {
        self.names = names
        pki = try TestPKI()
        let serverPKI = upstreamTrusted ? pki : try TestPKI(name: "Someone else's CA")
        upstream = try UpstreamServer(tls: try serverPKI.server(names: names))
        let events = self.events
        let configuration = BrokerConfiguration(
            decide: BrokerFixture.decide,
            decidePush: BrokerFixture.decidePush,
            placeholders: [BrokerPlaceholder(token: Self.placeholder, secretName: "ph-token",
                                             value: Array(Self.placeholderSecret.utf8),
                                             hosts: { host, port in host == "api.test" })],
            upstreamTrustFile: pki.caFile,
            events: { events.add($0) },
            limits: limits)
        broker = try Broker(configuration: configuration)
        try broker.start()
    }

    /// The test policy: DELETE and `/forbidden` denied; `/inject*` gets a bearer token.
    static let decide: @Sendable (BrokerRequestFacts) -> BrokerVerdict = { f in
        if f.method == "DELETE" || f.path.hasPrefix("/forbidden") {
            return .refuse(rule: "test.warden:7", reason: "deny https \(f.method) \"\(f.host)/forbidden/**\"")
        }
        if f.path.hasPrefix("/inject") {
            return .allow(rule: "test.warden:3", injections: [
                BrokerInjection(headerName: "Authorization", value: Array("Bearer \(secret)".utf8), secretName: "gh-token"),
            ])
        }
        return .allow(rule: "test.warden:9", injections: [])
    }

    static let decidePush: @Sendable (PushFacts) -> BrokerVerdict = { p in
        guard p.repoPath == "/acme/app" else { return .refuse(rule: nil, reason: "no git push rule for \(p.repoPath)") }
        for u in p.updates where !u.ref.hasPrefix("refs/heads/agent/") {
            return .refuse(rule: "test.warden:12", reason: "git push to \(u.ref) is not allowed")
        }
        return .allow(rule: "test.warden:11", injections: [])
    }

    var destination: BrokeredDestination {
        BrokeredDestination(ip: "127.0.0.1", port: upstream.port, scheme: .https, names: names)
    }

    func client(sni: String? = "api.test", announce: Bool = true) throws -> AgentClient {
        try AgentClient(broker: broker, group: clients, destination: destination, sni: sni, announce: announce)
    }

    /// A request with the right Host (with the upstream's port: the "connected" port).
    func request(_ method: String = "GET", _ path: String, host: String = "api.test",
                 headers: [String] = [], body: [UInt8]? = nil) -> [UInt8] {
        var h = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(upstream.port)\r\n"
        for line in headers { h += line + "\r\n" }
        if let body { h += "Content-Length: \(body.count)\r\n" }
        return Array((h + "\r\n").utf8) + (body ?? [])
    }

    deinit {
        broker.shutdown()
        upstream.stop()
        try? clients.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: pki.caFile)
    }
}
