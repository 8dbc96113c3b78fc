#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import WardenKernel
import WardenPolicy

/// Every enforcement layer of one identity, with the provenance of each decision; what
/// `warden compile --emit plan` prints. Paths stay unexpanded (they bind at launch).
public struct EnforcementPlan: Sendable, Encodable {
    public struct SeccompSection: Sendable, Codable {
        public struct Rule: Sendable, Codable {
            public var syscall: String
            public var effect: String
            public var conditions: [String]
            public var errno: String?
            public var source: String
        }
        public var arch: String
        public var defaultAction: String
        public var badArchAction = "kill-process"
        public var rules: [Rule]
        public var instructions: Int
    }

    public struct CapabilitySection: Sendable, Codable {
        public var bounding: [String]
        public var permitted: [String]
        public var effective: [String]
        public var inheritable: [String]
        public var ambient: [String]
        public var sources: [Provenance]
    }

    public struct NetworkSection: Sendable, Codable {
        public struct Rule: Sendable, Codable {
            public var effect: String
            public var direction: String
            public var proto: String
            public var endpoint: String
            public var source: Provenance
        }
        /// `none`: a network namespace with loopback only; `mediated`: the allowlist below.
        public var mode: String
        public var rules: [Rule]
    }

    /// HTTP rules, git push rules and secrets: what the broker enforces (absent when the
    /// identity has none). Secrets appear by name and source, never by value.
    public struct BrokerSection: Sendable, Codable {
        public struct HTTPRule: Sendable, Codable {
            public var effect: String
            public var scheme: String
            /// `["GET", "HEAD"]`, or `["*"]` for any method.
            public var methods: [String]
            public var pattern: String
            public var port: UInt16
            /// `Authorization: bearer gh-token` (header, form and secret name).
            public var injects: String?
            public var source: Provenance
        }
        public struct GitPushRule: Sendable, Codable {
            public var effect: String
            public var repository: String
            public var ref: String
            public var source: Provenance
        }
        public struct Secret: Sendable, Codable {
            public var name: String
            /// `env`, `file` or `command`.
            public var source: String
            /// The variable name, the file path, or the command's argv.
            public var from: [String]
            public var declared: String
            /// Where the broker may inject it or replace its placeholder.
            public var hosts: [String]
        }
        public struct Placeholder: Sendable, Codable {
            public var variable: String
            public var secret: String
        }
        public var http: [HTTPRule]
        public var gitPush: [GitPushRule]
        public var secrets: [Secret]
        public var placeholders: [Placeholder]
        /// `https://api.github.com:443`: connections to these go to the broker.
        public var brokeredEndpoints: [String]
    }

    public struct LimitEntry: Sendable, Codable {
        public var value: String
        public var amount: UInt64
        public var source: Provenance
    }

    public struct EnvSection: Sendable, Codable {
        public var pass: [String]
        public var set: [String: String]
    }

    public var identity: String
    public var description: String?
    public var namespaces: [String]
    public var filesystem: FilesystemPlan
    public var capabilities: CapabilitySection
    public var seccomp: SeccompSection
    public var network: NetworkSection
    public var broker: BrokerSection?
    public var limits: [String: LimitEntry]
    public var env: EnvSection
    public var noNewPrivileges = true

    /// Deterministic JSON (sorted keys), identical for identical input.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension EffectivePolicy {
    /// The capabilities the agent ends with: allowed and not denied, as canonical names.
    public var grantedCapabilities: [String] {
        let denied = Set(capabilities.filter { $0.effect == .deny }.map(\.name))
        return Set(capabilities.filter { $0.effect == .allow && !denied.contains($0.name) }.map(\.name)).sorted()
    }

    /// The namespaces the agent runs in.
    public var namespaces: [String] {
        var list = ["mount", "pid", "ipc", "uts", "cgroup"]
        if !isNetworkMediated { list.append("network") }
        return list
    }

    /// Builds the full plan, compiling the seccomp filter for `arch`.
    public func enforcementPlan(arch: Architecture = .native, notify: Bool = true) throws(SeccompCompileError) -> (plan: EnforcementPlan, filter: SeccompFilter) {
        let filter = try SeccompCompiler.compile(seccompPolicy(arch: arch, notify: notify))
        return (enforcementPlan(compiled: filter), filter)
    }

    /// Builds the full plan around a filter already compiled from this identity's
    /// `seccompPolicy(arch:notify:)` (so a launch compiles the filter once, not twice).
    public func enforcementPlan(compiled filter: SeccompFilter) -> EnforcementPlan {
        let seccomp = filter.policy
        let arch = seccomp.arch
        let errnoText = { (e: Int32?) in e.map { ErrnoNames.name(of: $0) ?? String($0) } }
        let clone3 = EnforcementPlan.SeccompSection.Rule(
            syscall: "clone3", effect: "deny", conditions: [], errno: "ENOSYS",
            source: "built-in: clone3 → ENOSYS (libc falls back to clone, whose flags the filter can check)")
        let rules = [clone3] + seccomp.rules.map {
            EnforcementPlan.SeccompSection.Rule(syscall: $0.syscall, effect: $0.effect.rawValue,
                                                conditions: $0.conditions.map(\.description),
                                                errno: errnoText($0.errno), source: $0.source)
        }
        let defaultAction: String
        switch seccomp.defaultDeny {
        case .notify: defaultAction = "notify (recorded, then EPERM or the rule's errno)"
        case .errno(let e): defaultAction = "errno \(errnoText(e) ?? "")"
        case .kill: defaultAction = "kill-process"
        }
        let caps = grantedCapabilities
        let plan = EnforcementPlan(
            identity: identity,
            description: description,
            namespaces: namespaces,
            filesystem: filesystemPlan,
            capabilities: .init(bounding: caps, permitted: caps, effective: caps, inheritable: caps, ambient: caps,
                                sources: capabilities.map(\.provenance)),
            seccomp: .init(arch: arch.rawValue, defaultAction: defaultAction, rules: rules,
                           instructions: filter.program.count),
            network: .init(mode: isNetworkMediated ? "mediated" : "none", rules: net.map {
                .init(effect: $0.effect.rawValue, direction: $0.direction.rawValue, proto: $0.proto.rawValue,
                      endpoint: $0.endpoint.description, source: $0.provenance)
            }),
            broker: brokerSection,
            limits: Dictionary(uniqueKeysWithValues: limits.map { kind, grant in
                (kind.rawValue, EnforcementPlan.LimitEntry(value: grant.value.canonical, amount: grant.value.amount,
                                                           source: grant.provenance))
            }),
            env: .init(pass: envPass, set: Dictionary(envSet.map { ($0.name, $0.value) }, uniquingKeysWith: { _, b in b })))
        return plan
    }
}

extension EffectivePolicy {
    /// The broker part of the plan; nil for an identity without http, git push rules or secrets.
    var brokerSection: EnforcementPlan.BrokerSection? {
        guard !http.isEmpty || !gitPush.isEmpty || !secrets.isEmpty || !placeholders.isEmpty else { return nil }
        return EnforcementPlan.BrokerSection(
            http: http.map {
                .init(effect: $0.effect.rawValue, scheme: $0.scheme.rawValue, methods: $0.methods ?? ["*"],
                      pattern: $0.pattern.description, port: $0.port, injects: $0.injection?.description, source: $0.provenance)
            },
            gitPush: gitPush.map {
                .init(effect: $0.effect.rawValue, repository: $0.repo.description, ref: $0.ref.description, source: $0.provenance)
            },
            secrets: secrets.map { s in
                let from: [String]
                switch s.source {
                case .env(let v): from = [v]
                case .file(let p): from = [p]
                case .command(let argv): from = argv
                }
                return .init(name: s.name, source: s.source.kind.rawValue, from: from, declared: s.provenance,
                             hosts: secretHosts(s.name).map(\.description))
            },
            placeholders: placeholders.map { .init(variable: $0.variable, secret: $0.secret) },
            brokeredEndpoints: brokeredEndpoints.map(\.description))
    }
}
