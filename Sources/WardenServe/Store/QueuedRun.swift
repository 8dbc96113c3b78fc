/// Where a queued run is in its life. `queued` -> `running` -> `finished` | `failed` |
/// `cancelled`; `running` -> `interrupted` when the server died under it; `queued` ->
/// `cancelled` by the kill switch.
public enum RunState: String, Sendable, Hashable, CaseIterable {
    case queued, running, finished, failed, interrupted, cancelled

    /// Whether the run is over (no transition leaves these states).
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: return false
        case .finished, .failed, .interrupted, .cancelled: return true
        }
    }
}

/// A launch the server decided to allow, as it enters the queue.
public struct NewRun: Sendable, Equatable {
    public var trigger: String
    public var identity: String
    /// `github`, `gitlab`, `webhook`, `schedule` or `manual` (`TriggerSourceKind`'s raw values).
    public var source: String
    /// `owner/name`, for per-repository limits (nil for sources without one).
    public var repository: String?
    public var deliveryID: String?
    /// The audit run id of the `trigger.allow` record that admitted the launch.
    public var decision: String
    public var commit: String?
    public var cloneURL: String?
    /// The JSON bytes the agent receives, stored exactly.
    public var eventDocument: [UInt8]
    /// Unix time in milliseconds.
    public var enqueuedAt: Int64
    /// The fleet this run belongs to (a fleet trigger's firing): `repository` is then the
    /// list's entry as reports name it and `cloneURL` where to clone it from.
    public var fleetID: String?

    public init(trigger: String, identity: String, source: String, repository: String? = nil, deliveryID: String? = nil,
                decision: String, commit: String? = nil, cloneURL: String? = nil, eventDocument: [UInt8], enqueuedAt: Int64,
                fleetID: String? = nil) {
        self.fleetID = fleetID
        self.trigger = trigger
        self.identity = identity
        self.source = source
        self.repository = repository
        self.deliveryID = deliveryID
        self.decision = decision
        self.commit = commit
        self.cloneURL = cloneURL
        self.eventDocument = eventDocument
        self.enqueuedAt = enqueuedAt
    }
}

/// A run in the store: what was queued and what became of it. Times are unix milliseconds.
public struct QueuedRun: Sendable, Equatable {
    /// The store's id: increasing in enqueue order (the queue is FIFO by id).
    public var id: Int64
    public var trigger: String
    public var identity: String
    public var source: String
    public var repository: String?
    public var deliveryID: String?
    public var decision: String
    public var commit: String?
    public var cloneURL: String?
    /// The event's JSON bytes (empty in listings that leave documents out).
    public var eventDocument: [UInt8]
    public var state: RunState
    public var enqueuedAt: Int64
    public var startedAt: Int64?
    /// When the run ended; for `interrupted`, when the restarted server found it (an upper bound).
    public var finishedAt: Int64?
    /// `warden run`'s run id once the worker knows it.
    public var runID: String?
    public var exitCode: Int32?
    public var error: String?
    public var workspace: String?
    /// The fleet the run belongs to, if any.
    public var fleetID: String? = nil
    /// 1 for a fleet repository's first run; 2 for the run queued again after the server
    /// died under the first (see `ServeStore.recoverInterrupted`).
    public var attempt = 1
    /// Denials the run recorded (fleet runs, from `warden run`'s report).
    public var denials: Int64? = nil
    /// The run's workspace changes as JSON (fleet runs; `FleetAggregate` reads them).
    public var changes: String? = nil
}

/// A fleet as queued: one firing of a fleet trigger.
public struct FleetRecord: Sendable, Equatable {
    /// 16 lowercase hex digits, like a run id; what `warden run --fleet` records.
    public var id: String
    public var trigger: String
    public var identity: String
    /// The repository list the firing read.
    public var listPath: String
    /// The audit run id of the `trigger.allow` record that admitted it.
    public var decision: String
    public var repositories: Int
    /// Unix time in milliseconds.
    public var createdAt: Int64

    public init(id: String, trigger: String, identity: String, listPath: String, decision: String, repositories: Int, createdAt: Int64) {
        self.id = id
        self.trigger = trigger
        self.identity = identity
        self.listPath = listPath
        self.decision = decision
        self.repositories = repositories
        self.createdAt = createdAt
    }
}

/// How many runs may be `running` at once. A nil limit is no limit; a limit of 0 or less
/// lets nothing of that kind start.
public struct ConcurrencyLimits: Sendable, Hashable {
    /// Runs on this host at once.
    public var host: Int
    /// Runs of any one identity at once.
    public var perIdentity: Int?
    /// Runs on any one repository at once (runs without a repository are not counted).
    public var perRepository: Int?

    public init(host: Int, perIdentity: Int? = nil, perRepository: Int? = nil) {
        self.host = host
        self.perIdentity = perIdentity
        self.perRepository = perRepository
    }
}

/// A webhook delivery as de-duplicated: the id the sender gave (GitHub's `X-GitHub-Delivery`,
/// GitLab's idempotency key, the generic hook's id) and the source it came from. The key is
/// the pair, so one source's ids can never shadow another's.
public struct DeliveryKey: Sendable, Hashable {
    public var id: String
    public var source: String
    /// Unix time in milliseconds when it was received.
    public var receivedAt: Int64

    public init(id: String, source: String, receivedAt: Int64) {
        self.id = id
        self.source = source
        self.receivedAt = receivedAt
    }
}
