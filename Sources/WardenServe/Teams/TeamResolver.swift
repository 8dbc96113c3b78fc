import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy

/// One team looked up for a delivery, as the decision record shows it.
public struct TeamCheck: Sendable, Equatable {
    /// The policy's `team` entry (a name, or a pattern for the file).
    public var team: String
    /// `member`, `not-member` or `error`.
    public var result: String
    /// The teams that matched (a pattern may match several in the file).
    public var matched: [String]
    /// Answered from the cache, without a lookup.
    public var cached: Bool
    /// Why it is `error`.
    public var error: String?

    var audit: AuditValue {
        var o: [String: AuditValue] = ["team": .string(team), "result": .string(result), "cached": .bool(cached)]
        if !matched.isEmpty { o["matched"] = .strings(matched) }
        if let error { o["error"] = .string(error) }
        return .object(o)
    }
}

/// What the team lookups of one delivery found.
public struct TeamResolution: Sendable, Equatable {
    /// The sender's teams the lookups confirmed (for `TriggerEvent.senderTeams`).
    public var teams: [String] = []
    /// Every lookup, in the order made.
    public var checks: [TeamCheck] = []
    /// The source asked (`file`, `github-api`); nil when nothing needed asking.
    public var source: String?
    /// Set when a lookup failed and left a trigger undecided: the delivery must be refused
    /// with this reason (the decision cannot be known, and is not guessed).
    public var failure: String?
    /// The trigger the failure left undecided.
    public var failedTrigger: String?

    public init() {}

    /// The decision record's fields: `teams_source` and `teams_checked` (none when nothing was asked).
    public var auditFields: [String: AuditValue] {
        guard let source else { return [:] }
        return ["teams_source": .string(source), "teams_checked": .array(checks.map(\.audit))]
    }
}

/// Looks up what one delivery's decision needs about the sender's teams, and nothing more
/// (`TriggerAuthorizer.teamQuestions`): the `team` entries of triggers that accept the
/// event but not the sender's login. A trigger's entries are asked in order until one
/// admits the sender; the same entry is asked once per delivery. At most `maxLookups`
/// lookups and `budgetMilliseconds` in all per delivery (GitHub gives up on a webhook after
/// 10 s); past either, the rest are errors.
public struct TeamResolver: Sendable {
    public var sources: TeamSources
    public var maxLookups = 8
    public var budgetMilliseconds: Int64 = 8000

    public init(sources: TeamSources) { self.sources = sources }

    public func resolve(_ event: TriggerEvent, triggers: [CheckedTrigger]) -> TeamResolution {
        var out = TeamResolution()
        let questions = TriggerAuthorizer(triggers: triggers).teamQuestions(event)
        guard !questions.isEmpty, let login = event.sender else { return out }
        guard let source = sources.source(for: event.source) else {
            out.source = "none"
            let q = questions[0]
            out.failedTrigger = q.trigger
            out.failure = "trigger \(q.trigger) (line \(q.span.start.line)) admits \(event.source.rawValue) teams, and this server has no membership source for them"
            return out
        }
        out.source = source.name
        let deadline = ServeClock.milliseconds() + budgetMilliseconds
        var answers: [String: TeamAnswer] = [:]
        var lookups = 0
        var confirmed: Set<String> = []
        for q in questions {
            var admitted = false
            var firstError: (team: String, reason: String)?
            for pattern in q.teams {
                let key = pattern.text.lowercased()
                let answer: TeamAnswer
                if let known = answers[key] {
                    answer = known
                } else {
                    if lookups >= maxLookups {
                        answer = .failed("more than \(maxLookups) team lookups for one delivery")
                    } else if ServeClock.milliseconds() >= deadline {
                        answer = .failed("the delivery's \(budgetMilliseconds) ms for team lookups are spent")
                    } else {
                        lookups += 1
                        answer = source.check(login: login, forge: event.source, team: pattern, deadline: deadline)
                    }
                    answers[key] = answer
                    out.checks.append(Self.check(pattern.text, answer))
                }
                switch answer {
                case .member(let teams, _):
                    confirmed.formUnion(teams)
                    admitted = true
                case .notMember:
                    break
                case .failed(let reason):
                    if firstError == nil { firstError = (pattern.text, reason) }
                }
                if admitted { break }
            }
            if !admitted, let e = firstError, out.failure == nil {
                out.failedTrigger = q.trigger
                out.failure = "cannot tell whether sender '\(login)' is in team '\(e.team)' of trigger \(q.trigger) (line \(q.span.start.line)): "
                    + "\(source.name): \(e.reason)"
            }
        }
        out.teams = confirmed.sorted()
        return out
    }

    static func check(_ team: String, _ answer: TeamAnswer) -> TeamCheck {
        switch answer {
        case .member(let teams, let cached): return TeamCheck(team: team, result: "member", matched: teams, cached: cached)
        case .notMember(let cached): return TeamCheck(team: team, result: "not-member", matched: [], cached: cached)
        case .failed(let reason): return TeamCheck(team: team, result: "error", matched: [], cached: false, error: reason)
        }
    }
}
