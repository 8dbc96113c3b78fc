// Rules about how identities are set up: git protection, secrets in the environment,
// limits, descriptions, unused permission sets.

extension LintRules {
    static let gitTargets = ["${workspace}/.git/hooks", "${workspace}/.git/config"].map(knownPath)

    static let unprotectedGit = LintRule(
        id: "unprotected-git", severity: .warning,
        rationale: "Git runs `.git/hooks` and obeys `.git/config` (core.fsmonitor, aliases) later, outside the sandbox: a writable workspace must deny writing them.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        for identity in identitiesInOrder(policy) {
            var grant: EffectiveRule?
            var open: [String] = []
            let view = FsView(identity)
            for t in gitTargets {
                guard let r = view.exposing(.write, t) else { continue }
                if grant == nil { grant = r }
                open.append(t.description)
            }
            guard let r = grant else { continue }
            let list = open.map { "`\($0)`" }.joined(separator: " and ")
            findings.append(LintFinding("identity `\(identity.name)` can write \(list)\(viaText(r))", at: r.span,
                                        help: "add `deny fs write " + open.map { "\"\($0)\"" }.joined(separator: ", ") + "` to `\(identity.name)`",
                                        notes: identityNote(identity, r)))
        }
        return findings
    }

    /// Whether an environment variable name looks like it holds a credential.
    public static func isSecretName(_ name: String) -> Bool {
        let n = name.uppercased()
        let exact: Set<String> = ["GITHUB_TOKEN", "GH_TOKEN", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "NETRC", "KUBECONFIG",
                                  "DOCKER_AUTH_CONFIG", "VAULT_TOKEN", "NPM_TOKEN", "PGPASSWORD", "MYSQL_PWD"]
        if exact.contains(n) { return true }
        for suffix in ["_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "_PASSWD", "_PWD", "_CREDENTIALS", "_AUTH", "_APIKEY"] where n.hasSuffix(suffix) {
            return true
        }
        for part in ["SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE_KEY", "API_KEY", "ACCESS_KEY"] where n.contains(part) {
            return true
        }
        for prefix in ["AWS_", "AZURE_", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_", "ARM_CLIENT_"] where n.hasPrefix(prefix) {
            return true
        }
        return false
    }

    static let secretEnv = LintRule(
        id: "secret-env", severity: .warning,
        rationale: "Passing credentials (`*_TOKEN`, `*_KEY`, `*SECRET*`, `AWS_*`, SSH_AUTH_SOCK...) into the agent's environment, or writing them in the policy, hands them to the agent.",
        tags: ["security"]
    ) { policy in
        var findings: [LintFinding] = []
        for file in policy.files {
            for case .identity(let d) in file.items {
                for s in d.statements {
                    switch s {
                    case .envPass(let e):
                        for n in e.names where isSecretName(n.value) {
                            findings.append(LintFinding("`env pass \(n.value)` hands a credential to the agent", at: n.span,
                                                        help: "give the agent a narrowly scoped, short-lived credential through a broker instead, or drop `\(n.value)`"))
                        }
                    case .envSet(let e) where isSecretName(e.name.value) && !e.value.value.isEmpty:
                        findings.append(LintFinding("`env set \(e.name.value)` writes a credential into the policy", at: e.value.span,
                                                    help: "never store secrets in a policy file; pass a scoped credential at launch"))
                    default: break
                    }
                }
            }
        }
        return findings
    }

    static let noLimits = LintRule(
        id: "no-limits", severity: .warning,
        rationale: "An unattended agent without limits (above all `wall-time`) can run forever and exhaust the machine.",
        tags: ["reliability"]
    ) { policy in
        var findings: [LintFinding] = []
        for file in policy.files {
            for case .identity(let d) in file.items {
                let kinds = d.statements.compactMap { s -> LimitKind? in
                    if case .limit(let l) = s { return l.kind }
                    return nil
                }
                if kinds.isEmpty {
                    findings.append(LintFinding("identity `\(d.name.value)` has no limits", at: d.name.span,
                                                help: "add at least `limit wall-time 30m`, `limit processes 256` and `limit memory 4GiB`"))
                } else if !kinds.contains(.wallTime) {
                    findings.append(LintFinding("identity `\(d.name.value)` has no `wall-time` limit", at: d.name.span,
                                                help: "add `limit wall-time 30m` (or what the job needs)"))
                }
            }
        }
        return findings
    }

    static let missingDescription = LintRule(
        id: "missing-description", severity: .warning,
        rationale: "Reviewers and audit records need to know what an identity is for.",
        tags: ["hygiene"]
    ) { policy in
        var findings: [LintFinding] = []
        for file in policy.files {
            for case .identity(let d) in file.items {
                let has = d.statements.contains { if case .description = $0 { return true } else { return false } }
                if !has {
                    findings.append(LintFinding("identity `\(d.name.value)` has no description", at: d.name.span,
                                                help: "add `description \"what this agent does\"`"))
                }
            }
        }
        return findings
    }

    static let unusedPermissions = LintRule(
        id: "unused-permissions", severity: .warning,
        rationale: "A permission set that no identity uses, directly or through other sets, is dead policy that misleads reviewers.",
        tags: ["hygiene"]
    ) { policy in
        // Sets of included files are a library that other policies may use; only the root
        // file's sets (the last loaded: includes load first) are checked, and only when
        // the policy defines an identity.
        guard let root = policy.files.last, !policy.identities.isEmpty else { return [] }
        var used: Set<String> = []
        var queue: [String] = []
        func visit(_ statements: [Statement]) {
            for case .use(let u) in statements {
                for n in u.names where used.insert(n.value).inserted { queue.append(n.value) }
            }
        }
        for file in policy.files {
            for case .identity(let d) in file.items { visit(d.statements) }
        }
        while let name = queue.popLast() {
            if let set = policy.permissionSets[name] { visit(set.statements) }
        }
        var findings: [LintFinding] = []
        for case .permissions(let d) in root.items where !used.contains(d.name.value) {
            findings.append(LintFinding("permission set `\(d.name.value)` is not used by any identity", at: d.name.span,
                                        help: "remove it, or add `use \(d.name.value)` to the identity that needs it"))
        }
        return findings
    }
}
