// The syntax tree of one policy file. Every node keeps its source span; statements and
// items keep their comments (Trivia) so `warden fmt` can reprint them.

/// A `#` comment. `text` includes the `#` and excludes the line end.
public struct Comment: Sendable, Hashable {
    public var text: String
    public var span: SourceSpan
    /// A blank line separates this comment from what precedes it.
    public var precededByBlankLine: Bool
}

/// Comments and blank lines around a statement or item. Each blank-line gap is recorded
/// on the element that follows it: on a leading comment, or on the node itself when the
/// gap is between the last leading comment (or the previous node) and the node.
public struct Trivia: Sendable, Hashable {
    /// Whole-line comments directly before the node, in order.
    public var leadingComments: [Comment] = []
    /// A comment after the node on its last line.
    public var trailingComment: Comment?
    /// A blank line directly precedes the node's own first line.
    public var precededByBlankLine = false
    public init() {}
}

/// Comments inside a `{ ... }` block that belong to no statement.
public struct BlockTrivia: Sendable, Hashable {
    /// A comment after `{` on the same line.
    public var openComment: Comment?
    /// Whole-line comments after the last statement, before `}`.
    public var closingComments: [Comment] = []
    /// A blank line directly precedes the `}` line.
    public var closingPrecededByBlankLine = false
    public init() {}
}

/// A value with the span where it was written.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var span: SourceSpan
    public init(_ value: Value, _ span: SourceSpan) {
        self.value = value
        self.span = span
    }
}

/// An identifier as written (a set, identity, syscall, capability, constant... name).
public typealias Name = Located<String>

/// A string literal: decoded value, span including the quotes.
public typealias StringLiteral = Located<String>

/// A parsed policy file.
public struct PolicyFile: Sendable, Hashable {
    public var source: SourceFile
    /// `warden 1`; nil when missing or malformed (already reported).
    public var header: VersionHeader?
    public var items: [Item]
    /// Comments after the last item.
    public var trailingComments: [Comment]
    /// A blank line precedes the end of file (after the last item / comments).
    public var endsWithBlankLine: Bool
    public var path: String { source.path }
}

/// `warden N`.
public struct VersionHeader: Sendable, Hashable {
    public var version: Located<Int>
    public var span: SourceSpan
    public var trivia: Trivia
}

/// A top-level item.
public enum Item: Sendable, Hashable {
    case include(IncludeDecl)
    case permissions(PermissionSetDecl)
    case identity(IdentityDecl)
    case test(TestDecl)
    /// `secret NAME from env|file|command ...`.
    case secret(SecretDecl)
    /// `trigger NAME { ... }`: what event may start which identity (see AST+Triggers.swift).
    case trigger(TriggerDecl)

    public var span: SourceSpan {
        switch self {
        case .include(let d): return d.span
        case .permissions(let d): return d.span
        case .identity(let d): return d.span
        case .test(let d): return d.span
        case .secret(let d): return d.span
        case .trigger(let d): return d.span
        }
    }

    public var trivia: Trivia {
        switch self {
        case .include(let d): return d.trivia
        case .permissions(let d): return d.trivia
        case .identity(let d): return d.trivia
        case .test(let d): return d.trivia
        case .secret(let d): return d.trivia
        case .trigger(let d): return d.trivia
        }
    }
}

/// `include "path"`.
public struct IncludeDecl: Sendable, Hashable {
    public var path: StringLiteral
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `permissions NAME { statements }`: rules and `use`.
public struct PermissionSetDecl: Sendable, Hashable {
    public var name: Name
    public var statements: [Statement]
    public var span: SourceSpan
    public var trivia: Trivia
    public var block: BlockTrivia
}

/// `identity NAME { statements }`.
public struct IdentityDecl: Sendable, Hashable {
    public var name: Name
    public var statements: [Statement]
    public var span: SourceSpan
    public var trivia: Trivia
    public var block: BlockTrivia
}

/// `test "name" { identity NAME  expect ... }`.
public struct TestDecl: Sendable, Hashable {
    public var name: StringLiteral
    public var statements: [TestStatement]
    public var span: SourceSpan
    public var trivia: Trivia
    public var block: BlockTrivia
}

/// A statement inside `permissions` or `identity`.
public enum Statement: Sendable, Hashable {
    case rule(Rule)
    case use(UseStatement)
    case description(DescriptionStatement)
    case limit(LimitStatement)
    case envPass(EnvPassStatement)
    case envSet(EnvSetStatement)
    /// `env placeholder NAME = SECRET`.
    case envPlaceholder(EnvPlaceholderStatement)
    /// `enforce-only` (identities only): `warden learn` refuses to run the identity.
    case enforceOnly(EnforceOnlyStatement)

    public var span: SourceSpan {
        switch self {
        case .rule(let s): return s.span
        case .use(let s): return s.span
        case .description(let s): return s.span
        case .limit(let s): return s.span
        case .envPass(let s): return s.span
        case .envSet(let s): return s.span
        case .envPlaceholder(let s): return s.span
        case .enforceOnly(let s): return s.span
        }
    }

    public var trivia: Trivia {
        switch self {
        case .rule(let s): return s.trivia
        case .use(let s): return s.trivia
        case .description(let s): return s.trivia
        case .limit(let s): return s.trivia
        case .envPass(let s): return s.trivia
        case .envSet(let s): return s.trivia
        case .envPlaceholder(let s): return s.trivia
        case .enforceOnly(let s): return s.trivia
        }
    }
}

/// `use NAME, NAME`.
public struct UseStatement: Sendable, Hashable {
    public var names: [Name]
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `description "text"`.
public struct DescriptionStatement: Sendable, Hashable {
    public var text: StringLiteral
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `enforce-only`: the identity is only ever run fully enforced; `warden learn` (observing
/// mode) refuses it, and a diff that removes the statement is a widening.
public struct EnforceOnlyStatement: Sendable, Hashable {
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `limit KIND VALUE`.
public struct LimitStatement: Sendable, Hashable {
    /// The kind as written (`open-files`).
    public var kindName: Name
    /// nil when the kind is unknown (the checker reports it).
    public var kind: LimitKind?
    /// The value token as written (`4GiB`, `1h30m`, `256`).
    public var valueText: Located<String>
    /// The value in the kind's unit (count, bytes, seconds); nil when malformed (reported).
    public var value: LimitValue?
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `env pass NAME, NAME`.
public struct EnvPassStatement: Sendable, Hashable {
    public var names: [Name]
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `env set NAME = "value"`.
public struct EnvSetStatement: Sendable, Hashable {
    public var name: Name
    public var value: StringLiteral
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `allow` or `deny`.
public enum Effect: String, Sendable, Hashable, CaseIterable, Codable {
    case allow, deny
}

/// `(allow|deny) KIND ... [because "reason"]`, or `cache PATH, ... [because "reason"]`.
public struct Rule: Sendable, Hashable {
    public var effect: Located<Effect>
    public var body: RuleBody
    public var because: StringLiteral?
    public var span: SourceSpan
    public var trivia: Trivia
    /// Written `cache "${home}/..."`: an `allow fs read, write` of each path whose content
    /// is the identity's persistent store, not the host's directory (see docs/language.md).
    public var cache: Bool = false
}

/// What a rule is about.
public enum RuleBody: Sendable, Hashable {
    case fs(FsRule)
    case net(NetRule)
    case syscall(SyscallRule)
    case capability(CapabilityRule)
    /// `http|https METHODS "PATTERN" [with ...]`.
    case http(HTTPRule)
    /// `git push "REPO" ref "PATTERN", ...`.
    case gitPush(GitPushRule)
}

/// File access kinds.
public enum FsAccess: String, Sendable, Hashable, CaseIterable, Codable {
    case read, write, exec
}

/// `fs ACCESS, ... PATH, ... [create]`.
public struct FsRule: Sendable, Hashable {
    public var access: [Located<FsAccess>]
    public var paths: [PathLiteral]
    /// The span of a trailing `create` keyword: the run creates each path's missing
    /// directories before launch (see docs/language.md); nil when not written.
    public var create: SourceSpan? = nil
}

/// A path string and its parsed form (nil when malformed; already reported).
public struct PathLiteral: Sendable, Hashable {
    public var literal: StringLiteral
    public var value: PolicyPath?
}

/// `connect` or `bind`.
public enum NetDirection: String, Sendable, Hashable, CaseIterable, Codable {
    case connect, bind
}

/// `tcp` or `udp`.
public enum NetProtocol: String, Sendable, Hashable, CaseIterable, Codable {
    case tcp, udp
}

/// `net DIRECTION PROTOCOL "ENDPOINT", ...`.
public struct NetRule: Sendable, Hashable {
    public var direction: Located<NetDirection>
    public var proto: Located<NetProtocol>
    public var endpoints: [EndpointLiteral]
}

/// An endpoint string and its parsed form (nil when malformed; already reported).
public struct EndpointLiteral: Sendable, Hashable {
    public var literal: StringLiteral
    public var value: Endpoint?
}

/// `syscall SPEC, ... [errno NAME]`.
public struct SyscallRule: Sendable, Hashable {
    public var specs: [SyscallSpec]
    /// `errno NAME` (valid on deny only; the checker reports misuse).
    public var errno: Name?
}

/// `name`, `@group`, or `name(COND, ...)`.
public struct SyscallSpec: Sendable, Hashable {
    /// The syscall or group name (without `@`).
    public var name: Name
    public var isGroup: Bool
    /// nil when written without parentheses; `[]` for `name()`.
    public var conditions: [ArgCondition]?
    public var span: SourceSpan
}

/// Which argument a condition tests.
public enum ArgTarget: Sendable, Hashable {
    /// A bare value at 0-based position N inside the parentheses: argument N equals it.
    case position(Int)
    /// An argument name from the signature, or `argN`.
    case argument(Name)
}

/// Comparison operators.
public enum CompareOperator: String, Sendable, Hashable, CaseIterable, Codable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// The test a condition applies to its argument.
public enum ArgTest: Sendable, Hashable {
    /// `ARG OP VALUE` (positional values are `==`).
    case compare(Located<CompareOperator>, ValueExpr)
    /// `ARG & MASK == VALUE`.
    case masked(mask: ValueExpr, value: ValueExpr)
    /// `ARG in [VALUE, ...]`.
    case oneOf([ValueExpr])
}

/// One syscall argument condition.
public struct ArgCondition: Sendable, Hashable {
    public var target: ArgTarget
    public var test: ArgTest
    public var span: SourceSpan
}

/// `VALUE | VALUE | ...`: integers and named constants OR-ed together.
public struct ValueExpr: Sendable, Hashable {
    public var terms: [ValueTerm]
    public var span: SourceSpan
}

/// An integer literal or a named constant.
public struct ValueTerm: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case integer(UInt64)
        case constant(String)
    }
    public var kind: Kind
    public var span: SourceSpan
}

/// `capability NAME, ...` (names as written; the checker canonicalises).
public struct CapabilityRule: Sendable, Hashable {
    public var names: [Name]
}

/// A statement inside a `test` block.
public enum TestStatement: Sendable, Hashable {
    case identity(TestIdentityStatement)
    case expect(Expectation)

    public var span: SourceSpan {
        switch self {
        case .identity(let s): return s.span
        case .expect(let s): return s.span
        }
    }

    public var trivia: Trivia {
        switch self {
        case .identity(let s): return s.trivia
        case .expect(let s): return s.trivia
        }
    }
}

/// `identity NAME` inside a test.
public struct TestIdentityStatement: Sendable, Hashable {
    public var name: Name
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `expect (allow|deny) TARGET`.
public struct Expectation: Sendable, Hashable {
    public var effect: Located<Effect>
    public var target: ExpectTarget
    public var span: SourceSpan
    public var trivia: Trivia
}

/// One concrete action a test expects to be allowed or denied.
public enum ExpectTarget: Sendable, Hashable {
    case fs(Located<FsAccess>, PathLiteral)
    case net(Located<NetDirection>, Located<NetProtocol>, EndpointLiteral)
    /// `syscall NAME` (arguments nil) or `syscall NAME(v0, v1, ...)`.
    case syscall(Name, arguments: [ValueExpr]?)
    case capability(Name)
    /// `http|https METHOD "URL"`.
    case http(Located<HTTPScheme>, method: Name, url: StringLiteral)
    /// `git push "REPO" ref "REF"`.
    case gitPush(repo: StringLiteral, ref: StringLiteral)
    /// `trigger SOURCE ...`: an event (see `TriggerEventSyntax`).
    case trigger(TriggerEventWords)
}
