import WardenPolicy

/// Items keyed by host pattern, answering "which items' patterns match this concrete host"
/// without scanning them all: names by exact lookup and by each of their parent suffixes,
/// addresses by a scan of the (usually few) network patterns. Matches as
/// `EffectivePolicy.hostMatches` does (`*` matches every host, `*.s` names strictly under
/// `s`, networks their addresses).
struct HostPatternIndex<Item> {
    private var any: [Item] = []
    private var v4: [(IPv4Network, Item)] = []
    private var v6: [(IPv6Network, Item)] = []
    private var exact: [String: [Item]] = [:]
    private var wildcard: [String: [Item]] = [:]

    init(_ items: [Item], host: (Item) -> EndpointHost) {
        for item in items {
            switch host(item) {
            case .any: any.append(item)
            case .ipv4(let n): v4.append((n, item))
            case .ipv6(let n): v6.append((n, item))
            case .domain(let d): exact[d, default: []].append(item)
            case .wildcardDomain(let s): wildcard[s, default: []].append(item)
            }
        }
    }

    /// The items whose pattern matches the concrete `host` (an address or a name).
    func matching(_ host: EndpointHost) -> [Item] {
        var out = any
        switch host {
        case .ipv4(let h):
            for (n, item) in v4 where n.prefixLength <= h.prefixLength && n.contains(h.address) { out.append(item) }
        case .ipv6(let h):
            for (n, item) in v6 where n.prefixLength <= h.prefixLength && n.contains(h.bytes) { out.append(item) }
        case .domain(let name):
            out += exact[name] ?? []
            var rest = Substring(name)
            while let dot = rest.firstIndex(of: ".") {
                rest = rest[rest.index(after: dot)...]
                out += wildcard[String(rest)] ?? []
            }
        case .any, .wildcardDomain:
            break
        }
        return out
    }
}
