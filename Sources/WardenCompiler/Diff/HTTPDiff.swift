import WardenPolicy

extension PolicyDiffer {
    /// HTTP requests through the broker whose decision differs (`decideHTTP`), and requests
    /// that carry a secret in one version and not the other (`.httpInjection`, domain
    /// `secret`: a request that newly carries a secret is a widening).
    ///
    /// Completeness. `decideHTTP` refuses, whatever the rules, a method that is not
    /// uppercase letters, TRACE/TRACK, and paths the broker refuses (`brokerRefusal`): those
    /// never differ. Otherwise the answer (and the injected secrets) depends only on the set
    /// of rules matching the request: same scheme, host covered by the pattern's host, port
    /// equal to the pattern's port, method listed (or any), path matched (exactly by
    /// allows, leniently by denies). So, per scheme:
    /// - hosts: the name classes and addresses the rules' hosts split
    ///   (`NetworkRepresentatives.hosts`; a host no rule covers matches nothing);
    /// - ports: per host class, each port of a rule covering it (any other port matches no
    ///   rule);
    /// - methods: each method a rule lists, and one no rule lists (`PROPFIND` when free),
    ///   which stands for every unlisted method;
    /// - paths: `SegmentRepresentatives` over the path patterns of the rules on that host
    ///   and port (exact for literal and `*` segments and `**`; globs inside a segment are
    ///   the documented residual).
    /// Every request is in the class of one (scheme, host, port, method, path) combination
    /// and matched by the same rules as it, so deciding the representatives finds every
    /// difference (up to the path residual). A (host class, port) whose rules are the same
    /// on both sides apart from where they are written answers every request alike and is
    /// skipped.
    static func httpChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        var groups = ProbeWitnessGroups()
        for scheme in HTTPScheme.allCases {
            let rules = (old.http + new.http).filter { $0.scheme == scheme }
            if rules.isEmpty { continue }
            for host in NetworkRepresentatives.hosts(rules.map(\.pattern.host)) {
                let hostRules = rules.filter { HTTPHostName.covers($0.pattern.host, host) }
                for port in Set(hostRules.map(\.port)).sorted() {
                    let here = hostRules.filter { $0.port == port }
                    // The same rules (ignoring where they are written) decide every request alike.
                    let oldShapes = Set(old.http.filter { $0.scheme == scheme && $0.port == port && HTTPHostName.covers($0.pattern.host, host) }.map(HTTPRuleShape.init))
                    let newShapes = Set(new.http.filter { $0.scheme == scheme && $0.port == port && HTTPHostName.covers($0.pattern.host, host) }.map(HTTPRuleShape.init))
                    if oldShapes == newShapes { continue }
                    try requests(scheme: scheme, host: host, port: port, rules: here, old: old, new: new, into: &groups)
                }
            }
        }
        return groups.changes(old: old, new: new)
    }

    /// An http(s) rule without its provenance.
    struct HTTPRuleShape: Hashable {
        var effect: Effect
        var methods: [String]?
        var pattern: HTTPPattern
        var injection: HeaderInjection?
        init(_ g: HTTPGrant) {
            effect = g.effect
            methods = g.methods
            pattern = g.pattern
            injection = g.injection
        }
    }

    /// Methods tried, in order, for "a method no rule lists".
    static let freshMethods = ["PROPFIND", "WARDENDIFF", "WARDENDIFFX", "WARDENDIFFY"]

    /// Decides every (method, path) representative of one scheme, host and port.
    static func requests(scheme: HTTPScheme, host: EndpointHost, port: UInt16, rules: [HTTPGrant],
                         old: EffectivePolicy, new: EffectivePolicy, into groups: inout ProbeWitnessGroups) throws(PolicyDiffError) {
        let listed = Set(rules.compactMap(\.methods).flatMap { $0 })
        var methods = listed.sorted()
        if let fresh = freshMethods.first(where: { !listed.contains($0) }) { methods.append(fresh) }
        let patterns = rules.map {
            SegmentPattern(segments: $0.pattern.segments, trailingGlob: $0.pattern.trailingGlob, lenient: $0.effect == .deny)
        }
        let paths: [SegmentRepresentatives.Value]
        do {
            paths = try SegmentRepresentatives(patterns, language: .httpPath).values()
        } catch {
            throw .tooComplex(identity: new.identity, domain: .http, detail: "\(scheme.rawValue)://\(host):\(port): \(error.detail)")
        }
        let hostText = NetworkRepresentatives.hostText(host)
        let hostOrder = NetworkRepresentatives.order(host)
        for value in paths {
            let path = "/" + value.segments.joined(separator: "/") + (value.trailingSlash && !value.segments.isEmpty ? "/" : "")
            for method in methods {
                let target = HTTPTarget(scheme: scheme, method: method, host: hostText, port: port, path: path)
                let o = old.decideHTTP(target), n = new.decideHTTP(target)
                let order = WitnessOrder(WitnessOrder.text(path) + hostOrder
                                         + [.number(UInt64(port)), .text(method)])
                groups.record(.http(target), subkind: scheme.rawValue, order: order, old: o.decision, new: n.decision)
                let secrets = Set((o.injections + n.injections).map(\.secret))
                for secret in secrets.sorted() {
                    groups.consider(.httpInjection(target, secret: secret), subkind: "\(scheme.rawValue) secret \(secret)",
                                    order: order, old: old, new: new)
                }
            }
        }
    }
}
