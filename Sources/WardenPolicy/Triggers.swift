// The checked form of triggers: what `warden serve` routes, authorizes and launches.

/// A pattern with where it was written.
public struct TriggerPatternValue: Sendable, Hashable {
    public var glob: TriggerGlob
    public var span: SourceSpan
}

/// One allowed sender (a `by` entry) with where it was written.
public struct TriggerPrincipalValue: Sendable, Hashable {
    public var kind: TriggerPrincipal.Kind
    public var pattern: TriggerGlob
    public var span: SourceSpan
}

/// How a run's workspace is prepared.
public enum TriggerWorkspace: Sendable, Hashable {
    /// A fresh git clone of the event's repository at the event's commit, made outside the
    /// sandbox (the default for github and gitlab triggers).
    case clone
    /// A fresh empty directory (the default for the other sources).
    case empty
    /// An existing directory, used in place.
    case directory(String)

    public var description: String {
        switch self {
        case .clone: return "clone"
        case .empty: return "empty"
        case .directory(let p): return p
        }
    }
}

/// A budget period.
public enum TriggerPeriod: String, Sendable, Hashable, CaseIterable, Codable {
    case minute, hour, day

    public var seconds: Int {
        switch self {
        case .minute: return 60
        case .hour: return 3600
        case .day: return 86400
        }
    }
}

/// A trigger's budget: what `warden serve` lets it spend.
public struct TriggerBudget: Sendable, Hashable {
    /// At most `runsCount` runs started per `runsPeriod`.
    public var runsCount: Int?
    public var runsPeriod: TriggerPeriod = .hour
    /// At most this many runs at once.
    public var concurrent: Int?
    /// At most this many seconds of run time per period, summed over runs.
    public var wallTimeSeconds: Int?
    public var wallTimePeriod: TriggerPeriod = .day
    /// Where each entry was written, by kind (`runs`, `concurrent`, `wall-time`).
    public var spans: [String: SourceSpan] = [:]

    public init() {}
}

/// A checked trigger: everything `warden serve` needs to route, authorize and launch.
public struct CheckedTrigger: Sendable, Hashable {
    public var name: String
    /// The trigger's name as written (its location is the trigger's provenance).
    public var nameSpan: SourceSpan
    public var identity: String
    public var source: TriggerSourceKind
    /// github/gitlab: the event name (`pull_request`, `merge_request`).
    public var event: String?
    /// github/gitlab: the accepted actions; empty accepts every action.
    public var actions: [String] = []
    /// webhook: the hook name (the last segment of its URL).
    public var hook: String?
    /// schedule: when it fires, in `timeZone`.
    public var schedule: CronSchedule?
    /// schedule: the IANA zone the schedule is read in (`UTC` when not written).
    public var timeZone: String = "UTC"
    /// github/gitlab: `owner/name` patterns (at least one).
    public var repositories: [TriggerPatternValue] = []
    /// github/gitlab: base-branch patterns; empty accepts every branch.
    public var branches: [TriggerPatternValue] = []
    /// Who may cause the trigger; empty accepts any sender (github/gitlab only).
    public var senders: [TriggerPrincipalValue] = []
    /// github/gitlab/webhook: the secret that authenticates deliveries.
    public var secret: String?
    public var workspace: TriggerWorkspace
    /// The payload fields (dotted paths) the agent receives besides the normalized event.
    public var fields: [String] = []
    /// The command, as literal argv (never interpolated, never given to a shell by Warden).
    public var run: [String]
    public var budget = TriggerBudget()
    public var description: String?
    /// `fleet "LIST"`: the absolute path of a repository list (`warden fleet --repos`
    /// format). A firing runs the command once per repository, each in a fresh clone
    /// (`workspace` is then `.clone`); nil for a trigger that starts one run.
    public var fleet: String?
    /// Where each clause was written, by keyword (`on`, `repository`, `by`, ...).
    public var clauseSpans: [String: SourceSpan] = [:]

    public init(name: String, nameSpan: SourceSpan, identity: String, source: TriggerSourceKind, workspace: TriggerWorkspace, run: [String]) {
        self.name = name
        self.nameSpan = nameSpan
        self.identity = identity
        self.source = source
        self.workspace = workspace
        self.run = run
    }
}
