import WardenKernel
import WardenPolicy

/// One identity's policy after `use` and `include` are flattened and Warden's built-in
/// safeguards are added. Deny-over-allow is resolved by the `decide…` queries and by the
/// artifact builders; every grant keeps the provenance of the rule that caused it.
public struct EffectivePolicy: Sendable {
    public var identity: String
    /// The policy's triggers that start this identity (`warden diff` compares them; the
    /// runtime never reads them).
    public var triggers: [CheckedTrigger] = []
    public var description: String?
    public var fs: [FsGrant]
    public var net: [NetGrant]
    public var syscalls: [SyscallGrant]
    public var capabilities: [CapabilityGrant]
    public var limits: [LimitKind: LimitGrant]
    /// Environment variables passed through from Warden's environment, in order.
    public var envPass: [String]
    /// Environment variables set to fixed values, in order.
    public var envSet: [(name: String, value: String)]
    /// The paths of `cache` statements (below `${home}`), in order, each once: the runtime
    /// backs each with the identity's persistent store instead of the host's directory.
    public var caches: [PolicyPath] = []
    /// `http`/`https` rule items, in rule order.
    public var http: [HTTPGrant] = []
    /// `git push` rule items (one per ref pattern), in rule order.
    public var gitPush: [GitPushGrant] = []
    /// The secrets this identity uses (named by a `with` or an `env placeholder`), in
    /// order of first use. Only these are resolved at launch.
    public var secrets: [SecretDeclaration] = []
    /// `env placeholder` pairs (variable, secret), in order.
    public var placeholders: [(variable: String, secret: String)] = []
    /// Marked `enforce-only`: `warden learn` refuses to run the identity.
    public var enforceOnly = false
}

/// A filesystem rule item: one path and its access kinds.
public struct FsGrant: Sendable, Hashable {
    public var effect: Effect
    public var access: Set<FsAccess>
    public var path: PolicyPath
    public var provenance: Provenance
    /// Written with `create`: the run creates the path's missing directories before launch.
    public var createsPath = false
}

/// A network rule item: one endpoint pattern.
public struct NetGrant: Sendable, Hashable {
    public var effect: Effect
    public var direction: NetDirection
    public var proto: NetProtocol
    public var endpoint: Endpoint
    public var provenance: Provenance
}

/// A syscall rule item for one syscall (groups are expanded).
public struct SyscallGrant: Sendable, Hashable {
    public var effect: Effect
    public var syscall: String
    /// All must hold; empty means unconditionally.
    public var conditions: [SyscallCondition]
    /// The errno a deny returns.
    public var errno: Int32
    public var provenance: Provenance
}

/// A capability rule item.
public struct CapabilityGrant: Sendable, Hashable {
    public var effect: Effect
    /// Canonical name, `CAP_NET_BIND_SERVICE`.
    public var name: String
    public var provenance: Provenance
}

/// A limit and where it was set.
public struct LimitGrant: Sendable, Hashable {
    public var value: LimitValue
    public var provenance: Provenance
}

/// Why an effective policy could not be built.
public enum EffectivePolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownIdentity(String, available: [String])
    case identityRequired(available: [String])
    case unsafeGrant(String, at: String)

    public var description: String {
        switch self {
        case .unknownIdentity(let name, let available):
            return "no identity named `\(name)`; the policy defines: \(available.joined(separator: ", "))"
        case .identityRequired(let available):
            return available.isEmpty
                ? "the policy defines no identity"
                : "the policy defines several identities; choose one with --identity: \(available.joined(separator: ", "))"
        case .unsafeGrant(let message, let location):
            return "\(location): \(message)"
        }
    }
}

extension EffectivePolicy {
    /// The identity to use: `name` when given, else the only one the policy defines.
    public static func selectIdentity(_ name: String?, in policy: CheckedPolicy) throws(EffectivePolicyError) -> String {
        let names = policy.identities.keys.sorted()
        if let name {
            guard policy.identities[name] != nil else { throw .unknownIdentity(name, available: names) }
            return name
        }
        guard names.count == 1 else { throw .identityRequired(available: names) }
        return names[0]
    }

    /// Flattens `identity` of a checked (error-free) policy and adds the built-in safeguards.
    public init(policy: CheckedPolicy, identity name: String) throws(EffectivePolicyError) {
        guard let identity = policy.identities[name] else {
            throw .unknownIdentity(name, available: policy.identities.keys.sorted())
        }
        let sources = policy.sources
        func label(_ rule: EffectiveRule) -> String {
            guard let source = sources[rule.ruleSpan.file] else { return "\(rule.effect.rawValue) rule" }
            let text = source.lineText(rule.ruleSpan.start.line).trimmingWhitespace()
            return text.count > 120 ? String(text.prefix(117)) + "..." : text
        }

        self.identity = name
        self.triggers = policy.triggers.filter { $0.identity == name }
        self.description = identity.description
        self.enforceOnly = identity.enforceOnly
        self.fs = []
        self.net = []
        self.syscalls = []
        self.capabilities = []
        self.limits = [:]
        self.envPass = identity.envPass
        self.envSet = identity.envSet
        for rule in identity.rules where rule.cache {
            if case .fs(_, let path) = rule.action, !caches.contains(path) { caches.append(path) }
        }

        // Allows of the ID-switch calls that came with a broad group (`@default`).
        var incidentalIDSwitch: Set<Int> = []
        for rule in identity.rules {
            let provenance = Provenance(rule, label: label(rule))
            switch rule.action {
            case .fs(let access, let path):
                fs.append(FsGrant(effect: rule.effect, access: Set(access), path: path, provenance: provenance,
                                  createsPath: rule.creates))
            case .net(let direction, let proto, let endpoint):
                net.append(NetGrant(effect: rule.effect, direction: direction, proto: proto,
                                    endpoint: endpoint, provenance: provenance))
            case .syscall(let match):
                let incidental = match.group.map { !BuiltinSafeguards.idSwitchGroups.contains($0) } ?? false
                for syscall in match.syscalls {
                    if incidental, rule.effect == .allow, BuiltinSafeguards.idSwitch.contains(syscall) {
                        incidentalIDSwitch.insert(syscalls.count)
                    }
                    if rule.effect == .allow, syscall.hasPrefix("io_uring"), rule.because == nil {
                        throw .unsafeGrant("allowing \(syscall) needs a `because` reason: io_uring performs file and socket operations that seccomp cannot see",
                                           at: provenance.location)
                    }
                    syscalls.append(SyscallGrant(effect: rule.effect, syscall: syscall, conditions: match.conditions,
                                                 errno: match.errno ?? BuiltinSafeguards.defaultErrno,
                                                 provenance: provenance))
                }
            case .capability(let cap):
                capabilities.append(CapabilityGrant(effect: rule.effect, name: cap, provenance: provenance))
            case .http(let a):
                http.append(HTTPGrant(effect: rule.effect, scheme: a.scheme, methods: a.methods, pattern: a.pattern,
                                      injection: rule.effect == .allow ? a.injection : nil, provenance: provenance))
            case .gitPush(let repo, let ref):
                gitPush.append(GitPushGrant(effect: rule.effect, repo: repo, ref: ref, provenance: provenance))
            }
        }
        placeholders = identity.placeholders
        var used: [String] = []
        for name in http.compactMap(\.injection?.secret) + placeholders.map(\.secret) where !used.contains(name) { used.append(name) }
        secrets = used.compactMap { policy.secrets[$0] }
        for (kind, limit) in identity.limits {
            limits[kind] = LimitGrant(value: limit.value, provenance: Provenance(
                file: limit.span.file, line: limit.span.start.line, column: limit.span.start.column,
                via: [], because: nil, rule: "limit \(kind.rawValue) \(limit.value.canonical)"))
        }
        BuiltinSafeguards.applyIDSwitch(to: &self, incidentalAllows: incidentalIDSwitch)
        BuiltinSafeguards.apply(to: &self)
        // `create` makes directories only where this identity may write (no deny, the
        // built-in safeguards included, covers the path).
        for grant in fs where grant.createsPath {
            let decision = decideFs(.write, grant.path)
            if decision.effect == .deny {
                let by = decision.rules.first.map { " (denied by \($0.location): \($0.rule))" } ?? ""
                throw .unsafeGrant("`create` on \(grant.path): identity \(name) may not write there\(by), so the run will not create it",
                                   at: grant.provenance.location)
            }
        }
    }

    /// The paths the run creates before launch (fs grants written with `create`), in
    /// policy order, without duplicates.
    public var createdPaths: [PolicyPath] {
        var seen: Set<PolicyPath> = []
        return fs.filter(\.createsPath).map(\.path).filter { seen.insert($0).inserted }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
