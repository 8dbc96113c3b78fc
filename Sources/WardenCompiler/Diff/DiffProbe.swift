import WardenKernel
import WardenPolicy

/// One concrete action the diff decides on both sides. Every witness carries one, so a
/// reported difference is re-checked with the compiler's own decision functions.
public enum DiffProbe: Sendable, Hashable {
    /// The identity exists (allowed) or not (denied).
    case identityExists(String)
    /// `warden learn` may run the identity (it is not marked `enforce-only`).
    case learning(String)
    /// A file access to the host's file as the agent's world answers it
    /// (`EffectivePolicy.worldAnswer`); an access that lands only in the run's fresh home
    /// counts as denied (it reaches nothing of the host).
    case fs(FsAccess, PolicyPath)
    /// A concrete endpoint (one host, one port).
    case net(NetDirection, NetProtocol, Endpoint)
    /// A DNS lookup answered by Warden's resolver.
    case lookup(String)
    case syscall(String, arguments: [UInt64])
    /// Canonical `CAP_…` name.
    case capability(String)
    case http(HTTPTarget)
    /// The request is allowed and carries `secret` (in the header its rule injects).
    case httpInjection(HTTPTarget, secret: String)
    case gitPush(host: String, port: UInt16, repoPath: String, ref: String)
    /// The run may use `amount` of the limit's resource (allowed when no limit is set or
    /// `amount` is within it).
    case limit(LimitKind, amount: UInt64)
    /// The variable is passed from Warden's environment.
    case envPass(String)
    /// The variable is set (to any value) by `env set`; a changed value is not a permission.
    case envSet(String)
    /// The variable holds a placeholder of `secret`.
    case placeholder(variable: String, secret: String)
    /// The path is backed by the identity's persistent store (kept across runs).
    case cache(PolicyPath)
    /// An event that may start the identity through a trigger.
    case trigger(TriggerEvent)
    /// Trigger `trigger` may start `amount` of what its budget counts (runs or run time in
    /// one `window`, or runs at once) — allowed when it has no such budget or the amount fits.
    case triggerBudget(trigger: String, TriggerBudgetProbe)

    public var domain: DiffDomain {
        switch self {
        case .identityExists, .learning: return .identity
        case .fs: return .filesystem
        case .net, .lookup: return .network
        case .syscall: return .syscall
        case .capability: return .capability
        case .http: return .http
        case .httpInjection, .placeholder: return .secret
        case .gitPush: return .gitPush
        case .limit: return .limit
        case .envPass, .envSet: return .environment
        case .cache: return .cache
        case .trigger, .triggerBudget: return .trigger
        }
    }

    /// The action in words: `write ${workspace}/x`, `connect tcp 10.0.0.1:443`.
    public var action: String {
        switch self {
        case .identityExists(let n): return "identity \(n) exists"
        case .learning(let n): return "warden learn runs identity \(n)"
        case .fs(let a, let p): return "\(a.rawValue) \(p)"
        case .net(let d, let p, let e): return "\(d.rawValue) \(p.rawValue) \(e)"
        case .lookup(let name): return "DNS lookup of \(name)"
        case .syscall(let name, let args):
            return args.isEmpty ? "syscall \(name)" : "syscall \(name)(\(args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")))"
        case .capability(let c): return "capability \(c)"
        case .http(let t): return t.description
        case .httpInjection(let t, let s): return "\(t.description) carrying secret \(s)"
        case .gitPush(let h, let port, let r, let ref): return "git push \(ref) to \(Self.repoText(h, port, r))"
        case .limit(let k, let amount): return "use \(Self.amountText(k, amount)) of \(k.rawValue)"
        case .envPass(let v): return "receive $\(v) from Warden's environment"
        case .envSet(let v): return "receive $\(v) set by the policy"
        case .placeholder(let v, let s): return "receive a placeholder of secret \(s) in $\(v)"
        case .cache(let p): return "keep \(p) across runs (cache)"
        case .trigger(let e): return "start by trigger event \(e.words)"
        case .triggerBudget(let t, let b): return "trigger \(t): \(b.action)"
        }
    }

    /// The arguments after `warden explain POLICY --identity NAME` that ask about this
    /// action; empty when explain cannot ask it.
    public var explainArguments: [String] {
        switch self {
        case .fs(let a, let p): return ["--fs", a.rawValue, p.description]
        case .net(let d, let p, let e): return [d == .connect ? "--connect" : "--bind", p.rawValue, e.description]
        case .syscall(let name, let args):
            return ["--syscall", args.isEmpty ? name : name + ":" + args.map { "0x" + String($0, radix: 16) }.joined(separator: ",")]
        case .capability(let c): return ["--capability", c]
        case .http(let t), .httpInjection(let t, _): return ["--https", t.method, Self.url(t)]
        case .gitPush(let h, let port, let r, let ref): return ["--git-push", Self.repoText(h, port, r), ref]
        case .trigger(let e): return ["--trigger"] + TriggerDiff.explainWords(e)
        default: return []
        }
    }

    /// The decision in `policy` (nil: the identity does not exist there, so all is denied).
    public func decision(in policy: EffectivePolicy?) -> Decision {
        guard let p = policy else {
            return Decision(effect: .deny, rules: [], mechanism: "policy", note: "the identity does not exist in this version")
        }
        switch self {
        case .identityExists:
            return Decision(effect: .allow, rules: [], mechanism: "policy", note: "the identity exists")
        case .learning:
            return p.enforceOnly
                ? Decision(effect: .deny, rules: [], mechanism: "warden learn", note: "the identity is marked enforce-only")
                : Decision(effect: .allow, rules: [], mechanism: "warden learn", note: "the identity is not marked enforce-only")
        case .fs(let access, let path):
            let rules = p.decideFs(access, path)
            let world = p.worldAnswer(access, path)
            // The run's fresh home holds nothing of the host: an access only there reaches
            // no host file, so granting the real home (or a part of it) is a widening.
            return Decision(effect: world.allowed && !world.inFreshHome ? .allow : .deny, rules: rules.rules, mechanism: world.mechanism,
                            note: world.inFreshHome ? "only in the run's fresh home, never the host's: " + world.statement : world.statement)
        case .net(let d, let proto, let e): return p.decideNet(d, proto, e)
        case .lookup(let name): return p.decideLookup(name)
        case .syscall(let name, let args): return p.decideSyscall(name, arguments: args)
        case .capability(let c): return p.decideCapability(c)
        case .http(let t): return p.decideHTTP(t).decision
        case .httpInjection(let t, let secret):
            let d = p.decideHTTP(t)
            if d.decision.effect == .allow, d.injections.contains(where: { $0.secret == secret }) { return d.decision }
            var out = d.decision
            out.effect = .deny
            out.note = d.decision.effect == .allow ? "allowed, without secret \(secret)" : d.decision.note
            return out
        case .gitPush(let h, let port, let r, let ref): return p.decideGitPush(host: h, port: port, repoPath: r, ref: ref)
        case .limit(let kind, let amount):
            guard let limit = p.limits[kind] else {
                return Decision(effect: .allow, rules: [], mechanism: "limits", note: "no \(kind.rawValue) limit is set")
            }
            return Decision(effect: amount <= limit.value.amount ? .allow : .deny, rules: [limit.provenance], mechanism: "limits",
                            note: "limit \(kind.rawValue) \(limit.value.canonical)")
        case .envPass(let v):
            return p.envPass.contains(v)
                ? Decision(effect: .allow, rules: [], mechanism: "environment", note: "env pass \(v)")
                : Decision(effect: .deny, rules: [], mechanism: "environment", note: "not passed")
        case .envSet(let v):
            return p.envSet.contains(where: { $0.name == v })
                ? Decision(effect: .allow, rules: [], mechanism: "environment", note: "env set \(v)")
                : Decision(effect: .deny, rules: [], mechanism: "environment", note: "not set")
        case .placeholder(let v, let s):
            return p.placeholders.contains(where: { $0.variable == v && $0.secret == s })
                ? Decision(effect: .allow, rules: [], mechanism: "broker placeholder", note: "env placeholder \(v) = \(s)")
                : Decision(effect: .deny, rules: [], mechanism: "broker placeholder", note: "no such placeholder")
        case .cache(let path):
            return p.caches.contains(path)
                ? Decision(effect: .allow, rules: p.fs.filter { $0.path == path && $0.effect == .allow }.map(\.provenance), mechanism: "cache store", note: "cache \(path)")
                : Decision(effect: .deny, rules: [], mechanism: "cache store", note: "not a cache")
        case .trigger(let event):
            return TriggerAuthorizer(triggers: p.triggers).decision(event, identity: p.identity)
        case .triggerBudget(let name, let probe):
            guard let trigger = p.triggers.first(where: { $0.name == name }) else {
                return Decision(effect: .deny, rules: [], mechanism: "trigger budget", note: "no trigger \(name) starts the identity")
            }
            return probe.decision(trigger.budget)
        }
    }

    static func repoText(_ host: String, _ port: UInt16, _ repo: String) -> String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? "\(h)/\(repo)" : "\(h):\(port)/\(repo)"
    }

    static func url(_ t: HTTPTarget) -> String {
        let h = t.host.contains(":") ? "[\(t.host)]" : t.host
        let p = t.port == t.scheme.defaultPort ? "" : ":\(t.port)"
        return "\(t.scheme.rawValue)://\(h)\(p)\(t.path)"
    }

    static func amountText(_ kind: LimitKind, _ amount: UInt64) -> String {
        switch kind.unit {
        case .count: return "\(amount)"
        case .bytes: return "\(amount) bytes"
        case .seconds: return LimitValue.canonicalDuration(amount)
        }
    }
}
