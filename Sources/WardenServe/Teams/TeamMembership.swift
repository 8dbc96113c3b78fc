import WardenKernel
import WardenPolicy

/// The answer to "is LOGIN in a team matching PATTERN?" from one membership source.
public enum TeamAnswer: Sendable, Equatable {
    /// A member: the teams (lowercased) that matched; `cached` when no lookup was made.
    case member(teams: [String], cached: Bool)
    /// Not a member of any team matching the pattern.
    case notMember(cached: Bool)
    /// The source could not say (unreachable, refused, malformed answer, a pattern it cannot
    /// look up): the decision must not be made as if the sender were not a member, nor a member.
    case failed(String)
}

/// Where `warden serve` learns a sender's teams: webhook payloads do not carry them.
/// Implementations are safe to call from several deliveries at once and bound their time.
public protocol TeamMembershipSource: Sendable {
    /// What the decision records name as `teams_source` (`file`, `github-api`).
    var name: String { get }
    /// Whether `login` of `forge` belongs to a team matching `pattern`, within `deadline`
    /// (`ServeClock.milliseconds()` after which no lookup may still be going).
    func check(login: String, forge: TriggerSourceKind, team pattern: TriggerGlob, deadline: Int64) -> TeamAnswer
}

/// The membership source of each forge, as the operator configured them (none: a `team`
/// entry of that forge cannot be decided, and the server refuses to start with one).
public struct TeamSources: Sendable {
    public var github: (any TeamMembershipSource)?
    public var gitlab: (any TeamMembershipSource)?

    public init(github: (any TeamMembershipSource)? = nil, gitlab: (any TeamMembershipSource)? = nil) {
        self.github = github
        self.gitlab = gitlab
    }

    public func source(for forge: TriggerSourceKind) -> (any TeamMembershipSource)? {
        switch forge {
        case .github: return github
        case .gitlab: return gitlab
        default: return nil
        }
    }

    /// Why the server cannot decide `triggers` with these sources: a `team` entry of a forge
    /// that has no source (it would never match, silently), or, when `literalOnly` says a
    /// source looks teams up one by one, a `team` pattern with a wildcard.
    public func problems(_ triggers: [CheckedTrigger]) -> [String] {
        var out: [String] = []
        for t in triggers where t.source.isForge {
            for p in t.senders where p.kind == .team {
                let line = p.span.start.line
                let shown = TerminalText.escape(p.pattern.text)
                guard let source = source(for: t.source) else {
                    let option = t.source == .github ? "--teams FILE or --github-token-file FILE" : "--teams FILE"
                    out.append("trigger \(t.name)'s `team \"\(shown)\"` (line \(line)) needs a membership source: "
                               + "give \(option) (webhook payloads do not carry the sender's teams)")
                    continue
                }
                if let literal = source as? any LiteralTeamSource, !p.pattern.isLiteral {
                    out.append("trigger \(t.name)'s `team \"\(shown)\"` (line \(line)) is a pattern, and the membership source "
                               + "(\(literal.name)) looks up named teams only: name the team exactly, or give its members in --teams FILE")
                }
            }
        }
        return out
    }
}

/// A source that looks up one named team at a time (an API), so a wildcard pattern cannot
/// be decided by it.
public protocol LiteralTeamSource: TeamMembershipSource {}
