// Rules about triggers: who can cause an agent to run.

extension LintRules {
    static let triggerWithoutSecret = LintRule(
        id: "trigger-without-secret", severity: .warning,
        rationale: "A webhook trigger without `secret` cannot tell a genuine delivery from a forged one: anyone who can reach the server can start the agent.",
        tags: ["security"]
    ) { policy in
        policy.triggers.compactMap { t in
            guard t.source.isForge || t.source == .webhook, t.secret == nil else { return nil }
            return LintFinding("trigger `\(t.name)` accepts \(t.source.rawValue) deliveries without checking a signature", at: t.nameSpan,
                               help: "declare the webhook's secret (`secret \(t.name)-hook from file \"/etc/warden/\(t.name)-hook\"`) and add `secret \(t.name)-hook` to the trigger")
        }
    }

    static let triggerOpenToAnyone = LintRule(
        id: "trigger-open-to-anyone", severity: .warning,
        rationale: "A github or gitlab trigger without `by` (or with `by \"*\"`) starts the agent for any sender: on a public repository, anyone who opens a pull request or comments decides what the agent reads.",
        tags: ["security"]
    ) { policy in
        policy.triggers.compactMap { t in
            guard t.source.isForge else { return nil }
            if t.senders.isEmpty {
                return LintFinding("trigger `\(t.name)` starts identity `\(t.identity)` for any sender", at: t.clauseSpans["on"] ?? t.nameSpan,
                                   help: "add `by \"LOGIN\", team \"org/team\"` naming who may start it")
            }
            // `by "*"` (or a team pattern matching every team) is no restriction either.
            guard let open = t.senders.first(where: \.pattern.matchesEverything) else { return nil }
            return LintFinding("trigger `\(t.name)` starts identity `\(t.identity)` for any sender (\"\(open.pattern.text)\")", at: open.span,
                               help: "name the logins or teams that may start it")
        }
    }

    static let triggerAnyRepository = LintRule(
        id: "trigger-any-repository", severity: .warning,
        rationale: "A repository pattern such as \"*/*\" or \"**\" accepts events from every repository whose webhooks reach the server, including ones the operator does not control.",
        tags: ["security"]
    ) { policy in
        policy.triggers.flatMap { t in
            t.repositories.filter(\.glob.matchesEverything).map { p in
                LintFinding("trigger `\(t.name)` accepts every repository (\"\(p.glob.text)\")" + (t.senders.isEmpty ? " from any sender" : ""), at: p.span,
                            help: "name the owner at least: \"acme/*\"")
            }
        }
    }

    static let triggerFleetUnbounded = LintRule(
        id: "trigger-fleet-unbounded", severity: .warning,
        rationale: "A fleet trigger without `budget concurrent N` starts as many of its repositories at once as the server's own limits allow: one firing can take every slot of the host from every other trigger.",
        tags: ["reliability"]
    ) { policy in
        policy.triggers.compactMap { t in
            guard t.fleet != nil, t.budget.concurrent == nil else { return nil }
            return LintFinding("fleet trigger `\(t.name)` has no `budget concurrent N`: a firing may take every run slot of the server",
                               at: t.clauseSpans["fleet"] ?? t.nameSpan,
                               help: "cap its parallelism: `budget concurrent 4`")
        }
    }
}
