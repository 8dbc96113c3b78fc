import NIOCore
import WardenBrokerProtocol

/// Whether a brokered destination speaks TLS (`https`: the broker terminates the agent's TLS
/// with a run-CA leaf and opens verified TLS upstream) or plain HTTP on both sides.
public enum BrokerScheme: String, Sendable, Equatable {
    case http, https
}

/// What the broker knows about one request when it asks the policy: decided on the parsed,
/// validated request, never on raw bytes.
public struct BrokerRequestFacts: Sendable, Equatable {
    public var scheme: BrokerScheme
    public var method: String
    /// Lowercased, no trailing dot: the SNI name (https) or the Host header (http).
    public var host: String
    public var port: UInt16
    /// The origin path as sent (validated by `PathSafety`), without the query.
    public var path: String
    public var query: String?

    public init(scheme: BrokerScheme, method: String, host: String, port: UInt16, path: String, query: String?) {
        self.scheme = scheme
        self.method = method
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }
}

/// One header the broker sets on an allowed request (it replaces every header of that name
/// the agent sent).
public struct BrokerInjection: Sendable {
    public var headerName: String
    /// The final header value (e.g. `Bearer …`). Secret: never logged, never in an event.
    public var value: [UInt8]
    /// The secret's name, for events.
    public var secretName: String

    public init(headerName: String, value: [UInt8], secretName: String) {
        self.headerName = headerName
        self.value = value
        self.secretName = secretName
    }
}

/// The policy's answer for one request (or one push).
public enum BrokerVerdict: Sendable {
    /// Forward, setting these headers. `rule` names the deciding rule (file:line) for events.
    case allow(rule: String, injections: [BrokerInjection])
    /// Answer 403 `warden: refused by <rule or reason>`.
    case refuse(rule: String?, reason: String)
}

/// A placeholder the agent sees in its environment instead of a secret value. The broker
/// replaces it in header values on requests to hosts `hosts` accepts; anywhere else it
/// refuses the request and records an exfiltration attempt.
public struct BrokerPlaceholder: Sendable {
    public var token: String
    public var secretName: String
    public var value: [UInt8]
    public var hosts: @Sendable (String, UInt16) -> Bool

    public init(token: String, secretName: String, value: [UInt8], hosts: @escaping @Sendable (String, UInt16) -> Bool) {
        self.token = token
        self.secretName = secretName
        self.value = value
        self.hosts = hosts
    }
}

/// A `git push` as the broker saw it in a receive-pack request body, before any byte of the
/// request went upstream.
public struct PushFacts: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    /// The repository path without a trailing `.git` (e.g. `/acme/app`).
    public var repoPath: String
    public var updates: [RefUpdate]

    public init(host: String, port: UInt16, repoPath: String, updates: [RefUpdate]) {
        self.host = host
        self.port = port
        self.repoPath = repoPath
        self.updates = updates
    }
}

/// Everything the broker needs from the run: decisions come in as closures, so the broker
/// does not depend on the policy compiler.
public struct BrokerConfiguration: Sendable {
    public var decide: @Sendable (BrokerRequestFacts) -> BrokerVerdict
    /// Refuse if any update is refused.
    public var decidePush: @Sendable (PushFacts) -> BrokerVerdict
    public var placeholders: [BrokerPlaceholder]
    /// PEM file of the CAs trusted for upstream servers; nil = the host's default trust store.
    public var upstreamTrustFile: String?
    /// Called for every request and every refusal (from the broker's event loop: keep it short).
    public var events: @Sendable (BrokerEvent) -> Void
    /// Bounds; the defaults are the production values, tests shorten the timeouts.
    public var limits: BrokerLimits
    /// Every secret of the run: every brokered response (to any rule, injected or not) is
    /// scanned for all of them, so an upstream that stored a credential cannot hand it back
    /// later. Values injected on a connection are scanned too even when not listed here.
    public var scannedSecrets: [BrokerScannedSecret]

    public init(decide: @escaping @Sendable (BrokerRequestFacts) -> BrokerVerdict,
                decidePush: @escaping @Sendable (PushFacts) -> BrokerVerdict,
                placeholders: [BrokerPlaceholder] = [],
                upstreamTrustFile: String? = nil,
                events: @escaping @Sendable (BrokerEvent) -> Void = { _ in },
                limits: BrokerLimits = BrokerLimits(),
                scannedSecrets: [BrokerScannedSecret] = []) {
        self.scannedSecrets = scannedSecrets
        self.decide = decide
        self.decidePush = decidePush
        self.placeholders = placeholders
        self.upstreamTrustFile = upstreamTrustFile
        self.events = events
        self.limits = limits
    }
}

/// The broker's bounds, so a slow or hostile client cannot starve the others.
public struct BrokerLimits: Sendable {
    /// Concurrent agent connections per broker; more are closed at once.
    public var maxConnections = 256
    /// Largest request or response head.
    public var maxHeadBytes = 64 * 1024
    /// How long an accepted connection waits for the supervisor's `expect`.
    public var mappingWait: TimeAmount = .seconds(5)
    /// Idle time allowed between requests on a kept-alive connection (and before the first).
    public var idleTimeout: TimeAmount = .seconds(60)
    /// Time allowed to receive a whole request head once its first byte arrived.
    public var headTimeout: TimeAmount = .seconds(30)
    /// Time allowed to connect (and handshake) upstream.
    public var upstreamConnectTimeout: TimeAmount = .seconds(15)
    /// Time a request body in flight may go without a byte from the agent (then `408` and
    /// close), so a stalled upload does not hold a connection slot forever.
    public var bodyStallTimeout: TimeAmount = .seconds(60)
    /// Largest receive-pack command prefix inspected before the push is decided.
    public var maxPushCommandBytes = 1024 * 1024

    public init() {}
}

/// What the broker reports; the runtime writes these as audit records. Secret names only.
public enum BrokerEvent: Sendable {
    /// A forwarded request, after its response ended.
    case request(host: String, port: UInt16, method: String, path: String, status: Int,
                 bytesUp: Int, bytesDown: Int, secrets: [String], rule: String)
    /// A refused request or connection (`host` etc. nil when not known yet).
    case refused(host: String?, port: UInt16, method: String?, path: String?, reason: String,
                 rule: String?, secrets: [String])
    /// A placeholder found where it must not be: `where` is `header NAME to host HOST`, `url`, `body`.
    case exfiltration(secret: String, host: String?, where: String)
}

/// Where one agent connection really goes: registered by the supervisor right after it
/// connected the agent's socket to the broker.
public struct BrokeredDestination: Sendable, Equatable {
    public var ip: String
    public var port: UInt16
    public var scheme: BrokerScheme
    /// The names the agent resolved to `ip` in this run; SNI (https) or Host (http) must be one of them.
    public var names: [String]

    public init(ip: String, port: UInt16, scheme: BrokerScheme, names: [String]) {
        self.ip = ip
        self.port = port
        self.scheme = scheme
        self.names = names
    }
}
