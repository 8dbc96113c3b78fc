// Syntax of triggers: what event may start which identity with which command (see
// docs/language.md, "Triggers").

/// Where a trigger's events come from.
public enum TriggerSourceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A GitHub webhook delivery (HMAC-SHA256 signed with the trigger's `secret`).
    case github
    /// A GitLab webhook delivery (the `X-Gitlab-Token` is the trigger's `secret`).
    case gitlab
    /// A generic webhook delivery, HMAC-SHA256 signed with the trigger's `secret`.
    case webhook
    /// A cron schedule.
    case schedule
    /// A person starting the trigger by hand on this host.
    case manual

    /// GitHub and GitLab: events about a repository, with a sender.
    public var isForge: Bool { self == .github || self == .gitlab }
}

/// `trigger NAME { clauses }`.
public struct TriggerDecl: Sendable, Hashable {
    public var name: Name
    public var clauses: [TriggerClause]
    public var span: SourceSpan
    public var trivia: Trivia
    public var block: BlockTrivia
}

/// One line of a trigger block.
public struct TriggerClause: Sendable, Hashable {
    /// The clause's first word (`identity`, `on`, `repository`, ...).
    public var keyword: Name
    public var body: TriggerClauseBody
    public var span: SourceSpan
    public var trivia: Trivia
}

/// One `by` entry: a login (or, for `manual`, a local user name), a team or a local group.
public struct TriggerPrincipal: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// `"alice"`: a GitHub/GitLab login, or a local user for `manual`.
        case user
        /// `team "org/slug"`: a GitHub team or GitLab group the sender belongs to.
        case team
        /// `group "devs"`: a local group (manual triggers).
        case group
    }
    public var kind: Kind
    public var name: StringLiteral
    /// The whole entry (`team "acme/security"`).
    public var span: SourceSpan
}

/// One `budget` entry: `runs N per PERIOD`, `concurrent N`, `wall-time DURATION per PERIOD`.
public struct TriggerBudgetEntry: Sendable, Hashable {
    /// `runs`, `concurrent` or `wall-time`.
    public var kind: Name
    /// The number or duration as written.
    public var amount: Located<String>
    /// `minute`, `hour` or `day` after `per`; nil for `concurrent`.
    public var period: Name?
    public var span: SourceSpan
}

/// What a trigger clause says.
public enum TriggerClauseBody: Sendable, Hashable {
    /// `identity NAME`.
    case identity(Name)
    /// `on github|gitlab EVENT [ACTION, ...]`.
    case onForge(source: Located<TriggerSourceKind>, event: Name, actions: [Name])
    /// `on webhook "HOOK"`.
    case onWebhook(source: Located<TriggerSourceKind>, hook: StringLiteral)
    /// `on schedule "CRON" [timezone "ZONE"]`.
    case onSchedule(source: Located<TriggerSourceKind>, cron: StringLiteral, timezone: StringLiteral?)
    /// `on manual`.
    case onManual(source: Located<TriggerSourceKind>)
    /// `repository "PATTERN", ...`.
    case repository([StringLiteral])
    /// `branch "PATTERN", ...`.
    case branch([StringLiteral])
    /// `by "login", team "org/slug", group "name", ...`.
    case by([TriggerPrincipal])
    /// `secret NAME`.
    case secret(Name)
    /// `workspace clone|empty` or `workspace "/abs/dir"`.
    case workspace(kind: Name?, path: StringLiteral?)
    /// `fields "pull_request.number", ...`.
    case fields([StringLiteral])
    /// `run "argv0", "arg", ...`.
    case run([StringLiteral])
    /// `budget ENTRY, ...`.
    case budget([TriggerBudgetEntry])
    /// `description "text"`.
    case description(StringLiteral)
    /// `fleet "/etc/warden/repos.txt"`: the repository list a firing runs the command over.
    case fleet(StringLiteral)
}

/// An event as written after `expect allow|deny trigger` (and after `explain --trigger`):
/// the words, each with whether it was a quoted string and its span.
public struct TriggerEventWords: Sendable, Hashable {
    public struct Word: Sendable, Hashable {
        public var text: String
        public var quoted: Bool
        public var span: SourceSpan
    }
    public var words: [Word]
    public var span: SourceSpan
}
