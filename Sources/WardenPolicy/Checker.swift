import WardenKernel

/// Checks parsed files as one policy: names, duplicates, `use` cycles, vocabulary
/// (syscalls, groups, constants, capabilities, errno), limits, tests. Collects every
/// diagnostic in one pass and builds a `CheckedPolicy` from whatever is valid.
public struct PolicyChecker {
    var diagnostics = DiagnosticSink()
    var sets: [String: PermissionSetDecl] = [:]
    var identityDecls: [String: IdentityDecl] = [:]
    /// Declared secrets by name.
    var secretDecls: [String: SecretDeclaration] = [:]
    /// Flattened rules of each permission set (memoised), nil while being computed.
    var flattened: [String: [EffectiveRule]] = [:]
    var inProgress: [String] = []
    var reportedCycles: Set<String> = []
    var reportedTooDeep = false

    /// How deep `use` may nest (bounds recursion and work on hostile input).
    public static let maxUseDepth = 32

    public init() {}

    /// Checks `files` as one policy; earlier files win "first defined here" (the loader puts includes first).
    public static func check(_ files: [PolicyFile]) -> (policy: CheckedPolicy, diagnostics: [Diagnostic]) {
        var checker = PolicyChecker()
        let policy = checker.run(files)
        return (policy, checker.diagnostics.items)
    }

    mutating func run(_ files: [PolicyFile]) -> CheckedPolicy {
        var testDecls: [TestDecl] = []
        var testNames: [String: SourceSpan] = [:]
        for file in files {
            for item in file.items {
                switch item {
                case .include, .trigger: break
                case .secret(let d): declareSecret(d)
                case .permissions(let d):
                    if let first = sets[d.name.value] {
                        duplicate("permission set", d.name, first: first.name.span)
                    } else {
                        sets[d.name.value] = d
                    }
                case .identity(let d):
                    if let first = identityDecls[d.name.value] {
                        duplicate("identity", d.name, first: first.name.span)
                    } else {
                        identityDecls[d.name.value] = d
                    }
                case .test(let d):
                    if let first = testNames[d.name.value] {
                        duplicate("test", d.name, first: first)
                    } else {
                        testNames[d.name.value] = d.name.span
                    }
                    testDecls.append(d)
                }
            }
        }
        for file in files {
            for item in file.items {
                guard case .permissions(let d) = item else { continue }
                checkSetStatements(d)
                if sets[d.name.value]?.span == d.span {
                    _ = flatten(set: d.name.value)
                } else {
                    // A duplicate: still report the mistakes in its body.
                    for case .rule(let r) in d.statements { _ = resolveRule(r) }
                    for case .use(let u) in d.statements { _ = resolveUse(u) }
                }
            }
        }
        var identities: [String: CheckedIdentity] = [:]
        for file in files {
            for item in file.items {
                guard case .identity(let d) = item else { continue }
                let checked = checkIdentity(d)
                if identityDecls[d.name.value]?.span == d.span { identities[d.name.value] = checked }
            }
        }
        let tests = testDecls.map { checkTest($0) }
        var policy = CheckedPolicy(files: files, permissionSets: sets, identities: identities, tests: tests)
        policy.secrets = secretDecls
        policy.triggers = checkTriggers(files)
        return policy
    }

    mutating func duplicate(_ what: String, _ name: Name, first: SourceSpan) {
        diagnostics.error("duplicate-definition", "\(what) `\(name.value)` is defined more than once", at: name.span,
                          help: "rename one of them or remove the duplicate",
                          notes: [RelatedNote("first defined here", at: first)])
    }

    /// Statements other than rules and `use` are not allowed in a permission set.
    mutating func checkSetStatements(_ d: PermissionSetDecl) {
        for s in d.statements {
            let word: String
            switch s {
            case .rule, .use: continue
            case .description: word = "description"
            case .limit: word = "limit"
            case .envPass, .envSet, .envPlaceholder: word = "env"
            case .enforceOnly: word = "enforce-only"
            }
            diagnostics.error("statement-not-allowed", "`\(word)` is not allowed in a permission set", at: s.span,
                              help: "permission sets hold rules and `use`; put `\(word)` in the identity that uses `\(d.name.value)`")
        }
    }

    /// The flattened rules of a permission set, following `use` (cycles reported once).
    mutating func flatten(set name: String) -> [EffectiveRule] {
        if let done = flattened[name] { return done }
        guard let decl = sets[name] else { return [] }
        if inProgress.contains(name) { return [] }
        inProgress.append(name)
        var rules: [EffectiveRule] = []
        for s in decl.statements {
            switch s {
            case .rule(let r): rules.append(contentsOf: resolveRule(r))
            case .use(let u): rules.append(contentsOf: resolveUse(u))
            default: break
            }
        }
        inProgress.removeLast()
        let unique = Self.dedupe(rules)
        flattened[name] = unique
        return unique
    }

    /// Rules brought in by `use A, B` (unknown names and cycles reported).
    mutating func resolveUse(_ u: UseStatement) -> [EffectiveRule] {
        var rules: [EffectiveRule] = []
        for n in u.names {
            guard sets[n.value] != nil else {
                let help: String
                if identityDecls[n.value] != nil {
                    help = "`\(n.value)` is an identity; `use` takes permission sets"
                } else {
                    help = Suggestions.help(for: n.value, in: sets.keys) ?? "define it with `permissions \(n.value) { ... }`"
                }
                diagnostics.error("unknown-permission-set", "unknown permission set `\(n.value)`", at: n.span, help: help)
                continue
            }
            if inProgress.count >= PolicyChecker.maxUseDepth {
                if !reportedTooDeep {
                    reportedTooDeep = true
                    diagnostics.error("use-too-deep", "permission sets are nested more than \(PolicyChecker.maxUseDepth) levels deep through `use`",
                                      at: n.span, help: "flatten the chain: let the identity use the sets directly")
                }
                continue
            }
            if let i = inProgress.firstIndex(of: n.value) {
                let cycle = inProgress[i...] + [n.value]
                if reportedCycles.insert(Set(cycle).sorted().joined(separator: ",")).inserted {
                    diagnostics.error("use-cycle", "permission sets use each other in a cycle: " + cycle.joined(separator: " → "),
                                      at: n.span, help: "remove one of the `use` statements in the cycle",
                                      notes: sets[n.value].map { [RelatedNote("`\(n.value)` is defined here", at: $0.name.span)] } ?? [])
                }
                continue
            }
            for var r in flatten(set: n.value) {
                r.via.insert(UseLink(setName: n.value, span: n.span), at: 0)
                rules.append(r)
            }
        }
        return rules
    }

    /// Keeps the first occurrence of each rule item (same item reached through two `use`s).
    static func dedupe(_ rules: [EffectiveRule]) -> [EffectiveRule] {
        var seen: Set<SourceSpan> = []
        return rules.filter { seen.insert($0.span).inserted }
    }

    mutating func checkIdentity(_ d: IdentityDecl) -> CheckedIdentity {
        var description: DescriptionStatement?
        var enforceOnly: EnforceOnlyStatement?
        var rules: [EffectiveRule] = []
        var limits: [LimitKind: CheckedLimit] = [:]
        var envPass: [String] = []
        var envPassed: Set<String> = []
        var envSet: [(name: String, value: String)] = []
        var envSetSpans: [String: SourceSpan] = [:]
        for s in d.statements {
            switch s {
            case .description(let desc):
                if let first = description {
                    diagnostics.error("duplicate-description", "identity `\(d.name.value)` has more than one description", at: desc.span,
                                      help: "keep one description", notes: [RelatedNote("first description here", at: first.span)])
                } else {
                    description = desc
                }
            case .rule(let r): rules.append(contentsOf: resolveRule(r))
            case .use(let u): rules.append(contentsOf: resolveUse(u))
            case .limit(let l):
                guard let kind = l.kind else {
                    diagnostics.error("unknown-limit", "unknown limit `\(l.kindName.value)`", at: l.kindName.span,
                                      help: Suggestions.help(for: l.kindName.value, in: LimitKind.allCases.map(\.rawValue))
                                        ?? "the limits are " + LimitKind.allCases.map(\.rawValue).joined(separator: ", "))
                    continue
                }
                if let first = limits[kind] {
                    diagnostics.error("duplicate-limit", "limit `\(kind.rawValue)` is set more than once", at: l.span,
                                      help: "keep one value", notes: [RelatedNote("first set here", at: first.span)])
                    continue
                }
                guard let value = l.value else { continue }
                if value.amount == 0 {
                    diagnostics.error("zero-limit", "`limit \(kind.rawValue) \(l.valueText.value)` leaves nothing: the agent could not run",
                                      at: l.valueText.span, help: "use a positive value, or remove the limit")
                    continue
                }
                limits[kind] = CheckedLimit(value: value, span: l.span)
            case .envPass(let e):
                for n in e.names where checkEnvName(n) && envPassed.insert(n.value).inserted { envPass.append(n.value) }
            case .envSet(let e):
                guard checkEnvName(e.name) else { continue }
                if let first = envSetSpans[e.name.value] {
                    diagnostics.error("duplicate-env", "environment variable `\(e.name.value)` is set more than once", at: e.name.span,
                                      notes: [RelatedNote("first set here", at: first)])
                    continue
                }
                envSetSpans[e.name.value] = e.name.span
                if case .failure(let error) = EnvTemplate.parse(e.value.value) {
                    diagnostics.error(error.code, error.message, at: e.value.span, help: error.help)
                    continue
                }
                envSet.append((e.name.value, e.value.value))
            case .envPlaceholder: break  // checkPlaceholders
            case .enforceOnly(let e):
                if let first = enforceOnly {
                    diagnostics.error("duplicate-enforce-only", "identity `\(d.name.value)` says `enforce-only` more than once", at: e.span,
                                      help: "keep one", notes: [RelatedNote("first said here", at: first.span)])
                } else {
                    enforceOnly = e
                }
            }
        }
        checkExecInCaches(rules)
        let unique = Self.dedupe(rules)
        checkMixedSchemes(unique, identity: d.name.value)
        let placeholders = checkPlaceholders(d)
        var identity = CheckedIdentity(name: d.name.value, declaration: d, description: description?.text.value,
                                       rules: unique, limits: limits, envPass: envPass, envSet: envSet)
        identity.placeholders = placeholders.pairs
        identity.enforceOnly = enforceOnly != nil
        identity.placeholderSpans = placeholders.spans
        return identity
    }

    /// Environment variable names: `[A-Za-z_][A-Za-z0-9_]*`.
    mutating func checkEnvName(_ n: Name) -> Bool {
        if n.value.contains("-") {
            diagnostics.error("invalid-env-name", "`\(n.value)` is not a valid environment variable name", at: n.span,
                              help: "use letters, digits and `_`: `\(String(n.value.map { $0 == "-" ? "_" : $0 }))`")
            return false
        }
        return true
    }
}
