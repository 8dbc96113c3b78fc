import WardenPolicy

/// An `http`/`https` rule item of an identity.
public struct HTTPGrant: Sendable, Hashable {
    public var effect: Effect
    public var scheme: HTTPScheme
    /// Uppercase method tokens; nil means any method.
    public var methods: [String]?
    public var pattern: HTTPPattern
    /// What an allow injects (never on a deny).
    public var injection: HeaderInjection?
    public var provenance: Provenance

    /// The port the rule governs.
    public var port: UInt16 { pattern.effectivePort(scheme) }

    /// Whether the rule covers `target` (scheme, host, port, method and path). A deny
    /// matches paths leniently (any letter case, a trailing `/`), an allow exactly.
    public func matches(_ target: HTTPTarget) -> Bool {
        scheme == target.scheme
            && pattern.matchesHost(target.host, port: target.port, scheme: scheme)
            && (methods?.contains(target.method) ?? true)
            && pattern.matchesPath(target.path, lenient: effect == .deny)
    }
}

/// A `git push` rule item: one repository and one ref pattern.
public struct GitPushGrant: Sendable, Hashable {
    public var effect: Effect
    public var repo: GitRepoPattern
    public var ref: RefPattern
    public var provenance: Provenance
}

/// A host pattern and port whose connections the broker takes (from allow http(s) rules).
public struct BrokeredEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var scheme: HTTPScheme
    /// `.domain`, `.wildcardDomain`, `.ipv4` or `.ipv6` (one address).
    public var host: EndpointHost
    public var port: UInt16

    public init(scheme: HTTPScheme, host: EndpointHost, port: UInt16) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Whether a concrete host name or address (any case, trailing dot allowed) and port is this endpoint.
    public func matches(host name: String, port p: UInt16) -> Bool {
        guard p == port, let h = HTTPHostName.endpointHost(name) else { return false }
        return HTTPHostName.covers(host, h)
    }

    public var description: String { "\(scheme.rawValue)://\(host):\(port)" }
}

/// One request as the broker sees it, normalised for the rules.
public struct HTTPTarget: Sendable, Hashable {
    public var scheme: HTTPScheme
    /// Uppercase token as sent.
    public var method: String
    /// Lowercased, without a trailing dot.
    public var host: String
    public var port: UInt16
    /// The origin path (starting with `/`), without the query.
    public var path: String

    public init(scheme: HTTPScheme, method: String, host: String, port: UInt16, path: String) {
        self.scheme = scheme
        self.method = method
        self.host = HTTPHostName.normalize(host)
        self.port = port
        self.path = path
    }

    /// The target of a test or explain URL.
    public init(method: String, url: HTTPURL) {
        self.init(scheme: url.scheme, method: method, host: url.host, port: url.port, path: url.path)
    }

    /// `POST https://api.github.com/repos/acme/app/pulls` (the default port left out).
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let p = port == scheme.defaultPort ? "" : ":\(port)"
        return "\(method) \(scheme.rawValue)://\(h)\(p)\(path)"
    }

    /// Whether the request is a git push (its ref updates are decided by `git push` rules).
    public var isGitReceivePack: Bool { method == "POST" && path.hasSuffix("/git-receive-pack") }
}

/// The answer for one request: allow or refuse, the deciding rules, and what to inject.
public struct HTTPDecision: Sendable, Hashable {
    /// Effect, deciding rules with provenance, mechanism and note.
    public var decision: Decision
    /// For an allow: the headers to set (secret names, never values), each header once.
    public var injections: [HeaderInjection]
    /// Set when two matching allow rules inject the same header differently (the request is refused).
    public var conflict: String?
}

extension EffectivePolicy {
    /// Whether the identity's network is mediated by the supervisor: it has `net` rules or
    /// HTTP rules (the broker needs the host network). Identities with neither run in a
    /// network namespace of their own with loopback only.
    public var isNetworkMediated: Bool { !net.isEmpty || !http.isEmpty }

    /// The endpoints the broker takes, one per (scheme, host pattern, port), in rule order.
    public var brokeredEndpoints: [BrokeredEndpoint] {
        var seen: Set<BrokeredEndpoint> = []
        return http.filter { $0.effect == .allow }
            .map { BrokeredEndpoint(scheme: $0.scheme, host: $0.pattern.host, port: $0.port) }
            .filter { seen.insert($0).inserted }
    }

    /// The scheme the broker speaks for connections to `host:port`, or nil when the
    /// connection is not brokered. `host` is a name (any case, trailing dot allowed) or an
    /// address. A `deny net connect tcp` covering the host and port wins: nil, and the
    /// connect is refused by the network rules.
    public func brokeredScheme(host: String, port: UInt16) -> HTTPScheme? {
        guard let target = HTTPHostName.endpointHost(host) else { return nil }
        let denied = net.contains {
            $0.effect == .deny && $0.direction == .connect && $0.proto == .tcp && $0.endpoint.ports.contains(port)
                && Self.hostMatches($0.endpoint.host, target)
        }
        if denied { return nil }
        return brokeredEndpoints.first { $0.port == port && HTTPHostName.covers($0.host, target) }?.scheme
    }

    /// The endpoints where a placeholder of `secret` may be replaced: the hosts of the
    /// allow rules that inject it.
    public func secretHosts(_ secret: String) -> [BrokeredEndpoint] {
        var seen: Set<BrokeredEndpoint> = []
        return http.filter { $0.effect == .allow && $0.injection?.secret == secret }
            .map { BrokeredEndpoint(scheme: $0.scheme, host: $0.pattern.host, port: $0.port) }
            .filter { seen.insert($0).inserted }
    }

    /// Whether `secret` is bound to `host:port` (see `secretHosts`).
    public func secretIsBound(_ secret: String, host: String, port: UInt16) -> Bool {
        secretHosts(secret).contains { $0.matches(host: host, port: port) }
    }

    /// Whether one request is allowed, by which rules, and what it gets injected. Deny
    /// wins; a request no rule allows is refused; two matching allows that inject the same
    /// header differently refuse the request.
    public func decideHTTP(_ t: HTTPTarget) -> HTTPDecision {
        let mechanism = "broker (\(t.scheme.rawValue))"
        func refuse(_ rules: [Provenance], note: String, conflict: String? = nil) -> HTTPDecision {
            HTTPDecision(decision: Decision(effect: .deny, rules: rules, mechanism: mechanism, note: note), injections: [], conflict: conflict)
        }
        guard !t.method.isEmpty, t.method.utf8.count <= 32, t.method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            return refuse([], note: "`\(t.method)` is not an HTTP method Warden accepts (uppercase letters only)")
        }
        guard t.path.hasPrefix("/") else { return refuse([], note: "the request path must start with `/`") }
        let matching = http.filter { $0.matches(t) }
        let denies = matching.filter { $0.effect == .deny }
        if !denies.isEmpty { return refuse(denies.map(\.provenance), note: "refused with 403 by the broker") }
        let allows = matching.filter { $0.effect == .allow }
        guard !allows.isEmpty else {
            let hostKnown = http.contains { $0.scheme == t.scheme && $0.pattern.matchesHost(t.host, port: t.port, scheme: $0.scheme) }
            return refuse([], note: hostKnown
                ? "no \(t.scheme.rawValue) rule allows \(t.method) \(t.path) on \(t.host) (default deny; the broker answers 403)"
                : "no \(t.scheme.rawValue) rule names \(t.host):\(t.port) (default deny)")
        }
        var injections: [HeaderInjection] = []
        var byHeader: [String: (HeaderInjection, Provenance)] = [:]
        for a in allows {
            guard let i = a.injection else { continue }
            let key = i.headerName.lowercased()
            if let (other, at) = byHeader[key] {
                if other != i {
                    let conflict = "\(at.location) and \(a.provenance.location) inject \(i.headerName) differently (\(other.secret) and \(i.secret))"
                    return refuse([at, a.provenance], note: "refused: " + conflict, conflict: conflict)
                }
                continue
            }
            byHeader[key] = (i, a.provenance)
            injections.append(i)
        }
        var notes: [String] = []
        if t.isGitReceivePack { notes.append("a git push: every ref update must also be allowed by a `git push` rule") }
        return HTTPDecision(decision: Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: mechanism,
                                               note: notes.isEmpty ? nil : notes.joined(separator: "; ")),
                            injections: injections, conflict: nil)
    }

    /// Whether pushing `ref` to the repository `repoPath` (with or without `.git`) on
    /// `host:port` is allowed by the `git push` rules. Deny wins; deletions are refused by
    /// the broker whatever the rules say (it sees the zero id; this answer is for updates).
    public func decideGitPush(host: String, port: UInt16, repoPath: String, ref: String) -> Decision {
        let mechanism = "broker (git receive-pack)"
        guard RefName.isValid(ref) else {
            return Decision(effect: .deny, rules: [], mechanism: mechanism, note: "`\(ref)` is not a valid full ref name")
        }
        let repo = GitRepoPattern.normalizeRepoPath(repoPath)
        let matching = gitPush.filter {
            $0.repo.matches(host: host, port: port, repoPath: repo, lenient: $0.effect == .deny) && $0.ref.matches(ref)
        }
        let denies = matching.filter { $0.effect == .deny }
        if !denies.isEmpty {
            return Decision(effect: .deny, rules: denies.map(\.provenance), mechanism: mechanism, note: "the whole push is refused")
        }
        let allows = matching.filter { $0.effect == .allow }
        if !allows.isEmpty {
            return Decision(effect: .allow, rules: allows.map(\.provenance), mechanism: mechanism,
                            note: "deleting the ref is refused whatever the rules say; the push also needs an https rule allowing POST .../git-receive-pack")
        }
        return Decision(effect: .deny, rules: [], mechanism: mechanism,
                        note: "no `git push` rule allows \(ref) to \(HTTPHostName.normalize(host))/\(repo) (default deny; the whole push is refused)")
    }
}
