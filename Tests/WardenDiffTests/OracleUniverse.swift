import WardenCompiler
import WardenKernel
import WardenPolicy

/// Every concrete action the oracle decides for one pair of effective policies: a brute
/// force over a universe that provably holds a member of every class of actions the two
/// policies can tell apart, built independently of the diff engines. Where a dimension is
/// reduced to one member per *signature* (the tuple of per-rule predicate values, computed
/// with the compiler's own public predicates), the decision provably depends on the
/// dimension only through that signature, so nothing is lost.
///
/// Why each part is complete (for what OracleGenerator writes, built-ins included):
/// - **Filesystem** (`worldAnswer`): an answer depends on the asked path only through which
///   grant/deny paths cover it, which grant paths lie under it, whether it equals one, and
///   whether it is `/` (`/tmp/...` is asked as `${tmp}/...`). Take S = every rule path of
///   either side, `${home}`, the caches, every ancestor of those, the roots `/`,
///   `${workspace}`, `${home}`, `${tmp}`, and `/tmp`. For any path P let X be its longest
///   prefix in S: if P = X it is in the universe; otherwise X/n is not in S, so no rule path
///   lies under or equals P, and P is covered by exactly the rule paths covering X: P
///   answers like X/`zq-oracle`, which the universe holds. One path per signature (its
///   relations to every rule path) is kept; × read, write, exec.
/// - **Network** (`decideNet`, `decideLookup`): IPv4: 0 and, for every network either side
///   mentions, its first address and the one after its last (between two consecutive such
///   values every address is in exactly the same networks); IPv6: the fixed values that
///   separate the generator's IPv6 networks (one value when neither side has any); names:
///   every mentioned name and wildcard suffix, `zq.` + each (a fresh name's class is set by
///   the longest mentioned name it is under) and `zq.net` (under none); ports: 0, each
///   range's lower end and the port after its upper end, each HTTP port and the next. Only
///   direction/protocol pairs some rule of either side uses (connect tcp also for HTTP rules).
/// - **Syscalls** (`decideSyscall`): only a syscall some allow grant of either side names
///   can be allowed anywhere. Generated conditions test argument 0 or 1 with constants and
///   masks in 0...7: every comparison is constant over 8...2^64-1 and every mask sees only
///   the low three bits, so 0...15 holds every class. Built-in conditions (set-id modes,
///   clone namespace flags, socket families, setsockopt options, TIOCSTI) add, on the
///   arguments they test, each constant k with k-1 and k+1 and each single-bit mask value:
///   the built-ins are disjunctions of single-bit tests or comparisons with constants,
///   which those values separate. Arguments no condition tests stay 0. Conditions test one
///   argument each, so one value per signature (which conditions on the argument hold)
///   is kept, and vectors are all combinations of those.
/// - **Capabilities**: every name either side names and one more (any other is refused on
///   both sides). **Limits**: 1, every value of either side and value+1, and the maximum
///   (a limit is a threshold). **Environment, placeholders, caches**: every name (pair,
///   path) of either side and a fresh one.
/// - **HTTP** (`decideHTTP`): origins (scheme, host as for the network, each rule port) one
///   per signature, without those no rule names (refused on both sides). Methods: every
///   mentioned one and PATCH (TRACE/TRACK are refused on both sides). Paths: a pattern
///   compares the segment count (exactly, or at least with `**`) and, position by position,
///   each segment against the segment patterns at that position exactly (allow) or
///   leniently (deny: letter case, a `.suffix`). Per mentioned segment L the position's
///   alphabet has L, L in upper and lower case, L.json; per glob segment its instantiations
///   ('*' as "" and "1") likewise; and "zq" (matching no literal or glob). Paths of every
///   length 0...n+1 (n: the longest pattern) over those alphabets, each also with a
///   trailing `/`. Every secret some rule of either side injects is probed on each request.
/// - **git push**: as HTTP: repositories each rule names (with `.git`, in upper case,
///   another, a fresh one), on each rule's host and port (and the next port, a fresh host);
///   refs of every length over the alphabet of the ref patterns' segments (and "zq").
struct OracleUniverse {
    var probes: [DiffProbe] = []

    init(old: EffectivePolicy, new: EffectivePolicy) {
        let sides = [old, new]
        addFilesystem(sides)
        addNetwork(sides)
        addSyscalls(sides)
        addCapabilities(sides)
        addGrants(sides)
        addHTTP(sides)
        addGitPush(sides)
        probes.append(.learning(new.identity))
    }

    static let fresh = "zq-oracle"

    // MARK: filesystem

    mutating func addFilesystem(_ sides: [EffectivePolicy]) {
        addCaches(sides)
        // The world is built from the (effect, access, path) of the fs rules alone: when
        // both sides have the same ones, every file access is decided alike.
        func world(_ p: EffectivePolicy) -> Set<[String]> { Set(p.fs.map { [$0.effect.rawValue, $0.access.map(\.rawValue).sorted().joined(separator: ","), $0.path.description] }) }
        guard world(sides[0]) != world(sides[1]) else { return }
        var s: Set<PolicyPath> = [PolicyPath(base: nil, components: []), PolicyPath(base: nil, components: ["tmp"])]
        for v in PathVariable.allCases { s.insert(PolicyPath(base: v, components: [])) }
        for p in sides {
            for g in p.fs { s.insert(g.path) }
            for c in p.caches { s.insert(c) }
        }
        for path in Array(s) {
            var q = path
            while !q.components.isEmpty { q.components.removeLast(); s.insert(q) }
        }
        for path in Array(s) { s.insert(PolicyPath(base: path.base, components: path.components + [Self.fresh])) }
        // One path per signature: how it relates to every rule path (covered by it, above
        // it, equal), as asked and in the agent's view (`/tmp/...` is `${tmp}/...`), and
        // whether it is `/`. The world and the rule decision depend on nothing else.
        let rulePaths = Set(sides.flatMap { $0.fs.map(\.path) } + [PolicyPath(base: .home, components: [])]).sorted { $0.description < $1.description }
        func view(_ p: PolicyPath) -> PolicyPath {
            p.base == nil && p.components.first == "tmp" ? PolicyPath(base: .tmp, components: Array(p.components.dropFirst())) : p
        }
        func covers(_ r: PolicyPath, _ p: PolicyPath) -> Bool { (r.base == nil && r.components.isEmpty) || p.isWithin(r) }
        let ordered = s.sorted { ($0.components.count, $0.description) < ($1.components.count, $1.description) }
        let representatives = Self.distinct(ordered) { p in
            [p.base == nil && p.components.isEmpty] + rulePaths.flatMap { r in
                [covers(r, p), covers(view(r), view(p)), r.isWithin(p), view(r).isWithin(view(p)), r == p, view(r) == view(p)]
            }
        }
        for path in representatives {
            for a in FsAccess.allCases { probes.append(.fs(a, path)) }
        }
    }

    mutating func addCaches(_ sides: [EffectivePolicy]) {
        var caches: Set<PolicyPath> = [PolicyPath(base: .home, components: [Self.fresh])]
        for p in sides { caches.formUnion(p.caches) }
        probes += caches.map { .cache($0) }
    }

    // MARK: network

    /// IPv6 values separating every network the generator writes (fd00::/8, fd00::/127,
    /// fd00::1, ::1): each network's first address and the one after its last, and 0.
    static let ipv6: [String] = ["::", "::1", "::2", "fd00::", "fd00::1", "fd00::2", "fd01::", "fe00::"]

    /// IPv4 representatives: 0 and, for every network either side mentions (net rules,
    /// HTTP and git hosts), its first address and the one after its last. Between two
    /// consecutive values every address lies in exactly the same networks.
    static func ipv4Representatives(_ sides: [EffectivePolicy]) -> [UInt32] {
        var out: Set<UInt32> = [0]
        func add(_ h: EndpointHost) {
            guard case .ipv4(let n) = h else { return }
            let size = n.prefixLength == 0 ? UInt64(1) << 32 : UInt64(1) << UInt64(32 - n.prefixLength)
            out.insert(n.address)
            let after = UInt64(n.address) + size
            if after <= UInt64(UInt32.max) { out.insert(UInt32(after)) }
        }
        for p in sides {
            p.net.forEach { add($0.endpoint.host) }
            p.http.forEach { add($0.pattern.host) }
            p.gitPush.forEach { add($0.repo.host) }
        }
        return out.sorted()
    }

    /// Port representatives likewise: 0, each range's lower end and the port after its
    /// upper end, and each HTTP port and the next (a brokered connect needs the exact port).
    static func portRepresentatives(_ sides: [EffectivePolicy]) -> [UInt16] {
        var out: Set<UInt16> = [0]
        func add(_ lower: UInt16, _ upper: UInt16) {
            out.insert(lower)
            if upper < .max { out.insert(upper + 1) }
        }
        for p in sides {
            p.net.forEach { add($0.endpoint.ports.lower, $0.endpoint.ports.upper) }
            p.http.forEach { add($0.port, $0.port) }
        }
        return out.sorted()
    }

    /// Every domain name the two sides mention (net, HTTP and git hosts) and wildcard suffixes.
    static func names(_ sides: [EffectivePolicy]) -> (names: Set<String>, suffixes: Set<String>) {
        var names: Set<String> = [], suffixes: Set<String> = []
        func add(_ h: EndpointHost) {
            switch h {
            case .domain(let d): names.insert(d)
            case .wildcardDomain(let s): suffixes.insert(s)
            default: break
            }
        }
        for p in sides {
            p.net.forEach { add($0.endpoint.host) }
            p.http.forEach { add($0.pattern.host) }
            p.gitPush.forEach { add($0.repo.host) }
        }
        return (names, suffixes)
    }

    /// Name representatives: each mentioned name and suffix, a fresh label under each, and `zq.net`.
    static func domainRepresentatives(_ sides: [EffectivePolicy]) -> [String] {
        let (names, suffixes) = Self.names(sides)
        let all = names.union(suffixes)
        return (all.union(all.map { "zq." + $0 }).union(["zq.net"])).sorted()
    }

    static func hostRepresentatives(_ sides: [EffectivePolicy]) -> [EndpointHost] {
        func isV6(_ h: EndpointHost) -> Bool { if case .ipv6 = h { return true } else { return false } }
        // Without an IPv6 network on either side, every IPv6 address is in the same class.
        let v6 = sides.contains { p in p.net.contains { isV6($0.endpoint.host) } || p.http.contains { isV6($0.pattern.host) } || p.gitPush.contains { isV6($0.repo.host) } }
        return ipv4Representatives(sides).map { .ipv4(IPv4Network(address: $0, prefixLength: 32)) }
            + (v6 ? ipv6 : ["::1"]).map { HTTPHostName.endpointHost($0)! }
            + domainRepresentatives(sides).map { .domain($0) }
    }

    mutating func addNetwork(_ sides: [EffectivePolicy]) {
        // Not mediated on either side: every connect and bind is refused on both.
        guard sides.contains(where: \.isNetworkMediated) else { return }
        let hosts = Self.hostRepresentatives(sides)
        let ports = Self.portRepresentatives(sides)
        for d in [NetDirection.connect, .bind] {
            for proto in [NetProtocol.tcp, .udp] {
                // No rule of this kind (and, for connect tcp, no HTTP rule) on either side:
                // decideNet finds nothing matching, so both sides refuse.
                let relevant = sides.contains { p in
                    p.net.contains { $0.direction == d && $0.proto == proto } || (d == .connect && proto == .tcp && !p.http.isEmpty)
                }
                guard relevant else { continue }
                for h in hosts {
                    for port in ports { probes.append(.net(d, proto, Endpoint(host: h, ports: PortRange(lower: port, upper: port)))) }
                }
            }
        }
        probes += Self.domainRepresentatives(sides).map { .lookup($0) }
    }

    // MARK: syscalls

    mutating func addSyscalls(_ sides: [EffectivePolicy]) {
        var grants: [String: [SyscallGrant]] = [:]
        for p in sides {
            for g in p.syscalls { grants[g.syscall, default: []].append(g) }
        }
        // A syscall no allow grant of either side names is refused on both.
        let allowed = Set(sides.flatMap { $0.syscalls.filter { $0.effect == .allow }.map(\.syscall) })
        for (name, list) in grants.sorted(by: { $0.key < $1.key }) where allowed.contains(name) {
            // A name that exists on no architecture is no action.
            guard Architecture.allCases.contains(where: { SyscallTable.number(of: name, arch: $0) != nil }) else { continue }
            let conditions = list.flatMap(\.conditions)
            let tested = Set(conditions.map(\.argument)).sorted()
            guard let last = tested.last else {
                probes.append(.syscall(name, arguments: []))
                continue
            }
            // Each condition tests one argument, so a vector's decision depends only on each
            // argument's signature (which conditions on it hold): keep one value per
            // signature, evaluated by the compiler's own decideSyscall on a policy holding
            // just that condition.
            var evaluator = sides[0]
            evaluator.net = []
            evaluator.http = []
            var perArgument: [[UInt64]] = []
            for i in 0...last {
                var values: Set<UInt64> = [0]
                let onArgument = conditions.filter { $0.argument == i }
                if !onArgument.isEmpty {
                    if i <= 1 { values.formUnion(0...15) }
                    for c in onArgument { values.formUnion(Self.values(for: c.test)) }
                }
                perArgument.append(Self.distinct(values.sorted()) { v in
                    onArgument.map { c in
                        var g = list[0]
                        g.effect = .allow
                        g.conditions = [c]
                        evaluator.syscalls = [g]
                        var args = [UInt64](repeating: 0, count: 6)
                        args[i] = v
                        return evaluator.decideSyscall(name, arguments: args).effect == .allow
                    }
                })
            }
            var vectors: [[UInt64]] = [[]]
            for values in perArgument { vectors = vectors.flatMap { v in values.map { v + [$0] } } }
            probes += vectors.map { .syscall(name, arguments: $0) }
        }
    }

    static func values(for test: SyscallCondition.Test) -> [UInt64] {
        func around(_ k: UInt64) -> [UInt64] { [k &- 1, k, k &+ 1] }
        switch test {
        case .compare(_, let k): return around(k)
        case .masked(let mask, let value): return [value, mask, value | (mask & ~value)] + (0..<64).compactMap { mask >> $0 & 1 == 1 ? UInt64(1) << $0 : nil }
        case .oneOf(let vs): return vs.flatMap(around)
        }
    }

    // MARK: limits, environment, placeholders

    mutating func addGrants(_ sides: [EffectivePolicy]) {
        for kind in LimitKind.allCases {
            var amounts: Set<UInt64> = [1, .max]
            for p in sides { if let l = p.limits[kind] { amounts.formUnion([l.value.amount, l.value.amount &+ 1]) } }
            probes += amounts.sorted().map { .limit(kind, amount: $0) }
        }
        var pass: Set<String> = ["ZQ_ORACLE"], set: Set<String> = ["ZQ_ORACLE"]
        var placeholders: Set<[String]> = [["ZQ_ORACLE", "tok"]]
        for p in sides {
            pass.formUnion(p.envPass)
            set.formUnion(p.envSet.map(\.name))
            placeholders.formUnion(p.placeholders.map { [$0.variable, $0.secret] })
        }
        // Every mentioned variable with every mentioned secret.
        let variables = Set(placeholders.map { $0[0] }), secrets = Set(placeholders.map { $0[1] })
        probes += pass.sorted().map { .envPass($0) } + set.sorted().map { .envSet($0) }
        for v in variables.sorted() { for s in secrets.sorted() { probes.append(.placeholder(variable: v, secret: s)) } }
    }

    // MARK: HTTP

    /// Segment instantiations: for a literal, itself, in upper and lower case and with
    /// `.json`; for a glob, `*` as "" and as "1", each likewise; plus a fresh segment.
    static func alphabet(_ segments: Set<String>) -> [String] {
        var out: Set<String> = ["zq"]
        for s in segments where s != "*" && s != "**" {
            for base in [s.replacingStars(with: ""), s.replacingStars(with: "1")] where !base.isEmpty {
                out.formUnion([base, base.uppercased(), base.lowercased(), base + ".json"])
            }
        }
        return out.sorted()
    }

    /// Every path of 0...n+1 segments (n: the longest pattern), position i over the
    /// alphabet of the patterns' segments at position i (from n on only "zq": no pattern
    /// compares those positions).
    /// `reduce` keeps one segment per class at a position (given the position's patterns).
    static func paths(_ patterns: [[String]], reduce: (_ position: Int, _ segments: [String]) -> [String] = { $1 }) -> [[String]] {
        let n = patterns.map(\.count).max() ?? 0
        var out: [[String]] = [[]]
        var level: [[String]] = [[]]
        for position in 0...n {
            let letters = position < n ? reduce(position, alphabet(Set(patterns.compactMap { position < $0.count ? $0[position] : nil }))) : ["zq"]
            level = level.flatMap { p in letters.map { p + [$0] } }
            out += level
        }
        return out
    }

    /// Candidates of one dimension, one per distinct signature (the tuple of per-rule
    /// predicate values): a request's decision depends on a dimension only through it.
    static func distinct<T, K: Hashable>(_ candidates: [T], signature: (T) -> K) -> [T] {
        var seen: Set<K> = []
        return candidates.filter { seen.insert(signature($0)).inserted }
    }

    mutating func addHTTP(_ sides: [EffectivePolicy]) {
        // A rule matches a request iff scheme, host and port, method and path each match
        // (HTTPGrant.matches is that conjunction), so the decision depends on the request
        // only through the per-dimension signatures below and the broker's refusal of the
        // path; one request per combination of distinct signatures covers every class.
        let rules = sides.flatMap(\.http)
        guard !rules.isEmpty else { return }
        var methods = Set(rules.compactMap(\.methods).flatMap { $0 })
        methods.insert("PATCH")
        // A segment at position i matters only through the rules' segment patterns at i,
        // matched exactly and leniently: one segment per signature (with lowercase, the
        // lenient match, on the whole path, this is per segment too).
        let pathTexts = Self.paths(rules.map(\.pattern.segments)) { i, letters in
            let single = rules.filter { $0.pattern.segments.count > i }.map {
                HTTPPattern(host: $0.pattern.host, port: nil, segments: [$0.pattern.segments[i]], trailingGlob: false)
            }
            return Self.distinct(letters) { x in single.flatMap { [$0.matchesPath("/" + x), $0.matchesPath("/" + x, lenient: true)] } }
        }.flatMap { p -> [String] in
            let text = "/" + p.joined(separator: "/")
            return p.isEmpty ? [text] : [text, text + "/"]
        }
        let hosts = Self.hostRepresentatives(sides).compactMap { h -> String? in
            switch h {
            case .ipv4(let n): return n.description
            case .ipv6(let n): return n.description
            case .domain(let d): return d
            default: return nil
            }
        }
        // Only a rule's own port can match (any other origin is refused on both sides).
        var origins: [(HTTPScheme, String, UInt16)] = []
        var seen: Set<[Bool]> = []
        for scheme in HTTPScheme.allCases {
            for port in Set(rules.filter { $0.scheme == scheme }.map(\.port)).sorted() {
                for h in hosts {
                    let signature = rules.map { $0.scheme == scheme && $0.port == port && $0.pattern.matchesHost(h, port: port, scheme: scheme) }
                    if signature.contains(true), seen.insert(signature).inserted { origins.append((scheme, h, port)) }
                }
            }
        }
        let methodReps = Self.distinct(methods.sorted()) { m in rules.map { $0.methods?.contains(m) ?? true } }
        let pathReps = Self.distinct(pathTexts) { path in
            rules.map { $0.pattern.matchesPath(path, lenient: $0.effect == .deny) }
                + [HTTPTarget(scheme: .https, method: "GET", host: "a.org", port: 443, path: path).brokerRefusal != nil]
        }
        let secrets = Set(rules.compactMap(\.injection?.secret)).sorted()
        for (scheme, host, port) in origins {
            for method in methodReps {
                for path in pathReps {
                    let t = HTTPTarget(scheme: scheme, method: method, host: host, port: port, path: path)
                    probes.append(.http(t))
                    for s in secrets { probes.append(.httpInjection(t, secret: s)) }
                }
            }
        }
    }

    // MARK: git push

    mutating func addGitPush(_ sides: [EffectivePolicy]) {
        // As for HTTP: a rule matches a push iff its repository (host, port, path) and its
        // ref pattern match, and an invalid ref is refused; one push per combination of
        // distinct repository and ref signatures.
        let rules = sides.flatMap(\.gitPush)
        guard !rules.isEmpty else { return }
        var repos: Set<String> = ["o/zq"]
        var hostPorts: Set<[String]> = [["zq.net", "443"]]
        for r in rules {
            repos.formUnion([r.repo.path, r.repo.path + ".git", r.repo.path.uppercased(), "/" + r.repo.path, r.repo.path + "zq"])
            let host = HTTPHostName.normalize(r.repo.host.description.trimmingCharacters(in: "[]"))
            hostPorts.formUnion([[host, String(r.repo.effectivePort)], [host, String(r.repo.effectivePort &+ 1)], ["zq." + host, String(r.repo.effectivePort)]])
        }
        // A repository matches iff its host and port and its path do: one host/port and
        // one path per signature (each asked with the other part of the rule's own).
        let hostReps = Self.distinct(hostPorts.sorted(by: { $0.joined() < $1.joined() })) { hp in
            rules.map { $0.repo.matches(host: hp[0], port: UInt16(hp[1])!, repoPath: $0.repo.path) }
        }
        let repoReps = Self.distinct(repos.sorted()) { path in
            rules.map { r in
                r.repo.matches(host: HTTPHostName.normalize(r.repo.host.description.trimmingCharacters(in: "[]")), port: r.repo.effectivePort,
                               repoPath: path, lenient: r.effect == .deny)
            }
        }
        // One segment per signature at each position (the rules' segment patterns there,
        // exact and lenient), then one ref per signature.
        let refs = Self.paths(rules.map(\.ref.segments)) { i, letters in
            let single = rules.filter { $0.ref.segments.count > i }.map { r -> RefPattern in
                var one = r.ref
                one.segments = [r.ref.segments[i]]
                one.trailingGlob = false
                return one
            }
            return Self.distinct(letters) { x in single.flatMap { [$0.matches(x), $0.matches(x, lenient: true)] } }
        }.map { $0.joined(separator: "/") }.filter { $0.hasPrefix("refs/") }
        let refReps = Self.distinct(refs) { ref in rules.map { $0.ref.matches(ref, lenient: $0.effect == .deny) } + [RefName.isValid(ref)] }
        for hp in hostReps {
            for repo in repoReps {
                for ref in refReps { probes.append(.gitPush(host: hp[0], port: UInt16(hp[1])!, repoPath: repo, ref: ref)) }
            }
        }
    }

    // MARK: capabilities

    mutating func addCapabilities(_ sides: [EffectivePolicy]) {
        // A capability no rule of either side names is refused on both.
        let named = Set(sides.flatMap { $0.capabilities.map(\.name) })
        let fresh = Capabilities.all.first { !named.contains($0) }
        probes += (named.sorted() + (fresh.map { [$0] } ?? [])).map { .capability($0) }
    }
}

extension String {
    func replacingStars(with s: String) -> String { split(separator: "*", omittingEmptySubsequences: false).joined(separator: s) }
    func trimmingCharacters(in set: String) -> String {
        var t = Substring(self)
        while let f = t.first, set.contains(f) { t.removeFirst() }
        while let l = t.last, set.contains(l) { t.removeLast() }
        return String(t)
    }
}
