// Rules about secrets: declared but never injected, handed to the agent raw, bound to
// every host under a domain, or sent in cleartext.

extension LintRules {
    /// Every `with` clause written in any loaded file, with the rule's parsed pattern.
    static func injectionClauses(_ policy: CheckedPolicy) -> [(clause: InjectionClause, rule: HTTPRule)] {
        allRuleStatements(policy).compactMap { r in
            guard case .http(let h) = r.body, let w = h.injection else { return nil }
            return (w, h)
        }
    }

    static let secretUnbound = LintRule(
        id: "secret-unbound", severity: .warning,
        rationale: "A secret that no `with` clause names is never injected: a placeholder for it is refused everywhere, and the declaration only invites mistakes.",
        tags: ["security", "hygiene"]
    ) { policy in
        // A trigger's `secret` (its webhook's key) is a use too.
        let bound = Set(injectionClauses(policy).map(\.clause.secret.value)).union(policy.triggers.compactMap(\.secret))
        var findings: [LintFinding] = []
        for file in policy.files {
            for case .secret(let d) in file.items where policy.secrets[d.name.value]?.span == d.span && !bound.contains(d.name.value) {
                findings.append(LintFinding("secret `\(d.name.value)` is not bound to any host: no rule injects it with `with`", at: d.name.span,
                                            help: "add `with bearer \(d.name.value)` (or `with basic`/`with header`) to the https rule of the host that needs it, or remove the secret"))
            }
        }
        return findings
    }

    static let secretEnvPass = LintRule(
        id: "secret-env-pass", severity: .warning,
        rationale: "`env pass` of the variable a `secret ... from env` reads hands the real credential to the agent, defeating the broker; passing a placeholder's variable overrides the placeholder.",
        tags: ["security"]
    ) { policy in
        var sources: [String: String] = [:]  // variable -> secret
        for s in policy.secrets.values {
            if case .env(let v) = s.source { sources[v] = s.name }
        }
        var findings: [LintFinding] = []
        for file in policy.files {
            for case .identity(let d) in file.items {
                var placeholders: Set<String> = []
                for case .envPlaceholder(let p) in d.statements { placeholders.insert(p.name.value) }
                for case .envPass(let e) in d.statements {
                    for n in e.names {
                        if let secret = sources[n.value] {
                            findings.append(LintFinding("`env pass \(n.value)` hands the value of secret `\(secret)` to the agent", at: n.span,
                                                        help: "remove `\(n.value)` from `env pass`: the broker injects `\(secret)` into the requests that need it; use `env placeholder` if a tool needs the variable set"))
                        } else if placeholders.contains(n.value) {
                            findings.append(LintFinding("`env pass \(n.value)` competes with the placeholder of the same variable", at: n.span,
                                                        help: "remove `\(n.value)` from `env pass`"))
                        }
                    }
                }
            }
        }
        return findings
    }

    static let secretWildcardHost = LintRule(
        id: "secret-wildcard-host", severity: .warning,
        rationale: "A secret injected on a `*.domain` rule goes to every host under the domain, including ones an attacker may control (user pages, uploads, tenants).",
        tags: ["security"]
    ) { policy in
        injectionClauses(policy).compactMap { w, rule in
            guard let p = rule.value, case .wildcardDomain(let d) = p.host else { return nil }
            return LintFinding("secret `\(w.secret.value)` is sent to every host under `\(d)`", at: w.span,
                               help: "name the exact host the secret belongs to, such as \"api.\(d)\"",
                               notes: [RelatedNote("the wildcard host is here", at: rule.pattern.span)])
        }
    }

    static let secretCleartext = LintRule(
        id: "secret-cleartext", severity: .warning,
        rationale: "A `with` clause on an `http` rule sends the secret unencrypted: anyone on the network path between the broker and the server can read it.",
        tags: ["security"]
    ) { policy in
        injectionClauses(policy).compactMap { w, rule in
            guard rule.scheme.value == .http else { return nil }
            return LintFinding("secret `\(w.secret.value)` is sent in cleartext: the rule is `http`, not `https`", at: w.span,
                               help: "use `https` for requests that carry a secret; if the server only speaks http on a network you trust, suppress with `# warden:ignore secret-cleartext`",
                               notes: [RelatedNote("the cleartext rule is here", at: rule.scheme.span)])
        }
    }
}
