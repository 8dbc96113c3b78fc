extension Parser {
    static let triggerClauseKeywords = ["identity", "on", "repository", "branch", "by", "secret", "workspace", "fields", "run", "budget", "description", "fleet"]

    /// `trigger NAME { clauses }` (after `trigger`).
    mutating func parseTrigger(start: Int, trivia lead: Trivia) throws(Abort) -> TriggerDecl {
        var trivia = lead
        let name = try itemName("trigger")
        var block = BlockTrivia()
        let clauses: [TriggerClause] = parseBlock(&block) { (p: inout Parser, lead: Trivia) in p.parseTriggerClause(lead) }
        let s = span(from: start)
        if lastBlockClosed { trivia.trailingComment = endStatement("`}`") }
        return TriggerDecl(name: name, clauses: clauses, span: s, trivia: trivia, block: block)
    }

    /// One line of a trigger block (nil when skipped after an error).
    mutating func parseTriggerClause(_ lead: Trivia) -> TriggerClause? {
        var trivia = lead
        let start = tok.start
        do {
            let keyword = try expectIdentifier("a trigger clause", help: "a trigger holds identity, on, repository, branch, by, secret, workspace, fields, run, budget, fleet and description lines")
            let body: TriggerClauseBody
            switch keyword.value {
            case "identity":
                body = .identity(try expectIdentifier("an identity name"))
            case "on":
                body = try parseTriggerSource()
            case "repository":
                body = .repository(try stringList("a repository pattern in quotes, like \"acme/*\""))
            case "branch":
                body = .branch(try stringList("a branch pattern in quotes, like \"main\""))
            case "by":
                body = .by(try parsePrincipals())
            case "secret":
                body = .secret(try expectIdentifier("a secret name", help: "name a secret declared with `secret NAME from ...`"))
            case "workspace":
                if tok.kind == .string {
                    body = .workspace(kind: nil, path: try expectString("a directory"))
                } else {
                    body = .workspace(kind: try expectIdentifier("`clone`, `empty` or a directory in quotes"), path: nil)
                }
            case "fields":
                body = .fields(try stringList("a payload field in quotes, like \"pull_request.number\""))
            case "run":
                body = .run(try stringList("the command and its arguments in quotes, like \"review\", \"--pr\""))
            case "budget":
                body = .budget(try parseBudget())
            case "description":
                body = .description(try expectString("the description in quotes"))
            case "fleet":
                body = .fleet(try expectString("the repository list's path in quotes, like \"/etc/warden/repos.txt\""))
            default:
                diagnostics.append(.error("syntax-error", "unknown trigger clause `\(keyword.value)`", at: keyword.span,
                                          help: Suggestions.help(for: keyword.value, in: Parser.triggerClauseKeywords)
                                            ?? "a trigger holds " + Parser.triggerClauseKeywords.joined(separator: ", ") + " lines"))
                throw Abort()
            }
            let s = span(from: start)
            trivia.trailingComment = endStatement("the `\(keyword.value)` clause")
            return TriggerClause(keyword: keyword, body: body, span: s, trivia: trivia)
        } catch {
            skipLine()
            return nil
        }
    }

    /// After `on`: `github|gitlab EVENT [ACTION, ...]`, `webhook "HOOK"`, `schedule "CRON" [timezone "ZONE"]`, `manual`.
    mutating func parseTriggerSource() throws(Abort) -> TriggerClauseBody {
        let source = try parseKeyword(TriggerSourceKind.self, "`github`, `gitlab`, `webhook`, `schedule` or `manual`")
        switch source.value {
        case .github, .gitlab:
            let event = try expectIdentifier("an event name, like pull_request",
                                             help: "write `on \(source.value.rawValue) \(source.value == .github ? "pull_request opened, synchronize" : "merge_request open, update")`")
            var actions: [Name] = []
            if tok.kind == .identifier { actions = try nameList("an action name") }
            return .onForge(source: source, event: event, actions: actions)
        case .webhook:
            return .onWebhook(source: source, hook: try expectString("the hook's name in quotes, like \"deploy\""))
        case .schedule:
            let cron = try expectString("a cron schedule in quotes, like \"0 3 * * 1-5\"")
            var zone: StringLiteral?
            if isKeyword("timezone") {
                advance()
                zone = try expectString("a time zone in quotes, like \"Europe/Berlin\"")
            }
            return .onSchedule(source: source, cron: cron, timezone: zone)
        case .manual:
            return .onManual(source: source)
        }
    }

    /// `"a", "b", ...` (at least one).
    mutating func stringList(_ what: String) throws(Abort) -> [StringLiteral] {
        var list = [try expectString(what)]
        while tok.kind == .comma {
            advance()
            list.append(try expectString(what))
        }
        return list
    }

    /// `"login", team "org/slug", group "name", ...`.
    mutating func parsePrincipals() throws(Abort) -> [TriggerPrincipal] {
        var list: [TriggerPrincipal] = []
        repeat {
            if !list.isEmpty { advance() }
            let start = tok.start
            var kind = TriggerPrincipal.Kind.user
            if isKeyword("team") || isKeyword("group") {
                kind = tok.text == "team" ? .team : .group
                advance()
            }
            let name = try expectString(kind == .user ? "a login in quotes, or `team \"org/slug\"` or `group \"name\"`" : "a \(kind.rawValue) name in quotes")
            list.append(TriggerPrincipal(kind: kind, name: name, span: span(from: start)))
        } while tok.kind == .comma
        return list
    }

    /// `runs N per PERIOD, concurrent N, wall-time DURATION per PERIOD`.
    mutating func parseBudget() throws(Abort) -> [TriggerBudgetEntry] {
        var list: [TriggerBudgetEntry] = []
        repeat {
            if !list.isEmpty { advance() }
            let start = tok.start
            let kind = try expectIdentifier("`runs`, `concurrent` or `wall-time`", help: "write `budget runs 20 per hour, concurrent 4, wall-time 2h per day`")
            guard tok.kind == .number else { throw fail("a number after `\(kind.value)`", help: "write `budget runs 20 per hour, concurrent 4, wall-time 2h per day`") }
            let amount = Located(tok.text, span(tok))
            advance()
            var period: Name?
            if isKeyword("per") {
                advance()
                period = try expectIdentifier("`minute`, `hour` or `day` after `per`")
            }
            list.append(TriggerBudgetEntry(kind: kind, amount: amount, period: period, span: span(from: start)))
        } while tok.kind == .comma
        return list
    }

    /// After `expect allow|deny trigger`: the event's words up to the end of the line
    /// (identifiers and strings; commas separate list entries and are dropped).
    mutating func parseTriggerExpectTarget(start: Int) throws(Abort) -> ExpectTarget {
        var words: [TriggerEventWords.Word] = []
        while tok.kind == .identifier || tok.kind == .string || tok.kind == .comma {
            if tok.kind != .comma { words.append(.init(text: tok.text, quoted: tok.kind == .string, span: span(tok))) }
            advance()
        }
        guard !words.isEmpty else {
            throw fail("an event after `trigger`", help: "for example `expect allow trigger github pull_request opened \"acme/app\" by \"alice\"`")
        }
        return .trigger(TriggerEventWords(words: words, span: span(from: start)))
    }
}
