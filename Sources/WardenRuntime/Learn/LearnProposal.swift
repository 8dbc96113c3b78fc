/// What `warden learn` proposes for one identity: rules to add, each with the evidence that
/// led to it, and what it saw but will not propose, each with why. Deterministic: the same
/// observations give the same proposal, in the same order.
public struct LearnProposal: Sendable, Hashable {
    public var rules: [ProposedRule]
    public var notProposed: [NotProposed]
    /// Distinct accesses the runtime could not keep (`learn.overflow`): the proposal may
    /// miss some.
    public var overflow: Int64

    public init(rules: [ProposedRule] = [], notProposed: [NotProposed] = [], overflow: Int64 = 0) {
        self.rules = rules
        self.notProposed = notProposed
        self.overflow = overflow
    }

    /// The first and last lines of the block inserted into the identity.
    public static let beginMarker = "# >>> warden learn: proposed rules; review each before merging"
    public static let endMarker = "# <<< warden learn"

    /// The block inserted before the identity's closing `}`, each line indented by `indent`.
    public func block(indent: String = "  ") -> [String] {
        var lines = [indent + Self.beginMarker]
        for rule in rules {
            lines.append(indent + "# " + PolicyText.comment(rule.evidence, limit: 240))
            lines.append(indent + rule.text)
        }
        for item in notProposed {
            lines.append(indent + "# not proposed (" + PolicyText.comment(item.reason, limit: 200) + "): " + PolicyText.comment(item.what, limit: 200))
        }
        if overflow > 0 {
            lines.append(indent + "# not observed: \(overflow) more distinct accesses (the runtime's table was full); run learn again after applying this")
        }
        lines.append(indent + Self.endMarker)
        return lines
    }
}

/// One proposed rule: its text (a complete `allow ...` statement) and its evidence.
public struct ProposedRule: Sendable, Hashable, Comparable {
    public enum Domain: Int, Sendable, Hashable, Comparable {
        case filesystem, network, syscall
        public static func < (a: Domain, b: Domain) -> Bool { a.rawValue < b.rawValue }
    }

    public var domain: Domain
    /// `allow fs read, write "${workspace}/build"`.
    public var text: String
    /// `learned: 12 accesses by python3, e.g. /usr/lib/python3/x.py` (agent text inside,
    /// sanitised when written).
    public var evidence: String

    public init(domain: Domain, text: String, evidence: String) {
        self.domain = domain
        self.text = text
        self.evidence = evidence
    }

    public static func < (a: ProposedRule, b: ProposedRule) -> Bool {
        (a.domain, a.text) < (b.domain, b.text)
    }
}

/// Something observed that the proposal does not grant, and why.
public struct NotProposed: Sendable, Hashable, Comparable {
    /// `exec is never widened`, `dangerous syscall`, `denied by rule base.warden:12`...
    public var reason: String
    /// `exec ${workspace}/main (3 times by sh)`.
    public var what: String

    public init(reason: String, what: String) {
        self.reason = reason
        self.what = what
    }

    public static func < (a: NotProposed, b: NotProposed) -> Bool { (a.reason, a.what) < (b.reason, b.what) }
}
