import WardenPolicy

extension PolicyDiffer {
    /// Connects, binds and DNS lookups whose decision differs (`decideNet`, `decideLookup`).
    ///
    /// Completeness. A net action is (direction, protocol, concrete host, one port).
    /// `decideNet` depends on whether the identity is network-mediated (a global fact), on
    /// the net rules of the same direction and protocol whose host pattern matches the host
    /// and whose range holds the port, and, for `connect tcp`, on the allow http(s) rules
    /// whose host covers the host and whose port is the port (`brokeredConnect`). For each
    /// (direction, protocol) the hosts are split by every host pattern of those rules on
    /// either side (`NetworkRepresentatives.hosts`: every rule matches all hosts of a class
    /// or none), and for each host class the ports are split by the ranges and ports of the
    /// rules that match that class (`NetworkRepresentatives.ports`). Within a (host class,
    /// port class) the set of matching rules is constant on both sides, so one
    /// representative decides the whole class. Classes no rule of either side matches are
    /// denied on both sides (default deny, or no network at all) and are skipped. Hosts and
    /// ports are combined only within a host class, which keeps the work near-linear in the
    /// rule count. A host class whose matching rules have the same effects and ports on
    /// both sides (and the same brokered ports and mediation) decides every port alike and
    /// is skipped, so a one-line change decides only the classes it touches. DNS lookups depend only on the name's class over the `connect` rules'
    /// and http(s) rules' name patterns, split the same way.
    static func networkChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        guard old.isNetworkMediated || new.isNetworkMediated else { return DomainChanges() }
        let sameMediation = old.isNetworkMediated == new.isNetworkMediated
        var groups = ProbeWitnessGroups()
        let oldBrokers = HostPatternIndex(old.http.filter { $0.effect == .allow }, host: \.pattern.host)
        let newBrokers = HostPatternIndex(new.http.filter { $0.effect == .allow }, host: \.pattern.host)
        let brokeredHosts = (old.http + new.http).filter { $0.effect == .allow }.map(\.pattern.host)
        for direction in NetDirection.allCases {
            for proto in NetProtocol.allCases {
                let oldRules = old.net.filter { $0.direction == direction && $0.proto == proto }
                let newRules = new.net.filter { $0.direction == direction && $0.proto == proto }
                let brokered = direction == .connect && proto == .tcp
                if oldRules.isEmpty && newRules.isEmpty && !(brokered && !brokeredHosts.isEmpty) { continue }
                let oldIndex = HostPatternIndex(oldRules, host: \.endpoint.host)
                let newIndex = HostPatternIndex(newRules, host: \.endpoint.host)
                let subkind = "\(direction.rawValue) \(proto.rawValue)"
                var patterns = Set((oldRules + newRules).map(\.endpoint.host))
                if brokered { patterns.formUnion(brokeredHosts) }
                for host in NetworkRepresentatives.hosts(Array(patterns)) {
                    let o = Set(oldIndex.matching(host).map { RuleShape(effect: $0.effect, ports: $0.endpoint.ports) })
                    let n = Set(newIndex.matching(host).map { RuleShape(effect: $0.effect, ports: $0.endpoint.ports) })
                    let oldSingles = brokered ? Set(oldBrokers.matching(host).map(\.port)) : []
                    let newSingles = brokered ? Set(newBrokers.matching(host).map(\.port)) : []
                    // The same rules (by effect and ports) on both sides decide every port alike.
                    if sameMediation && o == n && oldSingles == newSingles { continue }
                    let ranges = o.union(n).map(\.ports)
                    let singles = oldSingles.union(newSingles)
                    for port in NetworkRepresentatives.ports(ranges, singles: Array(singles)) {
                        guard ranges.contains(where: { $0.contains(port) }) || singles.contains(port) else { continue }
                        let probe = DiffProbe.net(direction, proto, Endpoint(host: host, ports: PortRange(lower: port, upper: port)))
                        groups.consider(probe, subkind: subkind,
                                        order: WitnessOrder(NetworkRepresentatives.order(host) + [.number(UInt64(port))]),
                                        old: old, new: new)
                    }
                }
            }
        }
        lookupChanges(old: old, new: new, into: &groups)
        return groups.changes(old: old, new: new)
    }

    /// What of a net rule decides an action once its host matched.
    struct RuleShape: Hashable {
        var effect: Effect
        var ports: PortRange
    }

    /// DNS lookups: every name class of the `connect` rules' and http(s) rules' name
    /// patterns (see `NetworkRepresentatives.names`). Names no such rule matches get
    /// NXDOMAIN on both sides (a `*` host matches every name, hence every class).
    static func lookupChanges(old: EffectivePolicy, new: EffectivePolicy, into groups: inout ProbeWitnessGroups) {
        struct Named { var host: EndpointHost; var shape: RuleShape? }
        func named(_ p: EffectivePolicy) -> [Named] {
            p.net.filter { $0.direction == .connect }.map { Named(host: $0.endpoint.host, shape: RuleShape(effect: $0.effect, ports: $0.endpoint.ports)) }
                + p.http.filter { $0.effect == .allow }.map { Named(host: $0.pattern.host, shape: nil) }
        }
        let oldNamed = named(old), newNamed = named(new)
        var exact: Set<String> = [], suffixes: Set<String> = []
        for h in (oldNamed + newNamed).map(\.host) {
            switch h {
            case .domain(let d): exact.insert(d)
            case .wildcardDomain(let s): suffixes.insert(s)
            case .any, .ipv4, .ipv6: break
            }
        }
        let oldIndex = HostPatternIndex(oldNamed, host: \.host), newIndex = HostPatternIndex(newNamed, host: \.host)
        for name in NetworkRepresentatives.names(exact: exact, suffixes: suffixes) {
            let host = EndpointHost.domain(name)
            // Names whose matching rules have the same effects and ports on both sides
            // (http allows count as allows) are answered alike.
            let o = oldIndex.matching(host).map { $0.shape.map { "\($0.effect.rawValue) \($0.ports)" } ?? "http" }
            let n = newIndex.matching(host).map { $0.shape.map { "\($0.effect.rawValue) \($0.ports)" } ?? "http" }
            if Set(o) == Set(n) { continue }
            groups.consider(.lookup(name), subkind: "lookup",
                            order: WitnessOrder(WitnessOrder.text(name)), old: old, new: new)
        }
    }
}
