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
    /// rule count. DNS lookups depend only on the name's class over the `connect` rules'
    /// and http(s) rules' name patterns, split the same way.
    static func networkChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        guard old.isNetworkMediated || new.isNetworkMediated else { return DomainChanges() }
        var groups = ProbeWitnessGroups()
        let brokered = (old.http + new.http).filter { $0.effect == .allow }.map { (host: $0.pattern.host, port: $0.port) }
        for direction in NetDirection.allCases {
            for proto in NetProtocol.allCases {
                let rules = (old.net + new.net).filter { $0.direction == direction && $0.proto == proto }
                let brokers = direction == .connect && proto == .tcp ? brokered : []
                if rules.isEmpty && brokers.isEmpty { continue }
                let subkind = "\(direction.rawValue) \(proto.rawValue)"
                for host in NetworkRepresentatives.hosts(rules.map(\.endpoint.host) + brokers.map(\.host)) {
                    let ranges = rules.filter { EffectivePolicy.hostMatches($0.endpoint.host, host) }.map(\.endpoint.ports)
                    let singles = brokers.filter { HTTPHostName.covers($0.host, host) }.map(\.port)
                    if ranges.isEmpty && singles.isEmpty { continue }
                    for port in NetworkRepresentatives.ports(ranges, singles: singles) {
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

    /// DNS lookups: every name class of the `connect` rules' and http(s) rules' name
    /// patterns (see `NetworkRepresentatives.names`). Names no such rule matches get
    /// NXDOMAIN on both sides (a `*` host matches every name, hence every class).
    static func lookupChanges(old: EffectivePolicy, new: EffectivePolicy, into groups: inout ProbeWitnessGroups) {
        var exact: Set<String> = [], suffixes: Set<String> = []
        var anyHost = false
        let hosts = (old.net + new.net).filter { $0.direction == .connect }.map(\.endpoint.host)
            + (old.http + new.http).filter { $0.effect == .allow }.map(\.pattern.host)
        for h in hosts {
            switch h {
            case .domain(let d): exact.insert(d)
            case .wildcardDomain(let s): suffixes.insert(s)
            case .any: anyHost = true
            case .ipv4, .ipv6: break
            }
        }
        guard anyHost || !exact.isEmpty || !suffixes.isEmpty else { return }
        for name in NetworkRepresentatives.names(exact: exact, suffixes: suffixes) {
            let host = EndpointHost.domain(name)
            guard anyHost || hosts.contains(where: { EffectivePolicy.hostMatches($0, host) }) else { continue }
            groups.consider(.lookup(name), subkind: "lookup",
                            order: WitnessOrder([.number(UInt64(name.utf8.count)), .text(name)]), old: old, new: new)
        }
    }
}
