import WardenKernel
import WardenPolicy

/// The kinds of permission `warden diff` compares.
public enum DiffDomain: String, Sendable, Hashable, CaseIterable, Codable {
    /// An identity added or removed, or its enforce-only mark changed.
    case identity
    case filesystem
    case network
    case http
    case gitPush = "git-push"
    case syscall
    case capability
    case limit
    case environment
    case secret
    case cache
    /// Which events may start the identity (its triggers).
    case trigger
}

/// What a change does to one identity.
public enum DiffVerdict: String, Sendable, Hashable, Codable {
    case equivalent, narrower, wider, both
}

/// One concrete action whose decision differs between the two versions: allowed after and
/// denied before (a widening), or the other way round (a narrowing). Built only through
/// `DiffWitness.init(probe:old:new:)`, which decides the probe on both sides, and re-checked
/// by `PolicyDiffer` before it is reported.
public struct DiffWitness: Sendable, Hashable {
    public var domain: DiffDomain
    /// The action: `write ${workspace}/build`, `connect tcp 10.0.0.1:443`, `syscall ptrace`.
    public var action: String
    public var probe: DiffProbe
    /// The arguments after `warden explain POLICY --identity NAME` that ask about the
    /// action; empty when explain cannot ask it (limits, environment, caches).
    public var explainArguments: [String]
    /// The decision in the old and the new version.
    public var old: Decision
    public var new: Decision
    /// Extra context (architectures a syscall exists on, limit values).
    public var note: String?

    /// Decides `probe` on both sides. `old`/`new` nil: the identity does not exist there.
    public init(probe: DiffProbe, old: EffectivePolicy?, new: EffectivePolicy?, note: String? = nil) {
        self.domain = probe.domain
        self.action = probe.action
        self.probe = probe
        self.explainArguments = probe.explainArguments
        self.old = probe.decision(in: old)
        self.new = probe.decision(in: new)
        self.note = note
    }

    /// Allowed after, denied before.
    public var widens: Bool { old.effect == .deny && new.effect == .allow }
    /// Allowed before, denied after.
    public var narrows: Bool { old.effect == .allow && new.effect == .deny }

    /// The rules responsible on the side that allows (the new side for a widening).
    public var allowingRules: [Provenance] { widens ? new.rules : old.rules }
}

/// The differences found in one domain.
public struct DomainChanges: Sendable, Hashable {
    public var widenings: [DiffWitness] = []
    public var narrowings: [DiffWitness] = []
    public init(widenings: [DiffWitness] = [], narrowings: [DiffWitness] = []) {
        self.widenings = widenings
        self.narrowings = narrowings
    }
    public mutating func append(_ other: DomainChanges) {
        widenings += other.widenings
        narrowings += other.narrowings
    }
}

/// The comparison of one identity.
public struct IdentityDiff: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable { case added, removed, compared }
    public var identity: String
    public var status: Status
    /// Where the identity is declared in the new version (the old one when removed).
    public var declaration: SourceSpan?
    public var widenings: [DiffWitness]
    public var narrowings: [DiffWitness]

    public var verdict: DiffVerdict {
        switch (widenings.isEmpty, narrowings.isEmpty) {
        case (true, true): return .equivalent
        case (true, false): return .narrower
        case (false, true): return .wider
        case (false, false): return .both
        }
    }
}

/// The comparison of two versions of a policy.
public struct PolicyDiff: Sendable, Hashable {
    /// Every identity of either version, sorted by name.
    public var identities: [IdentityDiff]
    /// Whether any identity can do something it could not do before.
    public var widens: Bool { identities.contains { !$0.widenings.isEmpty } }
}

/// Why two versions could not be compared. `warden diff` exits 2 (fail closed).
public enum PolicyDiffError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownIdentity(String)
    /// An identity's effective policy could not be built on one side.
    case effective(side: String, identity: String, message: String)
    /// A domain's comparison would exceed its bound (e.g. argument regions).
    case tooComplex(identity: String, domain: DiffDomain, detail: String)
    /// A witness did not decide as reported on re-checking (a bug in the diff: fail closed).
    case witnessMismatch(identity: String, action: String)

    public var description: String {
        switch self {
        case .unknownIdentity(let name):
            return "no identity named `\(name)` in either version"
        case .effective(let side, let identity, let message):
            return "the \(side) version's identity `\(identity)` cannot be compiled: \(message)"
        case .tooComplex(let identity, let domain, let detail):
            return "identity `\(identity)`: the \(domain.rawValue) rules are too complex to compare exactly (\(detail))"
        case .witnessMismatch(let identity, let action):
            return "internal error: the witness `\(action)` for identity `\(identity)` did not re-check; the diff refuses to answer (please report this)"
        }
    }
}

/// Compares two versions of a policy identity by identity, domain by domain, on the
/// effective policies (after include, use, deny and the built-in safeguards).
public enum PolicyDiffer {
    /// - Parameters:
    ///   - old: the old version, nil when it did not exist (every identity is added).
    ///   - new: the new version, nil when it was deleted.
    ///   - identity: compare only this identity.
    public static func compare(old: CheckedPolicy?, new: CheckedPolicy?, identity: String? = nil) throws(PolicyDiffError) -> PolicyDiff {
        let oldNames = Set(old?.identities.keys.map { $0 } ?? [])
        let newNames = Set(new?.identities.keys.map { $0 } ?? [])
        var names = oldNames.union(newNames).sorted()
        if let identity {
            guard names.contains(identity) else { throw .unknownIdentity(identity) }
            names = [identity]
        }
        var result: [IdentityDiff] = []
        for name in names {
            let o = try effective(old, name, side: "old")
            let n = try effective(new, name, side: "new")
            let declaration = (new?.identities[name] ?? old?.identities[name])?.declaration.name.span
            var changes = DomainChanges()
            let status: IdentityDiff.Status
            switch (o, n) {
            case (nil, _?):
                status = .added
                changes.widenings = [DiffWitness(probe: .identityExists(name), old: nil, new: n)]
            case (_?, nil):
                status = .removed
                changes.narrowings = [DiffWitness(probe: .identityExists(name), old: o, new: nil)]
            case (let o?, let n?):
                status = .compared
                // Equal decision inputs decide every probe alike: no domain work.
                if DecisionInputs(o) != DecisionInputs(n) { changes = try domainChanges(old: o, new: n) }
            case (nil, nil):
                continue
            }
            for w in changes.widenings where !w.widens { throw .witnessMismatch(identity: name, action: w.action) }
            for w in changes.narrowings where !w.narrows { throw .witnessMismatch(identity: name, action: w.action) }
            result.append(IdentityDiff(identity: name, status: status, declaration: declaration,
                                       widenings: changes.widenings, narrowings: changes.narrowings))
        }
        return PolicyDiff(identities: result)
    }

    /// Every domain's changes for one identity present on both sides.
    public static func domainChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        var all = DomainChanges()
        all.append(identityMarkChanges(old: old, new: new))
        all.append(filesystemChanges(old: old, new: new))
        all.append(try networkChanges(old: old, new: new))
        all.append(try httpChanges(old: old, new: new))
        all.append(try gitPushChanges(old: old, new: new))
        all.append(try syscallChanges(old: old, new: new))
        all.append(capabilityChanges(old: old, new: new))
        all.append(limitChanges(old: old, new: new))
        all.append(environmentChanges(old: old, new: new))
        all.append(secretChanges(old: old, new: new))
        all.append(cacheChanges(old: old, new: new))
        all.append(try TriggerDiff.changes(old: old, new: new))
        return all
    }

    static func effective(_ policy: CheckedPolicy?, _ name: String, side: String) throws(PolicyDiffError) -> EffectivePolicy? {
        guard let policy, policy.identities[name] != nil else { return nil }
        do {
            return try EffectivePolicy(policy: policy, identity: name)
        } catch {
            throw .effective(side: side, identity: name, message: error.description)
        }
    }

    /// Removing `enforce-only` is a widening (the identity may then be learned).
    static func identityMarkChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        let w = DiffWitness(probe: .learning(new.identity), old: old, new: new)
        return DomainChanges(widenings: w.widens ? [w] : [], narrowings: w.narrows ? [w] : [])
    }
}
