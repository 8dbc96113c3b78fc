extension PolicyChecker {
    /// Checks every trigger (after identities and secrets are known), in source order.
    mutating func checkTriggers(_ files: [PolicyFile]) -> [CheckedTrigger] {
        var names: [String: SourceSpan] = [:]
        var triggers: [CheckedTrigger] = []
        for file in files {
            for case .trigger(let d) in file.items {
                let checked = checkTrigger(d)
                if let first = names[d.name.value] {
                    duplicate("trigger", d.name, first: first)
                    continue
                }
                names[d.name.value] = d.name.span
                if let checked { triggers.append(checked) }
            }
        }
        return triggers
    }

    /// One trigger; nil when it has errors (every error reported).
    mutating func checkTrigger(_ d: TriggerDecl) -> CheckedTrigger? {
        let name = d.name.value
        var ok = true
        var seen: [String: TriggerClause] = [:]
        for c in d.clauses {
            if let first = seen[c.keyword.value] {
                diagnostics.error("duplicate-trigger-clause", "trigger `\(name)` has more than one `\(c.keyword.value)` line", at: c.keyword.span,
                                  help: "write one `\(c.keyword.value)` line and list its values with commas",
                                  notes: [RelatedNote("first written here", at: first.span)])
                ok = false
            } else {
                seen[c.keyword.value] = c
            }
        }
        // The source decides which other clauses make sense.
        var source: TriggerSourceKind?
        var sourceSpan = d.name.span
        if let on = seen["on"] {
            switch on.body {
            case .onForge(let s, _, _), .onWebhook(let s, _), .onSchedule(let s, _, _), .onManual(let s):
                source = s.value
                sourceSpan = s.span
            default: break
            }
        }
        func missing(_ clause: String, _ help: String) {
            diagnostics.error("trigger-missing-clause", "trigger `\(name)` has no `\(clause)` line", at: d.name.span, help: help)
            ok = false
        }
        if seen["identity"] == nil { missing("identity", "add `identity NAME`: the identity the agent runs as") }
        if seen["on"] == nil { missing("on", "add `on github EVENT ACTION`, `on gitlab ...`, `on webhook \"HOOK\"`, `on schedule \"CRON\"` or `on manual`") }
        if seen["run"] == nil { missing("run", "add `run \"COMMAND\", \"ARG\", ...`: the command the agent runs") }
        if let source {
            if source.isForge, seen["repository"] == nil {
                missing("repository", "a \(source.rawValue) trigger names the repositories it accepts: add `repository \"owner/name\"` (patterns like \"acme/*\" work)")
            }
            if source == .manual, seen["by"] == nil {
                missing("by", "a manual trigger names who may start it: add `by \"USER\"` or `by group \"GROUP\"`")
            }
            let allowed: Set<String>
            switch source {
            case .github, .gitlab: allowed = ["repository", "branch", "by", "secret", "fields"]
            case .webhook: allowed = ["secret", "fields"]
            case .schedule: allowed = []
            case .manual: allowed = ["by"]
            }
            if let c = seen["fleet"], source != .schedule, source != .manual {
                diagnostics.error("trigger-clause-conflict", "`fleet` does not apply to a \(source.rawValue) trigger", at: c.keyword.span,
                                  help: source.isForge
                                    ? "a \(source.rawValue) event names its own repository: `workspace clone` runs on it; a fleet is started by `on schedule` or `on manual`"
                                    : "one delivery signed with a shared secret must not fan out over every repository of a list; start a fleet with `on schedule` or `on manual`",
                                  notes: [RelatedNote("the trigger's source is here", at: sourceSpan)])
                ok = false
            }
            for key in ["repository", "branch", "by", "secret", "fields"] where !allowed.contains(key) {
                guard let c = seen[key] else { continue }
                diagnostics.error("trigger-clause-conflict", "`\(key)` does not apply to a \(source.rawValue) trigger", at: c.keyword.span,
                                  help: Self.conflictHelp(key, source), notes: [RelatedNote("the trigger's source is here", at: sourceSpan)])
                ok = false
            }
        }

        var trigger = CheckedTrigger(name: name, nameSpan: d.name.span, identity: "", source: source ?? .manual,
                                     workspace: source?.isForge == true ? .clone : .empty, run: [])
        for c in d.clauses where seen[c.keyword.value]?.span == c.span {
            trigger.clauseSpans[c.keyword.value] = c.span
            switch c.body {
            case .identity(let n):
                if identityDecls[n.value] != nil {
                    trigger.identity = n.value
                } else {
                    let help = sets[n.value] != nil ? "`\(n.value)` is a permission set; a trigger starts an identity"
                        : Suggestions.help(for: n.value, in: identityDecls.keys) ?? "define it with `identity \(n.value) { ... }`"
                    diagnostics.error("unknown-identity", "unknown identity `\(n.value)`", at: n.span, help: help)
                    ok = false
                }
            case .onForge(let s, let event, let actions):
                ok = checkForgeEvent(s.value, event, actions) && ok
                trigger.event = event.value
                var list: [String] = []
                for a in actions where !list.contains(a.value) { list.append(a.value) }
                trigger.actions = list
            case .onWebhook(_, let hook):
                if !Self.isHookName(hook.value) {
                    diagnostics.error("invalid-trigger-hook", "`\(hook.value)` is not a hook name", at: hook.span,
                                      help: "a hook name is 1-64 lowercase letters, digits, `-` and `_` (it is the last segment of the hook's URL)")
                    ok = false
                }
                trigger.hook = hook.value
            case .onSchedule(_, let cron, let zone):
                switch CronSchedule.parse(cron.value) {
                case .success(let s): trigger.schedule = s
                case .failure(let e):
                    diagnostics.error(e.code, e.message, at: cron.span, help: e.help)
                    ok = false
                }
                if let zone {
                    if let problem = TimeZoneName.problem(zone.value) {
                        diagnostics.error("unknown-time-zone", problem, at: zone.span,
                                          help: "name an IANA zone such as \"Europe/Berlin\" or \"America/New_York\" (see \(TimeZoneName.directory))")
                        ok = false
                    }
                    trigger.timeZone = zone.value
                }
            case .onManual: break
            case .repository(let list):
                trigger.repositories = patterns(list, caseInsensitive: true) { c, p, s in c.checkRepositoryPattern(p, s, source) }
                ok = ok && trigger.repositories.count == list.count
            case .branch(let list):
                trigger.branches = patterns(list, caseInsensitive: false) { _, _, _ in true }
                ok = ok && trigger.branches.count == list.count
            case .by(let list):
                for p in list {
                    if source == .manual, p.kind == .team {
                        diagnostics.error("trigger-clause-conflict", "`team` does not apply to a manual trigger", at: p.span,
                                          help: "a manual launch is by a local user: write `group \"NAME\"` for a local group")
                        ok = false
                        continue
                    }
                    if source?.isForge == true, p.kind == .group {
                        diagnostics.error("trigger-clause-conflict", "`group` does not apply to a \(source!.rawValue) trigger", at: p.span,
                                          help: "write `team \"org/slug\"` for a \(source == .github ? "GitHub team" : "GitLab group") the sender belongs to")
                        ok = false
                        continue
                    }
                    switch TriggerGlob.parse(p.name.value, caseInsensitive: source != .manual) {
                    case .success(let g): trigger.senders.append(TriggerPrincipalValue(kind: p.kind, pattern: g, span: p.span))
                    case .failure(let e):
                        diagnostics.error(e.code, e.message, at: p.name.span, help: e.help)
                        ok = false
                    }
                }
            case .secret(let n):
                if secretDecls[n.value] == nil {
                    reportUnknownSecret(n)
                    ok = false
                }
                trigger.secret = n.value
            case .workspace(let kind, let path):
                if let kind {
                    switch kind.value {
                    case "clone":
                        if let source, !source.isForge, seen["fleet"] == nil {
                            diagnostics.error("trigger-clause-conflict", "`workspace clone` needs an event with a repository; a \(source.rawValue) trigger has none",
                                              at: kind.span, help: "write `workspace empty` or `workspace \"/path/to/checkout\"`",
                                              notes: [RelatedNote("the trigger's source is here", at: sourceSpan)])
                            ok = false
                        }
                        trigger.workspace = .clone
                    case "empty" where seen["fleet"] != nil:
                        fleetWorkspaceConflict(kind.span, seen["fleet"]!.span)
                        ok = false
                    case "empty": trigger.workspace = .empty
                    default:
                        diagnostics.error("invalid-trigger-workspace", "unknown workspace `\(kind.value)`", at: kind.span,
                                          help: Suggestions.help(for: kind.value, in: ["clone", "empty"]) ?? "write `clone`, `empty` or a directory in quotes")
                        ok = false
                    }
                } else if let path {
                    if let fleet = seen["fleet"] {
                        fleetWorkspaceConflict(path.span, fleet.span)
                        ok = false
                        continue
                    }
                    let parts = path.value.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                    guard path.value.hasPrefix("/"), path.value != "/", path.value.utf8.count <= 4096,
                          !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                        diagnostics.error("invalid-trigger-workspace", "workspace `\(path.value)` is not an absolute directory without `.`, `..` or empty components",
                                          at: path.span, help: "write the full path of the directory the agent works in, such as \"/srv/checkouts/app\"")
                        ok = false
                        continue
                    }
                    trigger.workspace = .directory(path.value)
                }
            case .fields(let list):
                for f in list {
                    if let problem = Self.fieldProblem(f.value) {
                        diagnostics.error("invalid-trigger-field", problem, at: f.span,
                                          help: "name a field of the payload by its keys joined with `.`, such as \"pull_request.number\"")
                        ok = false
                    } else if !trigger.fields.contains(f.value) {
                        trigger.fields.append(f.value)
                    }
                }
            case .run(let argv):
                if argv[0].value.isEmpty || argv[0].value.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    diagnostics.error("empty-run", "the command of trigger `\(name)` is empty", at: argv[0].span,
                                      help: "name the program first: `run \"make\", \"audit\"`")
                    ok = false
                }
                if let bad = argv.first(where: { $0.value.utf8.contains(0) }) {
                    diagnostics.error("empty-run", "a command argument holds a NUL byte", at: bad.span, help: "remove it")
                    ok = false
                }
                trigger.run = argv.map(\.value)
            case .budget(let entries):
                ok = checkBudget(entries, into: &trigger.budget) && ok
            case .description(let text):
                trigger.description = text.value
            case .fleet(let list):
                if let problem = Self.fleetListProblem(list.value) {
                    diagnostics.error("invalid-trigger-fleet", problem, at: list.span,
                                      help: "write the full path of a repository list (the format of `warden fleet --repos`), such as \"/etc/warden/repos.txt\"")
                    ok = false
                }
                trigger.fleet = list.value
                trigger.workspace = .clone
            }
        }
        return ok && source != nil ? trigger : nil
    }

    private mutating func fleetWorkspaceConflict(_ at: SourceSpan, _ fleet: SourceSpan) {
        diagnostics.error("trigger-clause-conflict", "a fleet trigger's workspace is a fresh clone of each repository of its list",
                          at: at, help: "remove the `workspace` line (or write `workspace clone`)",
                          notes: [RelatedNote("the fleet is named here", at: fleet)])
    }

    /// Why `path` cannot name a fleet's repository list: it must be absolute, without `.`,
    /// `..` or empty components, and at most 4096 bytes (nil: fine).
    static func fleetListProblem(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/"), path != "/", path.utf8.count <= 4096, !path.utf8.contains(0),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "fleet list `\(path)` is not an absolute file path without `.`, `..` or empty components"
        }
        return nil
    }

    static func conflictHelp(_ clause: String, _ source: TriggerSourceKind) -> String {
        switch (clause, source) {
        case ("by", .webhook): return "a generic webhook has no sender Warden can check; its `secret` is what authorizes it"
        case ("by", .schedule): return "nobody causes a schedule; remove `by`"
        case ("secret", .schedule), ("secret", .manual): return "only webhook deliveries are authenticated with a secret; remove it"
        case ("fields", _): return "only webhook deliveries carry a payload; remove `fields`"
        default: return "`\(clause)` applies to github and gitlab triggers; remove it"
        }
    }
}
