import WardenPolicy

/// A trigger whose decision turns on the sender's teams: it accepts everything else about
/// the event, but no login of its `by` list matches the sender, so only a team can admit it.
public struct TeamQuestion: Sendable, Hashable {
    /// The trigger's name.
    public var trigger: String
    /// Its `team` entries, in source order (patterns as written, e.g. `acme/engineers`).
    public var teams: [TriggerGlob]
    /// Where the trigger's `by` clause is written.
    public var span: SourceSpan
}

extension TriggerAuthorizer {
    /// What the decision for `event` needs to know about the sender's teams, and nothing
    /// more: one question per trigger of the event's source (github or gitlab) that accepts
    /// the event's name, action, repository and branch, has `team` entries, and whose plain
    /// logins do not already admit the sender. Empty when the event names no sender, or for
    /// other sources. Teams already in `event.senderTeams` are ignored (asked again).
    ///
    /// Budgets are not considered: they are decided after the sender, with the answers.
    public func teamQuestions(_ event: TriggerEvent) -> [TeamQuestion] {
        guard event.source.isForge, event.sender != nil else { return [] }
        var bare = event
        bare.senderTeams = []
        var out: [TeamQuestion] = []
        for t in triggers where t.source == event.source {
            let teams = t.senders.filter { $0.kind == .team }
            guard !teams.isEmpty, let refusal = Self.refusal(t, bare, nil), refusal.clause == "by" else { continue }
            out.append(TeamQuestion(trigger: t.name, teams: teams.map(\.pattern), span: refusal.span))
        }
        return out
    }
}
