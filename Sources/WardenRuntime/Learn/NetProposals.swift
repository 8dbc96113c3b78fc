import WardenCompiler
import WardenPolicy

/// Turns observed network denials into `allow net` rules (see docs/learn.md):
/// - only a default deny is proposed (a rule, a built-in or the own-loopback rule decided
///   the others; only removing that rule would allow them);
/// - by name when the agent looked the address up (`deny.net`'s `domain`/`name`), so the
///   rule survives the address changing;
/// - an address with no name is proposed only when it is private (loopback, RFC 1918,
///   link-local, unique local IPv6): a connection to a bare public address is what
///   exfiltration looks like, and an agent that needs a public service names it;
/// - a bind is proposed on the address and port it asked for, never port 0;
/// - lookups with no connection after them propose nothing (they are listed).
struct NetProposals {
    var effective: EffectivePolicy

    func propose(_ observations: [NetObservation], lookups: [(name: String, count: Int64)])
        -> (rules: [ProposedRule], notProposed: [NotProposed]) {
        var rules: [String: (count: Int64, example: String)] = [:]
        var skipped: [String: (reason: String, what: String, count: Int64)] = [:]
        var named: Set<String> = []
        for o in observations {
            let shownHost = o.address.contains(":") ? "[\(o.address)]" : o.address
            let what = "\(o.direction.rawValue) \(o.proto.rawValue) \(shownHost):\(o.port)" + (o.name.map { " (\($0))" } ?? "")
            func skip(_ reason: String) {
                var e = skipped[reason + "\u{0}" + what] ?? (reason, what, 0)
                e.count += o.count
                skipped[reason + "\u{0}" + what] = e
            }
            if let n = o.name { named.insert(n.lowercased()) }
            guard o.decidedBy == "default" else {
                skip(o.decidedBy == "built-in" ? "a built-in safeguard denies it"
                     : o.decidedBy == "own-loopback" ? "only the agent's own listeners are reachable on loopback"
                     : "a deny rule decides it; only removing that rule allows it")
                continue
            }
            guard o.port > 0, o.port <= 65535 else { skip("port \(o.port) cannot be granted"); continue }
            let host: String
            if o.direction == .connect, let name = o.name?.lowercased(), !name.isEmpty {
                host = name
            } else if Self.isPrivate(o.address) {
                host = shownHost
            } else {
                skip(o.direction == .bind ? "binding a public address is not learned" : "a bare public address with no name looked up is never learned; add a rule by hand if it is right")
                continue
            }
            let endpoint = "\(host):\(o.port)"
            guard let quoted = PolicyText.quoted(endpoint), case .success(let parsed) = Endpoint.parse(endpoint), parsed.isConcrete || o.name != nil else {
                skip("the endpoint cannot be written in a policy")
                continue
            }
            // The current rules may already allow it (a denial recorded for another reason).
            if parsed.isConcrete, effective.decideNet(o.direction, o.proto, parsed).effect == .allow { continue }
            let text = "allow net \(o.direction.rawValue) \(o.proto.rawValue) \(quoted)"
            var e = rules[text] ?? (0, what)
            e.count += o.count
            rules[text] = e
        }
        let proposed = rules.map { text, e in
            ProposedRule(domain: .network, text: text, evidence: "learned: \(e.count) denied \(e.count == 1 ? "attempt" : "attempts"), e.g. \(e.example)")
        }
        var notProposed = skipped.values.map { NotProposed(reason: $0.reason, what: $0.what + " (\($0.count) time\($0.count == 1 ? "" : "s"))") }
        var seenLookups: [String: Int64] = [:]
        for l in lookups where !named.contains(l.name.lowercased()) { seenLookups[l.name.lowercased(), default: 0] += l.count }
        for (name, count) in seenLookups {
            notProposed.append(NotProposed(reason: "a lookup with no connection after it", what: "lookup \(name) (\(count) time\(count == 1 ? "" : "s"))"))
        }
        return (proposed, notProposed)
    }

    /// Loopback, RFC 1918, link-local, CGNAT (IPv4); loopback, unique local, link-local (IPv6).
    static func isPrivate(_ address: String) -> Bool {
        if case .success(let e) = Endpoint.parse(address.contains(":") ? "[\(address)]:1" : "\(address):1") {
            switch e.host {
            case .ipv4(let n):
                let ranges: [(UInt32, Int)] = [(0x7F00_0000, 8), (0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16), (0xA9FE_0000, 16), (0x6440_0000, 10)]
                return ranges.contains { IPv4Network(address: $0.0, prefixLength: $0.1).contains(n.address) }
            case .ipv6(let n):
                let b = n.bytes
                if b.count == 16, b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return true }
                return b.first.map { $0 & 0xFE == 0xFC } == true || (b.count > 1 && b[0] == 0xFE && b[1] & 0xC0 == 0x80)
            default: return false
            }
        }
        return false
    }
}
