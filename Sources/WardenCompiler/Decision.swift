import WardenKernel
import WardenPolicy

/// The answer to "is this action allowed?", with the rules that decided it.
public struct Decision: Sendable, Hashable {
    public var effect: Effect
    /// The deciding rules: the matching denies when denied by a rule, the matching allows
    /// when allowed; empty when nothing matched (default deny).
    public var rules: [Provenance]
    /// The kernel mechanism that enforces the answer (`seccomp`, `landlock`, `mount`, ...).
    public var mechanism: String
    /// Extra explanation (default deny, argument notes).
    public var note: String?
    /// For a denied syscall: the errno it returns (the lowest of the deciding rules', EPERM
    /// by default).
    public var errno: Int32? = nil
    /// For a denial the runtime lifts in some cases it alone can see: when (e.g.
    /// `OwnLoopback.connectCondition` for a loopback connect no rule decides).
    public var condition: String? = nil

    public var isDefaultDeny: Bool { effect == .deny && rules.isEmpty }
}

extension EffectivePolicy {
    /// Whether `access` to `path` is allowed. A rule on a path covers its whole subtree;
    /// `/` covers everything, variables included. Deny wins. The agent's `/tmp` is the run's
    /// `${tmp}`, for the path asked and the rules' paths alike (as in `worldAnswer`).
    public func decideFs(_ access: FsAccess, _ path: PolicyPath) -> Decision {
        let seen = Self.agentView(path)
        let matching = fs.filter { $0.access.contains(access) && Self.covers(Self.agentView($0.path), seen) }
        let denies = matching.filter { $0.effect == .deny }
        let allows = matching.filter { $0.effect == .allow }
        if !denies.isEmpty {
            let mechanism: String
            if allows.isEmpty {
                mechanism = worldAnswer(access, path).mechanism
            } else {
                // A write or exec deny holds for a path missing at launch too: the run mounts
                // it on an empty placeholder (see AgentWorld in WardenRuntime).
                switch access {
                case .read: mechanism = "mount (path masked)"
                case .write: mechanism = "mount (read-only bind, on an empty placeholder if missing at launch)"
                case .exec: mechanism = "mount (noexec bind, on an empty placeholder if missing at launch) and landlock"
                }
            }
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: mechanism, note: nil)
        }
        if !allows.isEmpty {
            return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: "landlock", note: nil)
        }
        let world = worldAnswer(access, path)
        return Decision(effect: .deny, rules: [], mechanism: world.mechanism,
                        note: "no rule allows \(access.rawValue) access here (default deny; \(world.errno.map { "the agent gets \($0)" } ?? "see the agent's world"))")
    }

    /// Whether `rulePath` covers `path` (same root and a component prefix, or `rulePath` is `/`).
    static func covers(_ rulePath: PolicyPath, _ path: PolicyPath) -> Bool {
        if rulePath.base == nil && rulePath.components.isEmpty { return true }
        return path.isWithin(rulePath)
    }

    /// Whether the syscall `name` with `arguments` (missing ones are 0) is allowed. Deny wins.
    public func decideSyscall(_ name: String, arguments: [UInt64] = []) -> Decision {
        var args = arguments
        while args.count < 6 { args.append(0) }
        let grants = syscalls.filter { $0.syscall == name }
        let hasConditions = grants.contains { !$0.conditions.isEmpty }
        let note = hasConditions && arguments.isEmpty
            ? "rules for \(name) test its arguments; this answer is for all arguments 0 (ask with \(name)(v0, v1, ...))"
            : nil
        let denies = grants.filter { $0.effect == .deny && Self.holds($0.conditions, args) }
        if !denies.isEmpty {
            let errno = denies.map(\.errno).min() ?? BuiltinSafeguards.defaultErrno
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: "seccomp",
                            note: ["returns \(errnoName(errno))", note].compactMap { $0 }.joined(separator: "; "),
                            errno: errno)
        }
        let allows = grants.filter { $0.effect == .allow && Self.holds($0.conditions, args) }
        if !allows.isEmpty {
            if isNetworkMediated && (Self.mediatedSocketCalls.contains(name) || name == "sendto") {
                let mediation = "each call's address is decided by the net rules (network mediation)"
                return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: "seccomp and network mediation",
                                note: [mediation, note].compactMap { $0 }.joined(separator: "; "))
            }
            return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: "seccomp", note: note)
        }
        return Decision(effect: .deny, rules: [], mechanism: "seccomp",
                        note: ["no rule allows \(name) (default deny, returns \(errnoName(BuiltinSafeguards.defaultErrno)))", note]
                            .compactMap { $0 }.joined(separator: "; "),
                        errno: BuiltinSafeguards.defaultErrno)
    }

    /// Whether every condition holds for `args` (32-bit arguments compare their low half).
    static func holds(_ conditions: [SyscallCondition], _ args: [UInt64]) -> Bool {
        conditions.allSatisfy { c in
            var v = c.argument < args.count ? args[c.argument] : 0
            if c.is32Bit { v &= 0xFFFF_FFFF }
            let width: UInt64 = c.is32Bit ? 0xFFFF_FFFF : .max
            switch c.test {
            case .compare(let op, let k):
                let k = k & width
                switch op {
                case .equal: return v == k
                case .notEqual: return v != k
                case .less: return v < k
                case .lessEqual: return v <= k
                case .greater: return v > k
                case .greaterEqual: return v >= k
                }
            case .masked(let mask, let value):
                return v & (mask & width) == value & width
            case .oneOf(let values):
                return values.contains { $0 & width == v }
            }
        }
    }

    /// Whether a connection (or bind) to a concrete endpoint is allowed. Deny wins.
    public func decideNet(_ direction: NetDirection, _ proto: NetProtocol, _ endpoint: Endpoint) -> Decision {
        if !isNetworkMediated {
            return Decision(effect: .deny, rules: [], mechanism: "network namespace (loopback only)",
                            note: "the identity has no network rules, so it runs without network")
        }
        let matching = net.filter {
            $0.direction == direction && $0.proto == proto
                && Self.hostMatches($0.endpoint.host, endpoint.host)
                && $0.endpoint.ports.lower <= endpoint.ports.lower && endpoint.ports.upper <= $0.endpoint.ports.upper
        }
        let denies = matching.filter { $0.effect == .deny }
        if !denies.isEmpty {
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: "network mediation", note: nil)
        }
        if direction == .connect, proto == .tcp, let brokered = brokeredConnect(endpoint) { return brokered }
        let allows = matching.filter { $0.effect == .allow }
        if !allows.isEmpty {
            return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: "network mediation", note: nil)
        }
        return Decision(effect: .deny, rules: [], mechanism: "network mediation",
                        note: "no rule allows \(direction.rawValue) \(proto.rawValue) \(endpoint) (default deny)")
    }

    /// A TCP connect to an endpoint of the http(s) rules: redirected to the broker, which
    /// decides each request (nil when the endpoint is not brokered).
    func brokeredConnect(_ endpoint: Endpoint) -> Decision? {
        guard endpoint.ports.lower == endpoint.ports.upper else { return nil }
        let port = endpoint.ports.lower
        let host: EndpointHost
        switch endpoint.host {
        case .domain, .ipv4, .ipv6: host = endpoint.host
        default: return nil
        }
        let rules = http.filter { $0.effect == .allow && $0.port == port && HTTPHostName.covers($0.pattern.host, host) }
        guard let scheme = rules.first?.scheme else { return nil }
        return Decision(effect: .allow, rules: rules.map(\.provenance), mechanism: "broker (\(scheme.rawValue))",
                        note: "the connection goes to Warden's broker, never directly; each request is decided by the \(scheme.rawValue) rules")
    }

    /// Whether the pattern `pattern` covers the (concrete) host `host`.
    static func hostMatches(_ pattern: EndpointHost, _ host: EndpointHost) -> Bool {
        switch (pattern, host) {
        case (.any, _): return true
        case (.ipv4(let net), .ipv4(let h)): return net.prefixLength <= h.prefixLength && net.contains(h.address)
        case (.ipv6(let net), .ipv6(let h)): return net.prefixLength <= h.prefixLength && net.contains(h.bytes)
        case (.domain(let d), .domain(let h)): return d == h
        case (.wildcardDomain(let suffix), .domain(let h)): return h.hasSuffix("." + suffix)
        case (.wildcardDomain(let a), .wildcardDomain(let b)): return b == a || b.hasSuffix("." + a)
        default: return false
        }
    }

    /// Whether the agent may hold capability `name` (canonical `CAP_…`). Deny wins.
    public func decideCapability(_ name: String) -> Decision {
        let matching = capabilities.filter { $0.name == name }
        let denies = matching.filter { $0.effect == .deny }
        if !denies.isEmpty {
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: "capabilities", note: nil)
        }
        let allows = matching.filter { $0.effect == .allow }
        if !allows.isEmpty {
            return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: "capabilities", note: nil)
        }
        return Decision(effect: .deny, rules: [], mechanism: "capabilities",
                        note: "no rule grants \(name); every capability set starts empty")
    }
}

/// `EPERM (1)`, or the number when unnamed.
func errnoName(_ value: Int32) -> String {
    ErrnoNames.name(of: value).map { "\($0) (\(value))" } ?? "errno \(value)"
}

extension EffectivePolicy {
    /// Whether the agent's DNS lookups of `name` are answered: some `allow net connect` or
    /// allow http(s) rule names it (a domain or a `*.domain` covering it) and no `deny net connect` rule
    /// naming it covers every port. Other names get NXDOMAIN from Warden's resolver.
    public func decideLookup(_ name: String) -> Decision {
        let host = EndpointHost.domain(name.lowercased())
        let named = net.filter { $0.direction == .connect && Self.hostMatches($0.endpoint.host, host) }
        let denies = named.filter { $0.effect == .deny && $0.endpoint.ports.isAny }
        if !denies.isEmpty {
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: "DNS (Warden's resolver)", note: nil)
        }
        let allows = named.filter { $0.effect == .allow }.map(\.provenance)
            + http.filter { $0.effect == .allow && HTTPHostName.covers($0.pattern.host, host) }.map(\.provenance)
        if !allows.isEmpty {
            return Decision(effect: .allow, rules: allows, mechanism: "DNS (Warden's resolver)", note: nil)
        }
        return Decision(effect: .deny, rules: [], mechanism: "DNS (Warden's resolver)",
                        note: "no network rule names \(name); lookups of it get NXDOMAIN")
    }

    /// Whether some network rule names a domain (then Warden runs its own resolver).
    public var hasDomainRules: Bool {
        func isName(_ h: EndpointHost) -> Bool {
            switch h {
            case .domain, .wildcardDomain: return true
            default: return false
            }
        }
        return net.contains { isName($0.endpoint.host) } || http.contains { $0.effect == .allow && isName($0.pattern.host) }
    }
}
