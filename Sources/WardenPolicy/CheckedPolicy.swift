/// The result of checking a policy: definitions by name, and for each identity its
/// flattened rules with provenance. Deny-over-allow resolution is left to the compiler.
public struct CheckedPolicy: Sendable {
    /// Every loaded file, each after the files it includes (so the root is last).
    public var files: [PolicyFile]
    public var permissionSets: [String: PermissionSetDecl]
    public var identities: [String: CheckedIdentity]
    /// Tests in source order.
    public var tests: [CheckedTest]

    /// Source files by path (for rendering diagnostics).
    public var sources: [String: SourceFile] {
        Dictionary(files.map { ($0.path, $0.source) }, uniquingKeysWith: { a, _ in a })
    }

    public init(files: [PolicyFile], permissionSets: [String: PermissionSetDecl],
                identities: [String: CheckedIdentity], tests: [CheckedTest]) {
        self.files = files
        self.permissionSets = permissionSets
        self.identities = identities
        self.tests = tests
    }
}

/// One step of the `use` chain that brought a rule into an identity.
public struct UseLink: Sendable, Hashable {
    /// The permission set used.
    public var setName: String
    /// The name inside the `use` statement.
    public var span: SourceSpan
}

/// A checked identity.
public struct CheckedIdentity: Sendable {
    public var name: String
    public var declaration: IdentityDecl
    public var description: String?
    /// Every rule that applies, one per path/endpoint/syscall spec/capability, in statement
    /// order with each `use` expanded in place (depth first); an item reached twice is kept once.
    public var rules: [EffectiveRule]
    public var limits: [LimitKind: CheckedLimit]
    /// `env pass` names, in order, without duplicates.
    public var envPass: [String]
    /// `env set` pairs, in order.
    public var envSet: [(name: String, value: String)]
}

/// A limit value and where it was set.
public struct CheckedLimit: Sendable, Hashable {
    public var value: LimitValue
    public var span: SourceSpan
}

/// One flattened rule item with its provenance.
public struct EffectiveRule: Sendable, Hashable {
    public var effect: Effect
    public var action: RuleAction
    /// The `because` text, if any.
    public var because: String?
    /// The span of this item (the path, endpoint, syscall spec or capability name).
    public var span: SourceSpan
    /// The span of the whole rule statement.
    public var ruleSpan: SourceSpan
    /// The `use` chain from the identity to the set defining the rule (empty: the identity's own rule).
    public var via: [UseLink]
    /// From a `cache` statement: the path is backed by the identity's persistent store.
    public var cache: Bool = false
    /// An fs rule written with `create`: the run creates the path's missing directories.
    public var creates = false
}

/// What a rule item matches.
public enum RuleAction: Sendable, Hashable {
    case fs(access: [FsAccess], path: PolicyPath)
    case net(direction: NetDirection, proto: NetProtocol, endpoint: Endpoint)
    case syscall(SyscallMatch)
    /// Canonical name (`CAP_NET_BIND_SERVICE`).
    case capability(String)
}

/// A resolved syscall spec.
public struct SyscallMatch: Sendable, Hashable {
    /// As written: `socket` or `@default`.
    public var written: String
    /// The group name (without `@`) when the spec is a group.
    public var group: String?
    /// The syscall names matched (a group expanded).
    public var syscalls: [String]
    /// All must hold (AND). Empty: the syscall matches unconditionally.
    public var conditions: [SyscallCondition]
    /// For deny: the errno to return (EPERM when not written). nil for allow.
    public var errno: Int32?
}

/// A resolved argument condition.
public struct SyscallCondition: Sendable, Hashable {
    public enum Test: Sendable, Hashable {
        case compare(CompareOperator, UInt64)
        /// `arg & mask == value`.
        case masked(mask: UInt64, value: UInt64)
        /// `arg in [values]` (non-empty).
        case oneOf([UInt64])
    }
    /// 0-based argument index.
    public var argument: Int
    /// The signature's name for it.
    public var argumentName: String
    /// Compare only the low 32 bits.
    public var is32Bit: Bool
    public var test: Test
    public var span: SourceSpan
}

/// A checked test.
public struct CheckedTest: Sendable {
    public var name: String
    public var declaration: TestDecl
    /// nil when missing or unknown (reported).
    public var identity: String?
    public var expectations: [CheckedExpectation]
}

/// One concrete action with the expected decision.
public struct CheckedExpectation: Sendable, Hashable {
    public var effect: Effect
    public var action: TestAction
    public var span: SourceSpan
}

/// A single concrete action a test asks about.
public enum TestAction: Sendable, Hashable {
    case fs(FsAccess, PolicyPath)
    /// The endpoint is concrete (one host, one port).
    case net(NetDirection, NetProtocol, Endpoint)
    /// Argument values, when given.
    case syscall(String, arguments: [UInt64]?)
    case capability(String)
}
