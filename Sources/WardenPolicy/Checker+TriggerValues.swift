// The values inside trigger clauses: events and actions, patterns, payload fields, hook
// names, budgets, and the events of `expect ... trigger` lines.

extension PolicyChecker {
    /// `on github|gitlab EVENT ACTION, ...`: a known event, and actions it has.
    mutating func checkForgeEvent(_ source: TriggerSourceKind, _ event: Name, _ actions: [Name]) -> Bool {
        let events = TriggerVocabulary.events(source)
        guard events.contains(event.value) else {
            diagnostics.error("unknown-trigger-event", "unknown \(source.rawValue) event `\(event.value)`", at: event.span,
                              help: Suggestions.help(for: event.value, in: events)
                                ?? "name a webhook event such as \(source == .github ? "pull_request, issues, issue_comment or push" : "merge_request, issue, note or push")")
            return false
        }
        if TriggerVocabulary.hasNoAction(source, event.value), let a = actions.first {
            diagnostics.error("unknown-trigger-event", "\(source.rawValue) `\(event.value)` events have no action", at: a.span,
                              help: "remove the actions: `on \(source.rawValue) \(event.value)`")
            return false
        }
        var ok = true
        if let known = TriggerVocabulary.actions(source, event.value) {
            for a in actions where !known.contains(a.value) {
                diagnostics.error("unknown-trigger-event", "`\(a.value)` is not an action of \(source.rawValue) `\(event.value)` events", at: a.span,
                                  help: Suggestions.help(for: a.value, in: known) ?? "the actions are " + known.sorted().joined(separator: ", "))
                ok = false
            }
        }
        return ok
    }

    /// Patterns of a list; errors reported (and left out of the result).
    mutating func patterns(_ list: [StringLiteral], caseInsensitive: Bool,
                           _ extra: (inout PolicyChecker, TriggerGlob, SourceSpan) -> Bool) -> [TriggerPatternValue] {
        var out: [TriggerPatternValue] = []
        for s in list {
            switch TriggerGlob.parse(s.value, caseInsensitive: caseInsensitive) {
            case .success(let g):
                if extra(&self, g, s.span) { out.append(TriggerPatternValue(glob: g, span: s.span)) }
            case .failure(let e):
                diagnostics.error(e.code, e.message, at: s.span, help: e.help)
            }
        }
        return out
    }

    /// A repository pattern is `owner/name` (GitLab: `group/.../project`), wildcards allowed.
    mutating func checkRepositoryPattern(_ g: TriggerGlob, _ span: SourceSpan, _ source: TriggerSourceKind?) -> Bool {
        let segments = g.text.split(separator: "/", omittingEmptySubsequences: false)
        if segments.count < 2 && g.text != "**" || segments.contains(where: \.isEmpty) {
            diagnostics.error("invalid-trigger-pattern", "`\(g.text)` is not a repository pattern: write \"owner/name\"", at: span,
                              help: g.text == "*" ? "`*` stops at `/`: write \"*/*\" for every repository of every owner (and limit who may trigger with `by`)"
                                  : "for example \"acme/app\" or \"acme/*\"")
            return false
        }
        if source == .github, segments.count > 2, !g.text.contains("**") {
            diagnostics.error("invalid-trigger-pattern", "`\(g.text)` has \(segments.count) parts; a GitHub repository is \"owner/name\"", at: span)
            return false
        }
        return true
    }

    /// A dotted payload path: 1-16 keys of `[A-Za-z0-9_-]`, at most 256 bytes.
    static func fieldProblem(_ f: String) -> String? {
        guard !f.isEmpty, f.utf8.count <= 256 else { return "`\(f)` is not a payload field" }
        let keys = f.split(separator: ".", omittingEmptySubsequences: false)
        guard keys.count <= 16 else { return "`\(f)` is nested more than 16 levels deep" }
        for k in keys {
            guard !k.isEmpty, k.utf8.allSatisfy({ ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }) else {
                return "`\(f)` is not a payload field: keys are letters, digits, `_` and `-`, joined by `.`"
            }
        }
        return nil
    }

    static func isHookName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    /// `budget` entries: known kinds, positive amounts, a period where one is needed.
    mutating func checkBudget(_ entries: [TriggerBudgetEntry], into budget: inout TriggerBudget) -> Bool {
        var ok = true
        func bad(_ message: String, _ span: SourceSpan, _ help: String = "write `budget runs 20 per hour, concurrent 4, wall-time 2h per day`") {
            diagnostics.error("invalid-trigger-budget", message, at: span, help: help)
            ok = false
        }
        for e in entries {
            guard ["runs", "concurrent", "wall-time"].contains(e.kind.value) else {
                bad("unknown budget `\(e.kind.value)`", e.kind.span,
                    Suggestions.help(for: e.kind.value, in: ["runs", "concurrent", "wall-time"]) ?? "the budgets are runs, concurrent and wall-time")
                continue
            }
            if budget.spans[e.kind.value] != nil {
                bad("budget `\(e.kind.value)` is given twice", e.span)
                continue
            }
            var period: TriggerPeriod?
            if let p = e.period {
                guard let value = TriggerPeriod(rawValue: p.value) else {
                    bad("`\(p.value)` is not a period", p.span, "write `per minute`, `per hour` or `per day`")
                    continue
                }
                period = value
            }
            let amount: UInt64
            let parsed = e.kind.value == "wall-time" ? LimitValue.parseDuration(e.amount.value).map(\.amount)
                : IntegerLiteral.parse(e.amount.value)
            switch parsed {
            case .success(let v): amount = v
            case .failure(let err):
                bad(err.message, e.amount.span, err.help ?? "write a number")
                continue
            }
            guard amount > 0, amount <= 1_000_000_000 else {
                bad(amount == 0 ? "a budget of 0 would refuse every launch" : "budget `\(e.amount.value)` is too large", e.amount.span,
                    amount == 0 ? "remove the trigger (or its `on` line) to stop it" : "use a value up to 1000000000")
                continue
            }
            switch e.kind.value {
            case "concurrent":
                if let p = e.period { bad("`concurrent` counts runs at once; it has no period", p.span, "write `concurrent \(amount)`"); continue }
                budget.concurrent = Int(amount)
            case "runs":
                guard let period else { bad("`runs` needs a period", e.span, "write `runs \(amount) per hour`"); continue }
                budget.runsCount = Int(amount)
                budget.runsPeriod = period
            default:
                guard let period else { bad("`wall-time` needs a period", e.span, "write `wall-time \(e.amount.value) per day`"); continue }
                budget.wallTimeSeconds = Int(amount)
                budget.wallTimePeriod = period
            }
            budget.spans[e.kind.value] = e.span
        }
        return ok
    }

    /// The event of an `expect ... trigger` line (errors reported at the word).
    mutating func resolveTriggerTarget(_ w: TriggerEventWords) -> TestAction? {
        switch TriggerEventSyntax.parse(w.words.map(\.text)) {
        case .success(let e): return .trigger(e)
        case .failure(let p):
            let at = p.word.flatMap { $0 < w.words.count ? w.words[$0].span : nil } ?? w.span
            diagnostics.error("invalid-trigger-event", p.message, at: at, help: p.help ?? "write `trigger \(TriggerEventSyntax.usage)`")
            return nil
        }
    }
}
