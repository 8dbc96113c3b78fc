extension Endpoint {
    /// Parses `HOST:PORT` as written in a policy.
    public static func parse(_ text: String) -> Result<Endpoint, ValueError> {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(ValueError("invalid-endpoint", "missing `]` in endpoint `\(text)`"))
            }
            hostPart = text[...close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else {
                return .failure(ValueError("invalid-endpoint", "endpoint `\(text)` has no port",
                                           help: "add a port after the host, for example `\(hostPart):443` or `\(hostPart):*`"))
            }
            portPart = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(ValueError("invalid-endpoint", "endpoint `\(text)` has no port",
                                           help: "add a port after the host, for example `\(text):443` or `\(text):*`"))
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                return .failure(ValueError("invalid-endpoint", "IPv6 address in `\(text)` is not in brackets",
                                           help: "write IPv6 hosts in brackets, for example `[::1]:443`"))
            }
        }
        let host: EndpointHost
        switch parseHost(hostPart) {
        case .success(let h): host = h
        case .failure(let e): return .failure(e)
        }
        switch parsePorts(portPart) {
        case .success(let p): return .success(Endpoint(host: host, ports: p))
        case .failure(let e): return .failure(e)
        }
    }

    static func parsePorts(_ text: Substring) -> Result<PortRange, ValueError> {
        if text == "*" { return .success(.any) }
        func port(_ s: Substring) -> UInt16? {
            guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s), v <= 65535 else { return nil }
            return UInt16(v)
        }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let lo = port(parts[0]), parts.count == 1 || port(parts[1]) != nil else {
            return .failure(ValueError("invalid-port", "`\(text)` is not a port",
                                       help: "write a port 0-65535, a range `N-M`, or `*`"))
        }
        let hi = parts.count == 2 ? port(parts[1]) ?? lo : lo
        guard lo <= hi else {
            return .failure(ValueError("reversed-port-range", "port range `\(text)` is reversed: it matches no port",
                                       help: "write `\(hi)-\(lo)`"))
        }
        return .success(PortRange(lower: lo, upper: hi))
    }

    static func parseHost(_ text: Substring) -> Result<EndpointHost, ValueError> {
        if text == "*" { return .success(.any) }
        if text.isEmpty {
            return .failure(ValueError("invalid-endpoint", "endpoint has no host", help: "write a host before `:`, or `*` for any host"))
        }
        if text.hasPrefix("[") {
            let inner = text.dropFirst().dropLast()
            let (addrText, prefix) = splitPrefix(inner)
            guard let bytes = parseIPv6(addrText) else {
                return .failure(ValueError("invalid-endpoint", "`\(inner)` is not an IPv6 address"))
            }
            guard let p = prefix(128) else {
                return .failure(ValueError("invalid-endpoint", "`\(inner)` has an invalid prefix length (0-128)"))
            }
            // IPv4-mapped (::ffff:a.b.c.d) becomes the IPv4 form so rules match either spelling.
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF, p >= 96 {
                let v4 = bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return ipv4(v4, prefix: p - 96, written: String(inner))
            }
            let net = IPv6Network.masked(bytes, p)
            if net != bytes {
                let right = IPv6Network(bytes: net, prefixLength: p)
                return .failure(ValueError("cidr-host-bits", "network `\(inner)` has host bits set",
                                           help: "did you mean `[\(right)]`?"))
            }
            return .success(.ipv6(IPv6Network(bytes: bytes, prefixLength: p)))
        }
        let (addrText, prefix) = splitPrefix(text)
        if let v4 = parseIPv4(addrText) {
            guard let p = prefix(32) else {
                return .failure(ValueError("invalid-endpoint", "`\(text)` has an invalid prefix length (0-32)"))
            }
            return ipv4(v4, prefix: p, written: String(text))
        }
        if text.contains("/") || text.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .failure(ValueError("invalid-endpoint", "`\(text)` is not an IPv4 address or network",
                                       help: "write four numbers 0-255, optionally with a prefix: `10.0.0.0/8`"))
        }
        var name = text.lowercased()
        var wildcard = false
        if name.hasPrefix("*.") { wildcard = true; name.removeFirst(2) }
        if name.hasSuffix(".") { name.removeLast() }
        guard isDomain(name) else {
            let help = text.contains("*") ? "a wildcard may only be a whole first label: `*.example.org`" : "a domain is labels of letters, digits and `-` joined by `.`"
            return .failure(ValueError("invalid-endpoint", "`\(text)` is not a valid host", help: help))
        }
        return .success(wildcard ? .wildcardDomain(name) : .domain(name))
    }

    private static func ipv4(_ v4: UInt32, prefix p: Int, written: String) -> Result<EndpointHost, ValueError> {
        let net = v4 & IPv4Network.mask(p)
        if net != v4 {
            return .failure(ValueError("cidr-host-bits", "network `\(written)` has host bits set",
                                       help: "did you mean `\(IPv4Network(address: net, prefixLength: p))`?"))
        }
        return .success(.ipv4(IPv4Network(address: v4, prefixLength: p)))
    }

    /// Splits `addr/len`; the returned closure validates the length against a maximum.
    private static func splitPrefix(_ s: Substring) -> (Substring, (Int) -> Int?) {
        guard let slash = s.firstIndex(of: "/") else { return (s, { $0 }) }
        let digits = s[s.index(after: slash)...]
        return (s[..<slash], { max in
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let v = Int(digits), v <= max else { return nil }
            return v
        })
    }

    /// Dotted-quad IPv4 (exactly four decimal octets, no leading zeros beyond "0").
    static func parseIPv4(_ s: Substring) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(p.count > 1 && p.hasPrefix("0")), let o = UInt32(p), o <= 255 else { return nil }
            v = v << 8 | o
        }
        return v
    }

    /// IPv6 text (with `::` and an optional trailing dotted quad) to 16 bytes.
    static func parseIPv6(_ s: Substring) -> [UInt8]? {
        guard !s.isEmpty, s.count <= 45 else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        let doubles = s.ranges(of: "::")
        guard doubles.count <= 1 else { return nil }
        let halves: [String] = doubles.first.map { [String(s[..<$0.lowerBound]), String(s[$0.upperBound...])] } ?? [String(s)]
        func groups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, f) in fields.enumerated() {
                if allowV4, i == fields.count - 1, f.contains(".") {
                    guard let v4 = parseIPv4(f) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard !f.isEmpty, f.count <= 4, let g = UInt16(f, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowV4: false), let t = groups(halves[1], allowV4: true), h.count + t.count <= 7 else { return nil }
            head = h; tail = t
        } else {
            guard let h = groups(halves[0], allowV4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func isDomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F })
            else { return false }
        }
        return true
    }
}
