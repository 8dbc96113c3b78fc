/// The repository of a `git push` rule: `"HOST[:PORT]/REPO-PATH"`. A `.git` suffix is
/// dropped, so `github.com/acme/app` matches both `/acme/app` and `/acme/app.git`.
public struct GitRepoPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A domain or an IP literal (no wildcards: a push rule names one repository).
    public var host: EndpointHost
    /// nil means 443 (pushes go over https).
    public var port: UInt16?
    /// The repository path without the leading `/` and without `.git` (`acme/app`).
    public var path: String

    public init(host: EndpointHost, port: UInt16?, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    public var description: String { "\(host)\(port.map { ":\($0)" } ?? "")/\(path)" }

    public var effectivePort: UInt16 { port ?? HTTPScheme.https.defaultPort }

    public static func parse(_ text: String) -> Result<GitRepoPattern, ValueError> {
        func bad(_ message: String) -> Result<GitRepoPattern, ValueError> {
            .failure(ValueError("invalid-http-pattern", message, help: "write \"HOST/OWNER/REPO\", for example \"github.com/acme/app\""))
        }
        switch HTTPPattern.parse(text) {
        case .failure(let e): return .failure(ValueError(e.code, e.message, help: "write \"HOST/OWNER/REPO\", for example \"github.com/acme/app\""))
        case .success(let p):
            if p.hasWildcardHost { return bad("a `git push` rule names one host, not `\(p.host)`") }
            if p.trailingGlob || p.segments.contains(where: { $0.contains("*") }) {
                return bad("a `git push` repository is written without `*` (`\(text)`)")
            }
            guard !p.segments.isEmpty else { return bad("`\(text)` names no repository path") }
            return .success(GitRepoPattern(host: p.host, port: p.port, path: normalizeRepoPath(p.segments.joined(separator: "/"))))
        }
    }

    /// `/acme/app.git` → `acme/app`.
    public static func normalizeRepoPath(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p.removeFirst() }
        while p.hasSuffix("/") { p.removeLast() }
        if p.hasSuffix(".git") { p.removeLast(4) }
        return String(p)
    }

    /// Whether a push to `repoPath` (with or without `.git`, leading `/` optional) on
    /// `host:port` is this repository. `lenient` (how deny rules match) ignores letter
    /// case, as GitHub and GitLab do for owner and repository names.
    public func matches(host: String, port: UInt16, repoPath: String, lenient: Bool = false) -> Bool {
        guard port == effectivePort, let target = HTTPHostName.endpointHost(host), HTTPHostName.covers(self.host, target) else { return false }
        let normal = HTTPPattern.normalizePath(repoPath)
        if lenient { return Self.normalizeRepoPath(normal.lowercased()) == path.lowercased() }
        return Self.normalizeRepoPath(normal) == path
    }
}

/// A ref pattern of a `git push` rule: `refs/heads/agent/*`, `refs/heads/agent/**`.
/// `*` matches within one `/`-segment; a final `**` matches zero or more segments.
public struct RefPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The segments before a final `**`.
    public var segments: [String]
    public var trailingGlob: Bool

    public var description: String { (segments + (trailingGlob ? ["**"] : [])).joined(separator: "/") }

    public static func parse(_ text: String) -> Result<RefPattern, ValueError> {
        func bad(_ message: String, _ help: String = "write a full ref such as \"refs/heads/main\", or a pattern such as \"refs/heads/agent/*\"") -> Result<RefPattern, ValueError> {
            .failure(ValueError("invalid-ref-pattern", message, help: help))
        }
        guard text.hasPrefix("refs/") else {
            return bad("ref pattern `\(text)` does not start with `refs/`", "write the full ref: \"refs/heads/\(text)\" for a branch, \"refs/tags/\(text)\" for a tag")
        }
        guard text.utf8.count <= 1024 else { return bad("ref pattern is longer than 1024 bytes") }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        var segments: [String] = []
        var glob = false
        for (i, part) in parts.enumerated() {
            if part == "**" {
                guard i == parts.count - 1 else { return bad("`**` must be the last segment of `\(text)`") }
                glob = true
                continue
            }
            if part.contains("**") { return bad("`**` must be a whole segment of `\(text)`") }
            guard RefName.isValidComponent(part, allowStar: true) else {
                return bad("`\(text)` is not a valid ref pattern (empty segment, `.`-start, `..`, `.lock` end or a character git refuses)")
            }
            segments.append(String(part))
        }
        if segments.count < 2 && !glob { return bad("`\(text)` is too short to be a ref") }
        return .success(RefPattern(segments: segments, trailingGlob: glob))
    }

    /// Whether the ref (a full name, `refs/heads/x`) matches.
    public func matches(_ ref: String) -> Bool {
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        if trailingGlob { guard parts.count >= segments.count else { return false } } else { guard parts.count == segments.count else { return false } }
        for (pattern, part) in zip(segments, parts) {
            guard !part.isEmpty else { return false }
            if pattern == "*" { continue }
            if !Glob.matches(Array(pattern.utf8), Array(part.utf8)) { return false }
        }
        return true
    }
}

/// Git's ref-name rules (`git check-ref-format`), for patterns and pushed refs.
public enum RefName {
    /// Whether `ref` is a well-formed full ref name (`refs/...`).
    public static func isValid(_ ref: String) -> Bool {
        guard ref.hasPrefix("refs/"), ref.utf8.count <= 1024, !ref.hasSuffix("/"), !ref.hasSuffix("."), !ref.contains("@{"), ref != "@" else { return false }
        return ref.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { isValidComponent($0, allowStar: false) }
    }

    static func isValidComponent(_ c: Substring, allowStar: Bool) -> Bool {
        guard !c.isEmpty, !c.hasPrefix("."), !c.hasSuffix(".lock"), !c.contains(".."), !c.contains("@{") else { return false }
        return c.utf8.allSatisfy { b in
            if b == UInt8(ascii: "*") { return allowStar }
            return b > 0x20 && b < 0x7F && !Array("~^:?[\\".utf8).contains(b)
        }
    }
}

/// A concrete URL of a test or `explain`: `https://api.github.com/repos/acme/app/pulls?x=1`.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    public var scheme: HTTPScheme
    /// Lowercased, no trailing dot; IPv6 without brackets.
    public var host: String
    public var port: UInt16
    /// The origin path (`/` when empty), without the query.
    public var path: String

    public init(scheme: HTTPScheme, host: String, port: UInt16, path: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    /// `https://api.github.com/repos` (the default port left out, IPv6 in brackets).
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(h)\(port == scheme.defaultPort ? "" : ":\(port)")\(path)"
    }

    public static func parse(_ text: String) -> Result<HTTPURL, ValueError> {
        func bad(_ message: String) -> Result<HTTPURL, ValueError> {
            .failure(ValueError("invalid-http-pattern", message, help: "write a full URL such as \"https://api.github.com/repos/acme/app/pulls\""))
        }
        guard text.utf8.count <= 4096, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return bad("`\(text)` is not a URL (spaces, control or non-ASCII characters, or too long)")
        }
        let scheme: HTTPScheme
        var rest: Substring
        if text.lowercased().hasPrefix("https://") { scheme = .https; rest = text.dropFirst(8) }
        else if text.lowercased().hasPrefix("http://") { scheme = .http; rest = text.dropFirst(7) }
        else { return bad("`\(text)` does not start with `https://` or `http://`") }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = rest[authorityEnd...]
        if let q = target.firstIndex(of: "?") { target = target[..<q] }
        if authority.contains("@") { return bad("`\(text)` has user information; Warden never takes credentials in URLs") }
        var hostText = authority
        var port = scheme.defaultPort
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return bad("missing `]` in `\(text)`") }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = HTTPPattern.port(after.dropFirst()) else { return bad("bad port in `\(text)`") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            guard let p = HTTPPattern.port(authority[authority.index(after: colon)...]) else { return bad("bad port in `\(text)`") }
            port = p
        }
        let host = HTTPHostName.normalize(String(hostText))
        guard HTTPHostName.endpointHost(host) != nil else { return bad("`\(hostText)` is not a host name or address") }
        let path = target.isEmpty ? "/" : String(target)
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0 == "." || $0 == ".." || $0.lowercased().contains("%2f") || $0.lowercased().contains("%2e") }) {
            return bad("`\(text)` has a dot or encoded-slash segment; the broker refuses such paths")
        }
        return .success(HTTPURL(scheme: scheme, host: host, port: port, path: path))
    }
}
