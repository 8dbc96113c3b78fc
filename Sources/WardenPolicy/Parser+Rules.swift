extension Parser {
    /// `(allow|deny) KIND ... [because "reason"]`.
    mutating func parseRule(_ lead: Trivia) throws(Abort) -> Rule {
        var trivia = lead
        let start = tok.start
        let effect = try parseEffect()
        guard tok.kind == .identifier else { throw fail("`fs`, `net`, `syscall`, `capability`, `https`, `http` or `git`") }
        let kindToken = tok
        let body: RuleBody
        switch kindToken.text {
        case "fs":
            advance()
            var access = [try parseKeyword(FsAccess.self, "`read`, `write` or `exec`")]
            while tok.kind == .comma, peek().kind == .identifier {
                advance()
                access.append(try parseKeyword(FsAccess.self, "`read`, `write` or `exec`"))
            }
            guard tok.kind == .string else { throw fail("a path in quotes", help: "for example `allow fs read \"/usr\"`") }
            var paths: [PathLiteral] = []
            repeat {
                if !paths.isEmpty { advance() }
                paths.append(pathLiteral(try expectString("a path in quotes")))
            } while tok.kind == .comma
            var create: SourceSpan?
            if isKeyword("create") {
                create = span(tok)
                advance()
            }
            body = .fs(FsRule(access: access, paths: paths, create: create))
        case "net":
            advance()
            let dir = try parseKeyword(NetDirection.self, "`connect` or `bind`")
            let proto = try parseKeyword(NetProtocol.self, "`tcp` or `udp`")
            var endpoints: [EndpointLiteral] = []
            repeat {
                if !endpoints.isEmpty { advance() }
                endpoints.append(endpointLiteral(try expectString("an endpoint in quotes, like \"example.org:443\"")))
            } while tok.kind == .comma
            body = .net(NetRule(direction: dir, proto: proto, endpoints: endpoints))
        case "syscall":
            advance()
            var specs = [try parseSyscallSpec()]
            while tok.kind == .comma {
                advance()
                specs.append(try parseSyscallSpec())
            }
            var errno: Name?
            if isKeyword("errno") {
                advance()
                errno = try expectIdentifier("an errno name such as EPERM")
            }
            body = .syscall(SyscallRule(specs: specs, errno: errno))
        case "capability":
            advance()
            body = .capability(CapabilityRule(names: try nameList("a capability name")))
        case "http", "https":
            let scheme = Located(HTTPScheme(rawValue: kindToken.text) ?? .https, span(kindToken))
            advance()
            body = .http(try parseHTTPBody(scheme))
        case "git":
            advance()
            body = .gitPush(try parseGitPushBody())
        default:
            diagnostics.append(.error("syntax-error", "unknown rule kind `\(kindToken.text)`", at: span(kindToken),
                                      help: Suggestions.help(for: kindToken.text, in: ["fs", "net", "syscall", "capability", "https", "http", "git"])
                                        ?? "the kinds are fs, net, syscall, capability, https, http and git"))
            throw Abort()
        }
        var because: StringLiteral?
        if isKeyword("because") {
            advance()
            because = try expectString("a reason in quotes", help: "write `because \"why this is needed\"`")
        }
        let s = span(from: start)
        trivia.trailingComment = endStatement("the rule")
        return Rule(effect: effect, body: body, because: because, span: s, trivia: trivia)
    }

    /// `cache PATH, ... [because "reason"]`: read/write paths backed by the identity's
    /// persistent cache store; parsed as an `allow fs read, write` rule marked `cache`.
    mutating func parseCache(_ lead: Trivia) throws(Abort) -> Rule {
        var trivia = lead
        let start = tok.start
        let keyword = span(tok)
        advance()
        guard tok.kind == .string else {
            throw fail("a path in quotes", help: "for example `cache \"${home}/.cache/pip\" because \"pip's download cache\"`")
        }
        var paths: [PathLiteral] = []
        repeat {
            if !paths.isEmpty { advance() }
            paths.append(pathLiteral(try expectString("a path in quotes")))
        } while tok.kind == .comma
        var because: StringLiteral?
        if isKeyword("because") {
            advance()
            because = try expectString("a reason in quotes", help: "write `because \"why this is needed\"`")
        }
        let s = span(from: start)
        trivia.trailingComment = endStatement("the cache statement")
        let access = [Located(FsAccess.read, keyword), Located(FsAccess.write, keyword)]
        return Rule(effect: Located(.allow, keyword), body: .fs(FsRule(access: access, paths: paths)), because: because,
                    span: s, trivia: trivia, cache: true)
    }

    /// `name`, `@group`, or `name(COND, ...)`.
    mutating func parseSyscallSpec() throws(Abort) -> SyscallSpec {
        let start = tok.start
        let name: Name
        let isGroup: Bool
        switch tok.kind {
        case .group:
            name = Name(tok.text, span(tok))
            isGroup = true
        case .identifier:
            name = Name(tok.text, span(tok))
            isGroup = false
        default:
            throw fail("a syscall name or `@group`")
        }
        advance()
        var conditions: [ArgCondition]?
        if tok.kind == .lparen {
            advance()
            var list: [ArgCondition] = []
            if tok.kind != .rparen {
                list.append(try parseCondition(position: 0))
                while tok.kind == .comma {
                    advance()
                    list.append(try parseCondition(position: list.count))
                }
            }
            try expect(.rparen, "`,` or `)`")
            conditions = list
        }
        return SyscallSpec(name: name, isGroup: isGroup, conditions: conditions, span: span(from: start))
    }

    static let comparisonTokens: [TokenKind: CompareOperator] = [
        .equal: .equal, .notEqual: .notEqual, .less: .less, .lessEqual: .lessEqual,
        .greater: .greater, .greaterEqual: .greaterEqual,
    ]

    /// `VALUE` (positional), `ARG OP VALUE`, `ARG & MASK == VALUE`, or `ARG in [VALUE, ...]`.
    mutating func parseCondition(position: Int) throws(Abort) -> ArgCondition {
        let start = tok.start
        let next = peek().kind
        let named = tok.kind == .identifier
            && (Parser.comparisonTokens[next] != nil || next == .ampersand || (peek().kind == .identifier && peek().text == "in"))
        if !named {
            let v = try parseValueExpr()
            let eq = Located(CompareOperator.equal, v.span)
            return ArgCondition(target: .position(position), test: .compare(eq, v), span: span(from: start))
        }
        let arg = Name(tok.text, span(tok))
        advance()
        let test: ArgTest
        if let op = Parser.comparisonTokens[tok.kind] {
            let opSpan = span(tok)
            advance()
            test = .compare(Located(op, opSpan), try parseValueExpr())
        } else if tok.kind == .ampersand {
            advance()
            let mask = try parseValueExpr()
            guard tok.kind == .equal else { throw fail("`==` after the mask", help: "write `\(arg.value) & MASK == VALUE`") }
            advance()
            test = .masked(mask: mask, value: try parseValueExpr())
        } else {
            advance()  // `in`
            try expect(.lbracket, "`[` after `in`")
            var values: [ValueExpr] = []
            if tok.kind != .rbracket {
                values.append(try parseValueExpr())
                while tok.kind == .comma {
                    advance()
                    values.append(try parseValueExpr())
                }
            }
            try expect(.rbracket, "`,` or `]`")
            test = .oneOf(values)
        }
        return ArgCondition(target: .argument(arg), test: test, span: span(from: start))
    }

    /// `TERM | TERM | ...` where a term is an integer literal or a constant name.
    mutating func parseValueExpr() throws(Abort) -> ValueExpr {
        let start = tok.start
        var terms = [try parseValueTerm()]
        while tok.kind == .pipe {
            advance()
            terms.append(try parseValueTerm())
        }
        return ValueExpr(terms: terms, span: span(from: start))
    }

    mutating func parseValueTerm() throws(Abort) -> ValueTerm {
        let s = span(tok)
        switch tok.kind {
        case .number:
            let text = tok.text
            advance()
            switch IntegerLiteral.parse(text) {
            case .success(let v): return ValueTerm(kind: .integer(v), span: s)
            case .failure(let e):
                diagnostics.append(.error(e.code, e.message, at: s, help: e.help))
                throw Abort()
            }
        case .identifier:
            let text = tok.text
            advance()
            return ValueTerm(kind: .constant(text), span: s)
        default:
            throw fail("a number or a constant name")
        }
    }
}
