/// `http` or `https`: the scheme an HTTP rule governs.
public enum HTTPScheme: String, Sendable, Hashable, CaseIterable, Codable {
    case http, https

    /// 80 or 443.
    public var defaultPort: UInt16 { self == .https ? 443 : 80 }
}

/// A request pattern `"HOST[:PORT]/PATH"` of an `http`/`https` rule.
///
/// HOST is a domain, `*.domain` (strictly under it) or an IP literal (IPv6 in brackets).
/// PATH is `/`-separated segments: `*` matches exactly one non-empty segment, a final `**`
/// matches zero or more segments, `*` inside a segment matches any run of characters
/// within that segment, anything else matches literally (case-sensitive).
public struct HTTPPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `.domain`, `.wildcardDomain`, `.ipv4` (/32) or `.ipv6` (/128).
    public var host: EndpointHost
    /// The port as written; nil means the scheme's default.
    public var port: UInt16?
    /// The path segments before a final `**` (empty for `/` and `/**`).
    public var segments: [String]
    /// Ends with `/**`.
    public var trailingGlob: Bool

    public init(host: EndpointHost, port: UInt16?, segments: [String], trailingGlob: Bool) {
        self.host = host
        self.port = port
        self.segments = segments
        self.trailingGlob = trailingGlob
    }

    /// The canonical text (`api.github.com/repos/*/pulls`, `[::1]:8080/**`).
    public var description: String {
        "\(host)\(port.map { ":\($0)" } ?? "")\(pathDescription)"
    }

    /// The path part as written canonically (`/`, `/a/*`, `/a/**`).
    public var pathDescription: String {
        let parts = segments + (trailingGlob ? ["**"] : [])
        return "/" + parts.joined(separator: "/")
    }

    /// The port this pattern governs under `scheme`.
    public func effectivePort(_ scheme: HTTPScheme) -> UInt16 { port ?? scheme.defaultPort }

    /// Whether the host is `*.domain`.
    public var hasWildcardHost: Bool {
        if case .wildcardDomain = host { return true }
        return false
    }

    /// Parses a pattern as written in a policy.
    public static func parse(_ text: String) -> Result<HTTPPattern, ValueError> {
        func bad(_ message: String, help: String? = nil) -> Result<HTTPPattern, ValueError> {
            .failure(ValueError("invalid-http-pattern", message, help: help ?? "write \"HOST[:PORT]/PATH\", for example \"api.github.com/repos/*/pulls\" or \"mirror.internal:8080/**\""))
        }
        guard text.utf8.count <= 2048 else { return bad("HTTP pattern is longer than 2048 bytes") }
        if text.contains("://") {
            return bad("HTTP pattern `\(text)` has a scheme", help: "the rule's `http`/`https` keyword gives the scheme: write the pattern without `\(text.prefix { $0 != ":" })://`")
        }
        guard let slash = Self.authorityEnd(text) else {
            return bad("HTTP pattern `\(text)` has no path", help: "add a path: `\"\(text)/**\"` matches every path on the host")
        }
        let authority = text[..<slash]
        let path = text[slash...]
        let hostText: Substring
        var port: UInt16?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return bad("missing `]` in HTTP pattern `\(text)`") }
            hostText = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Self.port(rest.dropFirst()) else { return bad("`\(rest)` is not a port in `\(text)`") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            guard let p = Self.port(authority[authority.index(after: colon)...]) else {
                return bad("`\(authority[authority.index(after: colon)...])` is not a port in `\(text)`", help: "write one port 1-65535, such as \"mirror.internal:8080/**\"")
            }
            port = p
        } else {
            hostText = authority
        }
        if hostText == "*" || hostText.isEmpty {
            return bad("HTTP pattern `\(text)` must name a host", help: "name a domain (`api.example.com`) or a subdomain pattern (`*.example.com`)")
        }
        let host: EndpointHost
        switch Endpoint.parseHost(hostText) {
        case .success(let h): host = h
        case .failure(let e): return bad(e.message, help: e.help)
        }
        switch host {
        case .ipv4(let n) where n.prefixLength != 32: return bad("HTTP pattern `\(text)` names a network; name one address")
        case .ipv6(let n) where n.prefixLength != 128: return bad("HTTP pattern `\(text)` names a network; name one address")
        default: break
        }
        switch Self.parsePath(path) {
        case .success(let (segments, glob)):
            return .success(HTTPPattern(host: host, port: port, segments: segments, trailingGlob: glob))
        case .failure(let e): return .failure(e)
        }
    }

    /// The index of the `/` that starts the path (skipping an IPv6 literal's brackets).
    static func authorityEnd(_ text: String) -> String.Index? {
        var inBrackets = false
        var i = text.startIndex
        while i < text.endIndex {
            switch text[i] {
            case "[": inBrackets = true
            case "]": inBrackets = false
            case "/" where !inBrackets: return i
            default: break
            }
            i = text.index(after: i)
        }
        return nil
    }

    static func port(_ s: Substring) -> UInt16? {
        guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s), v >= 1, v <= 65535 else { return nil }
        return UInt16(v)
    }

    /// Characters a path pattern segment may hold (RFC 3986 `pchar` plus `*`).
    static func isSegmentByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return Array("-._~!$&'()+,;=:@%*".utf8).contains(b)
        }
    }

    static func parsePath(_ path: Substring) -> Result<([String], Bool), ValueError> {
        func bad(_ message: String, help: String) -> Result<([String], Bool), ValueError> {
            .failure(ValueError("invalid-http-pattern", message, help: help))
        }
        if path == "/" { return .success(([], false)) }
        if path.contains("?") || path.contains("#") {
            return bad("HTTP path pattern `\(path)` has a query or fragment", help: "the query string is not part of matching: remove everything from `?`")
        }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var segments: [String] = []
        var glob = false
        for (i, part) in parts.enumerated() {
            if part.isEmpty {
                return bad("HTTP path pattern `\(path)` has an empty segment (`//` or a trailing `/`)", help: "remove the extra `/`; end with `/**` to match everything below")
            }
            if part == "." || part == ".." {
                return bad("HTTP path pattern `\(path)` has a `\(part)` segment", help: "write the path without `.` and `..` segments")
            }
            guard part.utf8.allSatisfy(isSegmentByte) else {
                return bad("HTTP path pattern `\(path)` has a character that cannot appear in a URL path", help: "percent-encode it, or match the segment with `*`")
            }
            if part.contains("**") {
                guard part == "**", i == parts.count - 1 else {
                    return bad("`**` must be the whole last segment of `\(path)`", help: "use `*` for one segment, and `/**` at the end for any number of segments")
                }
                glob = true
                continue
            }
            segments.append(normalizePath(String(part)))
        }
        return .success((segments, glob))
    }

    /// RFC 3986 normalisation of a path: `%XX` of an unreserved character (letters, digits,
    /// `-._~`) is decoded, other escapes get uppercase hex. Servers treat both spellings
    /// alike, so rules must too (`/%61pp` is `/app`).
    public static func normalizePath(_ path: String) -> String {
        let bytes = Array(path.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return path }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) {
                let v = hi << 4 | lo
                let unreserved = (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || Array("-._~".utf8).contains(v)
                if unreserved {
                    out.append(v)
                } else {
                    out.append(UInt8(ascii: "%"))
                    out.append(contentsOf: String(v, radix: 16, uppercase: true).leftPadded().utf8)
                }
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `path` (an origin path starting with `/`, without the query) matches; both
    /// are compared after `normalizePath`. `lenient` (how deny rules match) also ignores
    /// letter case and one trailing `/`: many servers treat `/Acme/App/` as `/acme/app`,
    /// and a deny must not be sidestepped by a spelling the server accepts.
    public func matchesPath(_ path: String, lenient: Bool = false) -> Bool {
        var normal = Self.normalizePath(path)
        if lenient {
            normal = normal.lowercased()
            if normal.count > 1, normal.hasSuffix("/") { normal.removeLast() }
        }
        let body = normal.hasPrefix("/") ? normal.dropFirst() : Substring(normal)
        let parts = body.isEmpty ? [] : body.split(separator: "/", omittingEmptySubsequences: false)
        if trailingGlob {
            guard parts.count >= segments.count else { return false }
        } else {
            guard parts.count == segments.count else { return false }
        }
        for (pattern, part) in zip(segments, parts) where !Self.segmentMatches(lenient ? pattern.lowercased() : pattern, part) { return false }
        return true
    }

    /// A segment pattern against one non-empty segment: `*` matches any run (never `/`).
    static func segmentMatches(_ pattern: String, _ segment: Substring) -> Bool {
        guard !segment.isEmpty else { return false }
        if pattern == "*" { return true }
        return Glob.matches(Array(pattern.utf8), Array(segment.utf8))
    }

    /// Whether `host` (lowercased, no trailing dot) at `port` is this pattern's host.
    public func matchesHost(_ host: String, port: UInt16, scheme: HTTPScheme) -> Bool {
        guard effectivePort(scheme) == port, let target = HTTPHostName.endpointHost(host) else { return false }
        return HTTPHostName.covers(self.host, target)
    }
}

/// Host names as requests carry them, compared with patterns.
public enum HTTPHostName {
    /// Lowercases and strips one trailing dot; nil for an empty name.
    public static func normalize(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasSuffix("."), h.count > 1 { h.removeLast() }
        return h
    }

    /// A concrete host (`api.github.com`, `10.0.0.1`, `[::1]` or `::1`) as an endpoint host.
    public static func endpointHost(_ host: String) -> EndpointHost? {
        let h = normalize(host)
        if h.isEmpty { return nil }
        if let v4 = Endpoint.parseIPv4(Substring(h)) { return .ipv4(IPv4Network(address: v4, prefixLength: 32)) }
        let inner = h.hasPrefix("[") && h.hasSuffix("]") ? h.dropFirst().dropLast() : Substring(h)
        if inner.contains(":") {
            guard let bytes = Endpoint.parseIPv6(inner) else { return nil }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return .ipv4(IPv4Network(address: bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, prefixLength: 32))
            }
            return .ipv6(IPv6Network(bytes: bytes, prefixLength: 128))
        }
        guard Endpoint.isDomain(h) else { return nil }
        return .domain(h)
    }

    /// Whether a pattern host covers a concrete host (`*.d` strictly under `d`).
    public static func covers(_ pattern: EndpointHost, _ host: EndpointHost) -> Bool {
        switch (pattern, host) {
        case (.domain(let d), .domain(let h)): return d == h
        case (.wildcardDomain(let suffix), .domain(let h)): return h.hasSuffix("." + suffix)
        case (.ipv4(let a), .ipv4(let b)): return a.address == b.address
        case (.ipv6(let a), .ipv6(let b)): return a.bytes == b.bytes
        default: return false
        }
    }

    /// Whether two pattern hosts can name a common host (used for scheme conflicts).
    public static func overlap(_ a: EndpointHost, _ b: EndpointHost) -> Bool {
        switch (a, b) {
        case (.wildcardDomain(let x), .wildcardDomain(let y)): return x == y || x.hasSuffix("." + y) || y.hasSuffix("." + x)
        case (.wildcardDomain, _): return covers(a, b)
        case (_, .wildcardDomain): return covers(b, a)
        default: return covers(a, b)
        }
    }
}

/// `*` wildcard matching over bytes (no other metacharacters), linear in practice.
enum Glob {
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] != UInt8(ascii: "*"), pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

extension String {
    /// Two hex digits (`7` → `07`).
    fileprivate func leftPadded() -> String { count < 2 ? "0" + self : self }
}
