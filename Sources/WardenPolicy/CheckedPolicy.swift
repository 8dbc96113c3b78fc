/// The result of checking a policy: definitions by name, and for each identity its
/// flattened rules with provenance. Deny-over-allow resolution is left to the compiler.
public struct CheckedPolicy: Sendable {
    /// Every loaded file, each after the files it includes (so the root is last).
    public var files: [PolicyFile]
    public var permissionSets: [String: PermissionSetDecl]
    public var identities: [String: CheckedIdentity]
    /// Tests in source order.
    public var tests: [CheckedTest]
    /// Declared secrets by name (across includes; names are unique).
    public var secrets: [String: SecretDeclaration] = [:]
    /// Checked triggers in source order (includes first); a trigger with errors is left out.
    public var triggers: [CheckedTrigger] = []

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
    /// `env placeholder` pairs (variable, secret name), in order.
    public var placeholders: [(variable: String, secret: String)] = []
    /// Where each placeholder was written (by variable), for provenance.
    public var placeholderSpans: [String: SourceSpan] = [:]
    /// Marked `enforce-only`: never run in observing mode (`warden learn` refuses it).
    public var enforceOnly = false
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
    /// One `http`/`https` rule.
    case http(HTTPRuleAction)
    /// One ref pattern of a `git push` rule.
    case gitPush(repo: GitRepoPattern, ref: RefPattern)
}

/// A resolved HTTP rule.
public struct HTTPRuleAction: Sendable, Hashable {
    public var scheme: HTTPScheme
    /// Uppercase method tokens; nil for `*` (any method).
    public var methods: [String]?
    public var pattern: HTTPPattern
    /// The header the rule injects (allow rules only).
    public var injection: HeaderInjection?

    public init(scheme: HTTPScheme, methods: [String]?, pattern: HTTPPattern, injection: HeaderInjection?) {
        self.scheme = scheme
        self.methods = methods
        self.pattern = pattern
        self.injection = injection
    }

    /// The port the rule governs.
    public var port: UInt16 { pattern.effectivePort(scheme) }
}

/// How a secret's value becomes a header value.
public enum InjectionForm: Sendable, Hashable, Codable {
    /// `Authorization: Bearer VALUE`.
    case bearer
    /// `Authorization: Basic base64(USER:VALUE)`.
    case basic(user: String)
    /// `NAME: VALUE` (the name is `HeaderInjection.headerName`).
    case header
}

/// A header an allowed request gets: the agent's headers of that name are replaced.
public struct HeaderInjection: Sendable, Hashable, Codable {
    /// As written for `with header`; `Authorization` for bearer and basic.
    public var headerName: String
    public var form: InjectionForm
    /// The secret's name (never its value).
    public var secret: String

    public init(headerName: String, form: InjectionForm, secret: String) {
        self.headerName = headerName
        self.form = form
        self.secret = secret
    }

    /// `bearer gh-token`, `basic "x-access-token" gh-token`, `header "x-api-key" key`.
    public var description: String {
        switch form {
        case .bearer: return "\(headerName): bearer \(secret)"
        case .basic(let user): return "\(headerName): basic \"\(user)\" \(secret)"
        case .header: return "\(headerName): \(secret)"
        }
    }
}

/// Where a secret's value comes from (the names, paths and argv are not values).
public enum SecretSource: Sendable, Hashable, Codable {
    /// A variable of Warden's own environment at launch.
    case env(String)
    /// An absolute path to a regular file, not group/other readable.
    case file(String)
    /// An absolute argv0 and its arguments, run without a shell.
    case command([String])

    public var kind: SecretSourceKind {
        switch self {
        case .env: return .env
        case .file: return .file
        case .command: return .command
        }
    }

    /// `env WARDEN_GH_TOKEN`, `file /etc/warden/gh-token`, `command /usr/local/bin/mint --repo acme/app`.
    public var description: String {
        switch self {
        case .env(let v): return "env \(v)"
        case .file(let p): return "file \(p)"
        case .command(let argv): return "command " + argv.joined(separator: " ")
        }
    }
}

/// A declared secret.
public struct SecretDeclaration: Sendable, Hashable {
    public var name: String
    public var source: SecretSource
    /// The `secret` item's span.
    public var span: SourceSpan

    public init(name: String, source: SecretSource, span: SourceSpan) {
        self.name = name
        self.source = source
        self.span = span
    }

    /// `file:line:col` of the declaration.
    public var provenance: String { "\(span.file):\(span.start.line):\(span.start.column)" }
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
    /// A request: method (uppercase) and URL.
    case http(method: String, url: HTTPURL)
    /// A push of one ref to a repository (`host[:port]/path`).
    case gitPush(host: String, port: UInt16, repoPath: String, ref: String)
    /// An event asking to start triggers (decided by WardenCompiler's `TriggerAuthorizer`).
    case trigger(TriggerEvent)
}
