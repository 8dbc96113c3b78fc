import WardenKernel

/// The GitHub REST API's base URL (`--github-api-url`): `https://HOST[:PORT][/PATH]`
/// (GitHub Enterprise Server: `https://HOST/api/v3`), no credentials, query or fragment;
/// `http://` only to a loopback host (a local proxy or a test's fake API).
public struct GitHubAPIAddress: Sendable, Equatable {
    /// Without a trailing `/`.
    public let base: String

    public static let github = GitHubAPIAddress(checked: "https://api.github.com")

    init(checked: String) { base = checked }

    public init(_ text: String) throws(GitHubTeamsError) {
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        let shown = TerminalText.escape(text)
        let scheme: String
        if url.hasPrefix("https://") { scheme = "https" } else if url.hasPrefix("http://") { scheme = "http" } else {
            throw .configuration("--github-api-url: expected https://HOST[/PATH], got \(shown)")
        }
        let rest = url.dropFirst(scheme.count + 3)
        guard !rest.isEmpty, !rest.contains("@"), !rest.contains("?"), !rest.contains("#"), !rest.contains("%"), !rest.contains("\\"),
              rest.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .configuration("--github-api-url: expected https://HOST[:PORT][/PATH] (no credentials, query or fragment), got \(shown)")
        }
        let authority = rest.prefix { $0 != "/" }
        guard let host = Self.host(of: authority), !host.isEmpty else {
            throw .configuration("--github-api-url: no host in \(shown)")
        }
        if scheme == "http", !Self.isLoopback(host) {
            throw .configuration("--github-api-url: plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https for \(shown)")
        }
        base = url
    }

    /// The host of `HOST[:PORT]` or `[IPv6][:PORT]`, lowercased; nil when the port is not a number.
    static func host(of authority: Substring) -> String? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && isPort(after.dropFirst())) else { return nil }
            return String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
        }
        let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, !isPort(parts[1]) { return nil }
        return String(parts[0]).lowercased()
    }

    static func isPort(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.count <= 5, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(s) else { return false }
        return n <= 65535
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              octets.allSatisfy({ (Int($0) ?? 256) <= 255 }) else { return false }
        return octets[0] == "127"
    }

    /// `/orgs/ORG/teams/SLUG/memberships/LOGIN` under the base, each segment percent-encoded
    /// (everything but `A-Z a-z 0-9 - . _ ~`), so no value can add a segment or a query.
    public func membershipURL(org: String, slug: String, login: String) -> String {
        base + "/orgs/" + Self.encode(org) + "/teams/" + Self.encode(slug) + "/memberships/" + Self.encode(login)
    }

    static func encode(_ segment: String) -> String {
        var out = ""
        for b in segment.utf8 {
            let unreserved = (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        // `.` and `..` alone are path steps to a URL parser: encode them too.
        if out == "." || out == ".." { out = String(repeating: "%2E", count: out.count) }
        return out
    }
}
