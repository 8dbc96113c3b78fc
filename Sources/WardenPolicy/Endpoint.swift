/// A network endpoint pattern: `HOST:PORT` parsed into a structured value.
public struct Endpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: EndpointHost
    public var ports: PortRange

    public init(host: EndpointHost, ports: PortRange) {
        self.host = host
        self.ports = ports
    }

    /// The canonical form (`10.0.0.0/8:443`, `[fd00::/8]:*`, `*.example.org:1-1024`).
    public var description: String { "\(host):\(ports)" }

    /// True when the endpoint names one host (IP address or domain) and one port.
    public var isConcrete: Bool {
        guard ports.lower == ports.upper, !ports.isAny else { return false }
        switch host {
        case .ipv4(let n): return n.prefixLength == 32
        case .ipv6(let n): return n.prefixLength == 128
        case .domain: return true
        case .any, .wildcardDomain: return false
        }
    }
}

/// The host part of an endpoint.
public enum EndpointHost: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `*`: any address.
    case any
    /// An IPv4 address (prefix 32) or network. IPv4-mapped IPv6 is normalised here.
    case ipv4(IPv4Network)
    /// An IPv6 address (prefix 128) or network.
    case ipv6(IPv6Network)
    /// A domain name, lower-cased, without a trailing dot.
    case domain(String)
    /// `*.suffix`: any name strictly under `suffix` (stored without `*.`).
    case wildcardDomain(String)

    public var description: String {
        switch self {
        case .any: return "*"
        case .ipv4(let n): return n.description
        case .ipv6(let n): return "[\(n)]"
        case .domain(let d): return d
        case .wildcardDomain(let d): return "*.\(d)"
        }
    }
}

/// An IPv4 network; host bits are always zero.
public struct IPv4Network: Sendable, Hashable, Codable, CustomStringConvertible {
    public var address: UInt32
    public var prefixLength: Int

    public init(address: UInt32, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public var description: String {
        let a = address
        let dotted = "\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)"
        return prefixLength == 32 ? dotted : "\(dotted)/\(prefixLength)"
    }

    /// The mask for `prefixLength` bits.
    public static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }

    /// Whether `ip` lies in this network.
    public func contains(_ ip: UInt32) -> Bool { ip & IPv4Network.mask(prefixLength) == address }
}

/// An IPv6 network (16 bytes, network order); host bits are always zero.
public struct IPv6Network: Sendable, Hashable, Codable, CustomStringConvertible {
    public var bytes: [UInt8]
    public var prefixLength: Int

    public init(bytes: [UInt8], prefixLength: Int) {
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// RFC 5952 text (lower case, longest zero run compressed).
    public var description: String {
        var groups: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLen, j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ g: ArraySlice<UInt16>) -> String { g.map { String($0, radix: 16) }.joined(separator: ":") }
        let text = bestStart < 0 ? hex(groups[...])
            : hex(groups[0..<bestStart]) + "::" + hex(groups[(bestStart + bestLen)...])
        return prefixLength == 128 ? text : "\(text)/\(prefixLength)"
    }

    /// Whether `ip` (16 bytes) lies in this network.
    public func contains(_ ip: [UInt8]) -> Bool {
        guard ip.count == 16 else { return false }
        return IPv6Network.masked(ip, prefixLength) == bytes
    }

    static func masked(_ b: [UInt8], _ prefix: Int) -> [UInt8] {
        var out = b
        for i in 0..<16 {
            let bits = max(0, min(8, prefix - i * 8))
            out[i] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
        return out
    }
}

/// A port range; `*` is 0...65535.
public struct PortRange: Sendable, Hashable, Codable, CustomStringConvertible {
    public var lower: UInt16
    public var upper: UInt16

    public init(lower: UInt16, upper: UInt16) {
        self.lower = lower
        self.upper = upper
    }

    public static let any = PortRange(lower: 0, upper: 65535)
    public var isAny: Bool { lower == 0 && upper == 65535 }
    public func contains(_ port: UInt16) -> Bool { lower <= port && port <= upper }

    public var description: String {
        isAny ? "*" : lower == upper ? "\(lower)" : "\(lower)-\(upper)"
    }
}
