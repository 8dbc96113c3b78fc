extension PolicyChecker {
    /// Secret names: `[a-z0-9][a-z0-9_-]*`.
    static func isSecretName(_ s: String) -> Bool {
        guard let first = s.utf8.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39) else { return false }
        return s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == 0x5F || (first | 0x20 >= 0x61 && first | 0x20 <= 0x7A) else { return false }
        return s.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
    }

    /// Records a `secret` declaration (first pass; duplicates across includes reported).
    mutating func declareSecret(_ d: SecretDecl) {
        guard Self.isSecretName(d.name.value) else {
            diagnostics.error("invalid-name", "secret name `\(d.name.value)` must be lowercase letters, digits, `_` and `-`, starting with a letter or digit",
                              at: d.name.span, help: "write it as `\(d.name.value.lowercased())`")
            return
        }
        if let first = secretDecls[d.name.value] {
            diagnostics.error("duplicate-secret", "secret `\(d.name.value)` is declared more than once", at: d.name.span,
                              help: "secret names are unique across the policy and its includes: rename one or remove the duplicate",
                              notes: [RelatedNote("first declared here", at: first.span)])
            return
        }
        guard let source = secretSource(d) else { return }
        secretDecls[d.name.value] = SecretDeclaration(name: d.name.value, source: source, span: d.span)
    }

    /// The source of a declaration, or nil (reported as `invalid-secret-source`).
    mutating func secretSource(_ d: SecretDecl) -> SecretSource? {
        let first = d.arguments[0]
        func bad(_ message: String, _ help: String, at span: SourceSpan? = nil) -> SecretSource? {
            diagnostics.error("invalid-secret-source", message, at: span ?? first.span, help: help)
            return nil
        }
        func isAbsoluteClean(_ p: String) -> Bool {
            p.hasPrefix("/") && p.utf8.count <= 4096 && !p.utf8.contains(0)
                && !p.split(separator: "/", omittingEmptySubsequences: false).dropFirst().contains { $0.isEmpty || $0 == "." || $0 == ".." }
        }
        switch d.kind.value {
        case .env:
            guard Self.isEnvName(first.value) else {
                return bad("`\(first.value)` is not an environment variable name", "write a name of letters, digits and `_`, such as \"WARDEN_GH_TOKEN\"")
            }
            return .env(first.value)
        case .file:
            guard isAbsoluteClean(first.value) else {
                return bad("secret file `\(first.value)` is not an absolute path without `.`, `..` or empty components",
                           "write the full path, such as \"/etc/warden/gh-token\" (a regular file only its owner can read)")
            }
            return .file(first.value)
        case .command:
            guard isAbsoluteClean(first.value) else {
                return bad("secret command `\(first.value)` is not an absolute path", "name the program by its full path, such as \"/usr/local/bin/mint\": it runs without a shell or PATH lookup")
            }
            if let empty = d.arguments.dropFirst().first(where: { $0.value.utf8.contains(0) }) {
                return bad("a secret command argument holds a NUL byte", "remove it", at: empty.span)
            }
            return .command(d.arguments.map(\.value))
        }
    }

    /// The resolved item of an `http`/`https` rule, or nil (reported).
    mutating func resolveHTTP(_ h: HTTPRule, effect: Effect) -> HTTPRuleAction? {
        var ok = true
        var methods: [String] = []
        for m in h.methods {
            guard !m.value.isEmpty, m.value.utf8.count <= 32, m.value.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                diagnostics.error("invalid-http-method", "`\(m.value)` is not an HTTP method", at: m.span,
                                  help: "methods are uppercase words such as GET, POST, PUT, DELETE; write `*` for any method")
                ok = false
                continue
            }
            if methods.contains(m.value) {
                diagnostics.append(.warning("duplicate-access", "`\(m.value)` is listed twice", at: m.span))
            } else {
                methods.append(m.value)
            }
        }
        var injection: HeaderInjection?
        if let w = h.injection {
            if effect == .deny {
                diagnostics.error("inject-on-deny", "`with` applies only to `allow` rules: a denied request is never sent", at: w.span,
                                  help: "remove `with \(w.form.value) ...`, or make the rule `allow`")
                ok = false
            }
            if secretDecls[w.secret.value] == nil {
                reportUnknownSecret(w.secret)
                ok = false
            }
            switch w.form.value {
            case "bearer": injection = HeaderInjection(headerName: "Authorization", form: .bearer, secret: w.secret.value)
            case "basic":
                let user = w.argument?.value ?? ""
                if user.isEmpty || user.contains(":") || !user.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                    diagnostics.error("invalid-injection", "basic-auth user `\(user)` must be non-empty printable ASCII without `:` or spaces",
                                      at: w.argument?.span ?? w.span, help: "for a GitHub token write `with basic \"x-access-token\" SECRET`")
                    ok = false
                }
                injection = HeaderInjection(headerName: "Authorization", form: .basic(user: user), secret: w.secret.value)
            default:
                let name = w.argument?.value ?? ""
                if let problem = Self.injectableHeaderProblem(name) {
                    diagnostics.error("invalid-injection", problem, at: w.argument?.span ?? w.span,
                                      help: "name an ordinary request header such as \"x-api-key\"")
                    ok = false
                }
                injection = HeaderInjection(headerName: name, form: .header, secret: w.secret.value)
            }
        }
        guard ok, let pattern = h.value else { return nil }
        return HTTPRuleAction(scheme: h.scheme.value, methods: h.anyMethod != nil ? nil : methods, pattern: pattern, injection: injection)
    }

    /// Why a header cannot carry an injected secret (nil when it can).
    static func injectableHeaderProblem(_ name: String) -> String? {
        let tchar = Array("!#$%&'*+-.^_`|~".utf8)
        guard !name.isEmpty, name.utf8.count <= 128,
              name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || tchar.contains($0) }) else {
            return "`\(name)` is not a header name"
        }
        let reserved = ["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
                        "proxy-connection", "expect", "proxy-authorization"]
        if reserved.contains(name.lowercased()) {
            return "`\(name)` controls the connection or framing; Warden cannot inject a secret into it"
        }
        return nil
    }

    mutating func reportUnknownSecret(_ n: Name) {
        diagnostics.error("unknown-secret", "unknown secret `\(n.value)`", at: n.span,
                          help: Suggestions.help(for: n.value, in: secretDecls.keys)
                            ?? "declare it at the top level: `secret \(n.value) from env \"VARIABLE\"`")
    }

    /// The items of a `git push` rule, one per ref pattern (invalid ones reported).
    mutating func resolveGitPush(_ g: GitPushRule) -> [(RuleAction, SourceSpan)] {
        var items: [(RuleAction, SourceSpan)] = []
        for ref in g.refs {
            switch RefPattern.parse(ref.value) {
            case .success(let p):
                if let repo = g.repoValue { items.append((.gitPush(repo: repo, ref: p), ref.span)) }
            case .failure(let e):
                diagnostics.error(e.code, e.message, at: ref.span, help: e.help)
            }
        }
        return items
    }

    /// `mixed-http-scheme`: one HOST:PORT with both `http` and `https` rules in an identity.
    mutating func checkMixedSchemes(_ rules: [EffectiveRule], identity: String) {
        let http = rules.compactMap { r -> (EffectiveRule, HTTPRuleAction)? in
            if case .http(let a) = r.action { return (r, a) } else { return nil }
        }
        var reported: Set<SourceSpan> = []
        for (r1, a1) in http where a1.scheme == .http {
            for (r2, a2) in http where a2.scheme == .https && a1.port == a2.port && HTTPHostName.overlap(a1.pattern.host, a2.pattern.host) {
                guard reported.insert(r1.span).inserted else { continue }
                diagnostics.error("mixed-http-scheme", "identity `\(identity)` has both `http` and `https` rules for \(a1.pattern.host):\(a1.port)",
                                  at: r1.span, help: "a host and port speaks one scheme: keep the `https` rules (or move the plain-HTTP service to another port)",
                                  notes: [RelatedNote("the https rule is here", at: r2.span)])
            }
        }
    }

    /// `env placeholder` statements of an identity: a declared secret and a variable not also set or passed.
    mutating func checkPlaceholders(_ d: IdentityDecl) -> (pairs: [(variable: String, secret: String)], spans: [String: SourceSpan]) {
        var pairs: [(variable: String, secret: String)] = []
        var spans: [String: SourceSpan] = [:]
        var set: [String: SourceSpan] = [:]
        var passed: [String: SourceSpan] = [:]
        for s in d.statements {
            if case .envSet(let e) = s { set[e.name.value] = set[e.name.value] ?? e.name.span }
            if case .envPass(let e) = s { for n in e.names { passed[n.value] = passed[n.value] ?? n.span } }
        }
        for case .envPlaceholder(let p) in d.statements {
            guard checkEnvName(p.name) else { continue }
            if secretDecls[p.secret.value] == nil {
                reportUnknownSecret(p.secret)
                continue
            }
            if let first = spans[p.name.value] ?? set[p.name.value] ?? passed[p.name.value] {
                diagnostics.error("duplicate-env", "environment variable `\(p.name.value)` gets a placeholder and is also set or passed", at: p.name.span,
                                  help: "the placeholder is the variable's value: remove the other `env` statement for it",
                                  notes: [RelatedNote("also given here", at: first)])
                continue
            }
            spans[p.name.value] = p.span
            pairs.append((p.name.value, p.secret.value))
        }
        return (pairs, spans)
    }
}
