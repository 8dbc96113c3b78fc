import WardenPolicy

/// A 128-bit IPv6 address as two halves, ordered numerically.
struct IPv6Value: Hashable, Comparable {
    var high: UInt64
    var low: UInt64

    static let max = IPv6Value(high: .max, low: .max)

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(bytes: [UInt8]) {
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    /// The next address, nil after the last.
    var successor: IPv6Value? {
        if low != .max { return IPv6Value(high: high, low: low + 1) }
        if high != .max { return IPv6Value(high: high + 1, low: 0) }
        return nil
    }

    /// The last address of `network`.
    static func end(of network: IPv6Network) -> IPv6Value {
        let start = IPv6Value(bytes: network.bytes)
        let p = network.prefixLength
        let highHost: UInt64 = p >= 64 ? 0 : (p == 0 ? .max : .max >> UInt64(p))
        let lowHost: UInt64 = p <= 64 ? .max : (p == 128 ? 0 : .max >> UInt64(p - 64))
        return IPv6Value(high: start.high | highHost, low: start.low | lowHost)
    }

    static func < (a: IPv6Value, b: IPv6Value) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// `::ffff:0:0/96`: IPv4-mapped addresses, which Warden handles as IPv4 (a policy
    /// cannot even name them as IPv6), so they are not IPv6 actions.
    static let mappedStart = IPv6Value(high: 0, low: 0x0000_FFFF_0000_0000)
    static let mappedEnd = IPv6Value(high: 0, low: 0x0000_FFFF_FFFF_FFFF)
}

/// The representatives of the concrete hosts and ports of network actions.
///
/// Completeness: a rule's host pattern is `*`, an IPv4 or IPv6 network, a domain or
/// `*.suffix`; its ports are one range. The representatives are:
/// - IPv4: 0, the first address of every network either side mentions, and the address
///   after each one's last. These split the address space into elementary intervals
///   `[b_i, b_(i+1))`; no mentioned network starts or ends strictly inside one, so every
///   network contains a whole interval or none of it, `*` contains all, and name patterns
///   none: every rule matches all addresses of an interval or none, and the interval's
///   first address stands for it.
/// - IPv6: likewise, with the IPv4-mapped block `::ffff:0:0/96` cut out (those addresses
///   are IPv4 actions).
/// - Names (see `names(mentioned:)`).
/// - Ports: per host class, 0 and each range's lower bound and upper bound + 1 of the
///   rules that match that host (plus single ports), the same argument on 0...65535.
enum NetworkRepresentatives {
    static func ipv4(_ networks: [IPv4Network]) -> [UInt32] {
        var points: Set<UInt32> = [0]
        for n in networks {
            points.insert(n.address)
            let end = n.address | ~IPv4Network.mask(n.prefixLength)
            if end != .max { points.insert(end + 1) }
        }
        return points.sorted()
    }

    static func ipv6(_ networks: [IPv6Network]) -> [IPv6Value] {
        var points: Set<IPv6Value> = [IPv6Value(high: 0, low: 0), IPv6Value.mappedStart]
        if let after = IPv6Value.mappedEnd.successor { points.insert(after) }
        for n in networks {
            points.insert(IPv6Value(bytes: n.bytes))
            if let after = IPv6Value.end(of: n).successor { points.insert(after) }
        }
        // The interval starting at ::ffff:0:0 ends at or before ::ffff:ffff:ffff (both
        // block bounds are points): it holds only mapped addresses.
        return points.sorted().filter { $0 != IPv6Value.mappedStart }
    }

    /// Ports 0...65535 split by `ranges` and `singles`: the first port of each interval.
    static func ports(_ ranges: [PortRange], singles: [UInt16] = []) -> [UInt16] {
        var points: Set<UInt16> = [0]
        for r in ranges {
            points.insert(r.lower)
            if r.upper != .max { points.insert(r.upper + 1) }
        }
        for p in singles {
            points.insert(p)
            if p != .max { points.insert(p + 1) }
        }
        return points.sorted()
    }

    /// Labels tried, in order, for a name that no rule mentions.
    static let freshLabels = ["warden-diff-x", "warden-diff-y", "warden-diff-z", "wdx", "x", "y", "z", "x0", "x1", "x2"]

    /// Representative domain names for the mentioned names (`exact` domains and `*.suffix`
    /// suffixes, lower case).
    ///
    /// Completeness: a name `h` is matched by the exact domains equal to it and by the
    /// wildcards whose suffix it lies strictly under. If `h` is mentioned, it is a
    /// representative. Otherwise no exact domain matches it, and the suffixes above it form
    /// a chain; let `m` be the longest mentioned name (exact or suffix) that `h` lies
    /// strictly under. Then the suffixes above `h` are exactly `m` (if a suffix) and the
    /// suffixes above `m`, which is also true of `fresh.m` (a label no rule mentions under
    /// `m`; nothing lies strictly between it and `m`). With no such `m`, nothing matches
    /// `h`, as nothing matches the fresh single-label name. So every name has a
    /// representative matched by the same rules. Names longer than 253 bytes are not
    /// names (`fresh.m` is skipped when it would be one).
    static func names(exact: Set<String>, suffixes: Set<String>) -> [String] {
        let mentioned = exact.union(suffixes)
        var out: Set<String> = mentioned
        for m in mentioned {
            if let child = freshLabels.lazy.map({ $0 + "." + m }).first(where: { !mentioned.contains($0) && $0.utf8.count <= 253 }) {
                out.insert(child)
            }
        }
        if let unrelated = freshLabels.first(where: { !mentioned.contains($0) }) { out.insert(unrelated) }
        return out.sorted { ($0.utf8.count, $0) < ($1.utf8.count, $1) }
    }

    /// The concrete hosts standing for every class of hosts the patterns `hosts` split.
    static func hosts(_ hosts: [EndpointHost]) -> [EndpointHost] {
        var v4: [IPv4Network] = [], v6: [IPv6Network] = []
        var exact: Set<String> = [], suffixes: Set<String> = []
        for h in hosts {
            switch h {
            case .any: break
            case .ipv4(let n): v4.append(n)
            case .ipv6(let n): v6.append(n)
            case .domain(let d): exact.insert(d)
            case .wildcardDomain(let s): suffixes.insert(s)
            }
        }
        return ipv4(v4).map { .ipv4(IPv4Network(address: $0, prefixLength: 32)) }
            + ipv6(v6).map { .ipv6(IPv6Network(bytes: $0.bytes, prefixLength: 128)) }
            + names(exact: exact, suffixes: suffixes).map { .domain($0) }
    }

    /// Simplicity of a concrete host: IPv4 before IPv6 before names, lowest address first,
    /// shortest name first.
    static func order(_ host: EndpointHost) -> [WitnessOrder.Component] {
        switch host {
        case .ipv4(let n): return [.number(0), .number(UInt64(n.address)), .number(0)]
        case .ipv6(let n):
            let v = IPv6Value(bytes: n.bytes)
            return [.number(1), .number(v.high), .number(v.low)]
        case .domain(let d): return [.number(2)] + WitnessOrder.text(d)
        case .any, .wildcardDomain: return [.number(3)]
        }
    }

    /// The host as a request or push names it: a name, a dotted quad, or IPv6 text without
    /// brackets.
    static func hostText(_ host: EndpointHost) -> String {
        switch host {
        case .ipv4(let n): return n.description
        case .ipv6(let n): return n.description
        case .domain(let d): return d
        case .wildcardDomain(let s): return "*." + s
        case .any: return "*"
        }
    }
}
