// Syntax of secrets, HTTP rules, git push rules and placeholders (see docs/language.md,
// "Secrets and HTTP rules").

/// Where a secret's value comes from at launch.
public enum SecretSourceKind: String, Sendable, Hashable, CaseIterable, Codable {
    case env, file, command
}

/// `secret NAME from env "VAR"` / `from file "/path"` / `from command "/argv0", "arg", ...`.
public struct SecretDecl: Sendable, Hashable {
    public var name: Name
    public var kind: Located<SecretSourceKind>
    /// The strings after the kind (one for env and file, the argv for command).
    public var arguments: [StringLiteral]
    public var span: SourceSpan
    public var trivia: Trivia
}

/// `with bearer S`, `with basic "USER" S` or `with header "NAME" S`.
public struct InjectionClause: Sendable, Hashable {
    /// `bearer`, `basic` or `header`.
    public var form: Name
    /// The user (basic) or header name (header).
    public var argument: StringLiteral?
    public var secret: Name
    public var span: SourceSpan
}

/// `http|https METHOD, ... "PATTERN" [with ...]` (methods `*` for any).
public struct HTTPRule: Sendable, Hashable {
    public var scheme: Located<HTTPScheme>
    /// The method tokens as written; empty when `*` was written.
    public var methods: [Name]
    /// `*` (with its span) when written instead of methods.
    public var anyMethod: Located<String>?
    public var pattern: StringLiteral
    /// The parsed pattern (nil when malformed; reported).
    public var value: HTTPPattern?
    public var injection: InjectionClause?
}

/// `git push "HOST/REPO" ref "PATTERN", ...`.
public struct GitPushRule: Sendable, Hashable {
    public var repo: StringLiteral
    public var repoValue: GitRepoPattern?
    public var refs: [StringLiteral]
}

/// `env placeholder NAME = SECRET`.
public struct EnvPlaceholderStatement: Sendable, Hashable {
    public var name: Name
    public var secret: Name
    public var span: SourceSpan
    public var trivia: Trivia
}
