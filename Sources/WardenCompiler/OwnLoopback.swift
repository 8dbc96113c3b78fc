import WardenPolicy

/// The agent's own loopback: what an identity with `net` rules may do on loopback
/// addresses without a rule. It may bind and listen on 127.0.0.0/8 and ::1 (any port, 0
/// included); it may connect (or send) to a loopback port only while one of its own
/// sockets, bound in this run, holds that port. Host loopback services stay refused unless
/// a rule names them. This file is the one place that states the rule; the runtime
/// (`NetworkMediator`) and `warden explain` both ask `decideNetMediated`.
public enum OwnLoopback {
    /// The built-in rule that lets the agent bind and listen on loopback.
    public static let bindRule = Provenance.builtin(
        "own loopback: bind and listen on 127.0.0.0/8 and ::1",
        because: "only the agent itself can connect to it; SO_REUSEPORT (and for UDP SO_REUSEADDR) is refused, so a port is never shared with a host service")
    /// The built-in rule that lets the agent reach its own loopback sockets.
    public static let connectRule = Provenance.builtin(
        "own loopback: connect to the agent's own listeners only",
        because: "a loopback port is reachable while a socket the agent bound in this run holds it; the supervisor keeps that socket open until the run ends, so no host process can take the port over")
    /// The mechanism of decisions made by the own-loopback rule.
    public static let mechanism = "network mediation (the agent's own loopback)"
    /// What a loopback connect without a rule is allowed to.
    public static let connectCondition = "allowed to the agent's own listeners only"

    /// The note for a loopback connect or send no rule decides.
    public static func connectNote(_ proto: NetProtocol, _ endpoint: Endpoint) -> String {
        "\(connectCondition): \(proto == .tcp ? "a socket of the agent listening" : "a socket of the agent bound") on \(endpoint) in this run; a host service there is refused (a rule such as `allow net connect \(proto.rawValue) \"\(endpoint)\"` would allow it)"
    }

    /// Whether a concrete host is a loopback address: 127.0.0.0/8 or ::1 (IPv4-mapped
    /// forms are IPv4 already).
    public static func isLoopback(_ host: EndpointHost) -> Bool {
        switch host {
        case .ipv4(let n): return n.prefixLength >= 8 && n.address >> 24 == 127
        case .ipv6(let n): return n.prefixLength == 128 && n.bytes == [UInt8](repeating: 0, count: 15) + [1]
        default: return false
        }
    }
}

extension OwnLoopback {
    /// Whether a name is loopback by definition (`localhost` and names under it, RFC 6761):
    /// at run time the agent connects to its address (127.0.0.1 or ::1), which the
    /// own-loopback rule decides, so `explain` answers for such a name the same way.
    public static func isLoopbackName(_ host: EndpointHost) -> Bool {
        guard case .domain(let name) = host else { return false }
        return name == "localhost" || name.hasSuffix(".localhost")
    }
}

extension EffectivePolicy {
    /// The decision the runtime makes for a bind, listen (as `.bind` of the bound address),
    /// connect or send with an address: the rules first (an explicit deny wins, an allow
    /// allows), then the agent's own loopback (`OwnLoopback`), then default deny.
    ///
    /// A loopback connect no rule decides comes back `.deny` with `condition` set to
    /// `OwnLoopback.connectCondition`: the runtime allows it exactly when the port is one
    /// of the agent's own (it knows its sockets; a static answer cannot). A bind below
    /// port 1024 (port 0 aside) needs `CAP_NET_BIND_SERVICE` in the identity as well.
    public func decideNetMediated(_ direction: NetDirection, _ proto: NetProtocol, _ endpoint: Endpoint) -> Decision {
        let loopback = OwnLoopback.isLoopback(endpoint.host) || OwnLoopback.isLoopbackName(endpoint.host)
        if !isNetworkMediated {
            guard loopback else { return decideNet(direction, proto, endpoint) }
            return Decision(effect: .allow, rules: [], mechanism: "network namespace (loopback only)",
                            note: "the identity has no network rules: it runs in a network namespace of its own, whose loopback only the agent uses")
        }
        let byRules = decideNet(direction, proto, endpoint)
        let port = endpoint.ports.lower
        let lowPort = direction == .bind && port != 0 && port < 1024
            && !grantedCapabilities.contains("CAP_NET_BIND_SERVICE")
        if !byRules.rules.isEmpty {
            if byRules.effect == .allow && lowPort { return lowPortDenial() }
            return byRules
        }
        switch direction {
        case .bind where loopback:
            if lowPort { return lowPortDenial() }
            return Decision(effect: .allow, rules: [OwnLoopback.bindRule], mechanism: OwnLoopback.mechanism,
                            note: "binding and listening on a loopback address needs no rule")
        case .bind where port == 0:
            return Decision(effect: .allow, rules: [], mechanism: "network mediation",
                            note: "port 0 picks an ephemeral port, as sending from an unbound socket does; listening on it needs a bind rule covering the port the kernel picks")
        case .connect where loopback:
            var d = Decision(effect: .deny, rules: [OwnLoopback.connectRule], mechanism: OwnLoopback.mechanism,
                             note: OwnLoopback.connectNote(proto, endpoint))
            d.condition = OwnLoopback.connectCondition
            return d
        default:
            if direction == .bind {
                return Decision(effect: .deny, rules: [], mechanism: "network mediation",
                                note: "no rule allows bind \(proto.rawValue) \(endpoint) (default deny; a non-loopback address would expose the agent's server to the network)")
            }
            return byRules
        }
    }

    private func lowPortDenial() -> Decision {
        Decision(effect: .deny, rules: [.builtin("bind below port 1024 needs CAP_NET_BIND_SERVICE",
                                                 because: "the identity is not granted CAP_NET_BIND_SERVICE")],
                 mechanism: "network mediation", note: nil)
    }
}
