// Rules about rules that do nothing: allows that a deny always overrides, and the same
// rule written twice in one identity.

extension LintRules {
    static let shadowedRule = LintRule(
        id: "shadowed-rule", severity: .warning,
        rationale: "Deny wins: an allow that a deny covers entirely grants nothing, and usually hides a mistake.",
        tags: ["redundancy"]
    ) { policy in
        var findings: [LintFinding] = []
        var reported: Set<SourceSpan> = []
        for identity in identitiesInOrder(policy) {
            let denies = identity.rules.filter { $0.effect == .deny }
            guard !denies.isEmpty else { continue }
            let fs = FsView(identity)
            let otherDenies = DenyIndex(identity)
            // Syscalls denied whatever their arguments.
            var deniedAlways: [String: EffectiveRule] = [:]
            for d in denies {
                if case .syscall(let m) = d.action, m.conditions.isEmpty {
                    for s in m.syscalls where deniedAlways[s] == nil { deniedAlways[s] = d }
                }
            }
            for a in identity.rules where a.effect == .allow {
                var by: [EffectiveRule] = []
                switch a.action {
                case .syscall(let m):
                    guard !m.syscalls.isEmpty else { continue }
                    let covering = m.syscalls.compactMap { deniedAlways[$0] }
                    guard covering.count == m.syscalls.count else { continue }
                    var seen: Set<SourceSpan> = []
                    by = covering.filter { seen.insert($0.span).inserted }
                case .fs(let access, let path):
                    // Compact fs entries: no copies of whole rules in this inner loop.
                    guard let d = fs.firstDeny(covering: access, path) else { continue }
                    by = [identity.rules[d.index]]
                default:
                    guard let d = otherDenies.firstCovering(a.action) else { continue }
                    by = [identity.rules[d]]
                }
                guard reported.insert(a.span).inserted else { continue }
                let notes = by.prefix(3).map { RelatedNote("denied here", at: $0.span) } + identityNote(identity, a)
                findings.append(LintFinding("this allow has no effect in identity `\(identity.name)`: a deny covers all of it\(viaText(a))",
                                            at: a.span, help: "remove the allow, or narrow the deny", notes: notes))
            }
        }
        return findings
    }

    /// Whether deny action `d` covers all of allow action `a` (fs, net and capabilities).
    static func covers(_ d: RuleAction, _ a: RuleAction) -> Bool {
        switch (d, a) {
        case (.fs(let da, let dp), .fs(let aa, let ap)):
            return pathWithin(ap, dp) && aa.allSatisfy(da.contains)
        case (.net(let dd, let dproto, let de), .net(let ad, let aproto, let ae)):
            return dd == ad && dproto == aproto && de.ports.lower <= ae.ports.lower && ae.ports.upper <= de.ports.upper
                && hostCovers(de.host, ae.host)
        case (.capability(let x), .capability(let y)):
            return x == y
        default:
            return false
        }
    }

    /// Whether every address or name `inner` matches is matched by `outer`.
    static func hostCovers(_ outer: EndpointHost, _ inner: EndpointHost) -> Bool {
        switch (outer, inner) {
        case (.any, _): return true
        case (.ipv4(let o), .ipv4(let i)): return o.prefixLength <= i.prefixLength && o.contains(i.address)
        case (.ipv6(let o), .ipv6(let i)): return o.prefixLength <= i.prefixLength && o.contains(i.bytes)
        case (.domain(let o), .domain(let i)): return o == i
        case (.wildcardDomain(let o), .domain(let i)): return i.hasSuffix("." + o)
        case (.wildcardDomain(let o), .wildcardDomain(let i)): return i == o || i.hasSuffix("." + o)
        default: return false
        }
    }

    static let duplicateRule = LintRule(
        id: "duplicate-rule", severity: .warning,
        rationale: "The same rule twice in one identity (directly or through `use`) is noise that makes reviews harder.",
        tags: ["redundancy"]
    ) { policy in
        var findings: [LintFinding] = []
        var reported: Set<[SourceSpan]> = []
        for identity in identitiesInOrder(policy) {
            var first: [DuplicateKey: EffectiveRule] = [:]
            for r in identity.rules {
                let key = DuplicateKey(r)
                guard let earlier = first[key] else { first[key] = r; continue }
                guard reported.insert([r.span, earlier.span]).inserted else { continue }
                findings.append(LintFinding("this rule repeats one identity `\(identity.name)` already has\(viaText(r))", at: r.span,
                                            help: "remove one of the two",
                                            notes: [RelatedNote("the same rule is here\(viaText(earlier))", at: earlier.span)] + identityNote(identity, r)))
            }
        }
        return findings
    }
}

/// What makes two effective rules the same rule (spans and `because` aside). fs, net and
/// capability actions compare structurally (the checker keeps fs access in a canonical
/// order); syscall matches without their spans and spelling.
struct DuplicateKey: Hashable {
    var effect: Effect
    var action: RuleAction?
    /// Sorted syscall names, then the conditions and errno as text (no formatting of the
    /// name list: `@default` alone holds hundreds of names, once per identity).
    var syscalls: [String]?
    var rest: String?

    init(_ r: EffectiveRule) {
        effect = r.effect
        switch r.action {
        case .syscall(let m):
            let conditions = m.conditions.map { "\($0.argument) \($0.is32Bit) \($0.test)" }.sorted()
            syscalls = m.syscalls.sorted()
            rest = "\(conditions) \(m.errno.map { "\($0)" } ?? "-")"
        default:
            action = r.action
        }
    }
}

/// The net and capability denies of one identity, indexed by what they name, so that
/// "which deny covers this allow?" looks up the few hosts that could cover it (the host
/// itself, its wildcard parents, its enclosing networks, `*`) instead of scanning every
/// deny: `shadowed-rule` stays linear in the number of rules.
struct DenyIndex {
    struct NetKey: Hashable {
        var direction: NetDirection
        var proto: NetProtocol
        var host: EndpointHost
    }

    let rules: [EffectiveRule]
    /// Positions in `rules` of the net denies naming each host, in rule order.
    private var net: [NetKey: [Int]] = [:]
    /// The first deny of each capability.
    private var capabilities: [String: Int] = [:]

    init(_ identity: CheckedIdentity) {
        rules = identity.rules
        for (i, r) in rules.enumerated() where r.effect == .deny {
            switch r.action {
            case .net(let d, let p, let e): net[NetKey(direction: d, proto: p, host: e.host), default: []].append(i)
            case .capability(let c): if capabilities[c] == nil { capabilities[c] = i }
            default: break
            }
        }
    }

    /// The position of the first deny (in rule order) that covers all of net or
    /// capability action `a` (see `LintRules.covers`).
    func firstCovering(_ a: RuleAction) -> Int? {
        switch a {
        case .capability(let c):
            return capabilities[c]
        case .net(let d, let p, let e):
            var first: Int?
            for host in Self.coveringHosts(e.host) {
                for i in net[NetKey(direction: d, proto: p, host: host)] ?? [] where LintRules.covers(rules[i].action, a) {
                    first = min(first ?? i, i)
                    break
                }
            }
            return first
        default:
            return nil
        }
    }

    /// Every host pattern that can cover `host` (`LintRules.hostCovers`).
    static func coveringHosts(_ host: EndpointHost) -> [EndpointHost] {
        var hosts: [EndpointHost] = [.any]
        switch host {
        case .any:
            break
        case .domain(let name):
            hosts.append(.domain(name))
            hosts += parentSuffixes(name).map { .wildcardDomain($0) }
        case .wildcardDomain(let name):
            hosts.append(.wildcardDomain(name))
            hosts += parentSuffixes(name).map { .wildcardDomain($0) }
        case .ipv4(let n):
            for p in 0...n.prefixLength {
                hosts.append(.ipv4(IPv4Network(address: n.address & IPv4Network.mask(p), prefixLength: p)))
            }
        case .ipv6(let n):
            for p in 0...n.prefixLength {
                hosts.append(.ipv6(IPv6Network(bytes: IPv6Network.masked(n.bytes, p), prefixLength: p)))
            }
        }
        return hosts
    }

    /// `b.c` and `c` for `a.b.c`.
    static func parentSuffixes(_ name: String) -> [String] {
        var out: [String] = []
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            out.append(String(rest))
        }
        return out
    }
}
