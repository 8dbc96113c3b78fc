import WardenPolicy

/// Everything in an effective policy that the decision functions read (`decideFs`,
/// `worldAnswer`, `decideNet`, `decideLookup`, `decideHTTP`, `decideGitPush`,
/// `decideSyscall`, `decideCapability`, limits, environment, placeholders, caches,
/// `enforce-only`), in rule order, without provenance: rule locations, `because` texts,
/// `use` chains, labels and condition spans. Two identities with equal inputs decide every
/// probe alike, so `PolicyDiffer` calls them equivalent without any domain work (the
/// short-cut that keeps a one-line change to a 1,000-identity policy fast).
///
/// Order is kept (it is compared as written): two policies that list the same rules in a
/// different order are merely not short-cut, and the domains then compare them exactly.
struct DecisionInputs: Equatable {
    struct Fs: Equatable { var effect: Effect; var access: Set<FsAccess>; var path: PolicyPath; var createsPath: Bool }
    struct Net: Equatable { var effect: Effect; var direction: NetDirection; var proto: NetProtocol; var endpoint: Endpoint }
    struct Condition: Equatable { var argument: Int; var is32Bit: Bool; var test: SyscallCondition.Test }
    struct Syscall: Equatable { var effect: Effect; var name: String; var conditions: [Condition]; var errno: Int32 }
    struct Capability: Equatable { var effect: Effect; var name: String }
    struct HTTP: Equatable {
        var effect: Effect; var scheme: HTTPScheme; var methods: [String]?; var pattern: HTTPPattern; var injection: HeaderInjection?
    }
    struct GitPush: Equatable { var effect: Effect; var repo: GitRepoPattern; var ref: RefPattern }
    struct Pair: Equatable { var first: String; var second: String }
    struct Secret: Equatable { var name: String; var source: SecretSource }

    var fs: [Fs]
    var net: [Net]
    var syscalls: [Syscall]
    var capabilities: [Capability]
    var limits: [LimitKind: LimitValue]
    var envPass: [String]
    var envSet: [Pair]
    var caches: [PolicyPath]
    var http: [HTTP]
    var gitPush: [GitPush]
    var secrets: [Secret]
    var placeholders: [Pair]
    var enforceOnly: Bool
    /// What decides whether an event starts the identity through each of its triggers.
    var triggers: [TriggerDiff.AuthorizationPart]
    /// How much each trigger may start (`budget`), by trigger name.
    var triggerBudgets: [String: TriggerBudgetProbe.Bounds]

    init(_ p: EffectivePolicy) {
        fs = p.fs.map { Fs(effect: $0.effect, access: $0.access, path: $0.path, createsPath: $0.createsPath) }
        net = p.net.map { Net(effect: $0.effect, direction: $0.direction, proto: $0.proto, endpoint: $0.endpoint) }
        syscalls = p.syscalls.map { g in
            Syscall(effect: g.effect, name: g.syscall,
                    conditions: g.conditions.map { Condition(argument: $0.argument, is32Bit: $0.is32Bit, test: $0.test) },
                    errno: g.errno)
        }
        capabilities = p.capabilities.map { Capability(effect: $0.effect, name: $0.name) }
        limits = p.limits.mapValues(\.value)
        envPass = p.envPass
        envSet = p.envSet.map { Pair(first: $0.name, second: $0.value) }
        caches = p.caches
        http = p.http.map { HTTP(effect: $0.effect, scheme: $0.scheme, methods: $0.methods, pattern: $0.pattern, injection: $0.injection) }
        gitPush = p.gitPush.map { GitPush(effect: $0.effect, repo: $0.repo, ref: $0.ref) }
        secrets = p.secrets.map { Secret(name: $0.name, source: $0.source) }
        placeholders = p.placeholders.map { Pair(first: $0.variable, second: $0.secret) }
        enforceOnly = p.enforceOnly
        triggers = p.triggers.map(TriggerDiff.authorizationPart)
        triggerBudgets = Dictionary(p.triggers.map { ($0.name, TriggerBudgetProbe.Bounds($0.budget)) }, uniquingKeysWith: { a, _ in a })
    }
}
