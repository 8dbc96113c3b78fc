extension Parser {
    static let statementKeywords = ["allow", "deny", "use", "description", "limit", "env", "cache", "enforce-only"]

    /// One statement of a `permissions` or `identity` block (nil when skipped after an error).
    mutating func parseStatement(_ lead: Trivia) -> Statement? {
        var trivia = lead
        let start = tok.start
        do {
            guard tok.kind == .identifier else { throw fail("a statement", help: "statements start with allow, deny, use, description, limit or env") }
            let keyword = tok.text
            switch keyword {
            case "allow", "deny":
                let rule = try parseRule(trivia)
                return .rule(rule)
            case "cache":
                return .rule(try parseCache(trivia))
            case "use":
                advance()
                let names = try nameList("a permission set name")
                let s = span(from: start)
                trivia.trailingComment = endStatement("the use statement")
                return .use(UseStatement(names: names, span: s, trivia: trivia))
            case "description":
                advance()
                let text = try expectString("the description in quotes")
                let s = span(from: start)
                trivia.trailingComment = endStatement("the description")
                return .description(DescriptionStatement(text: text, span: s, trivia: trivia))
            case "enforce-only":
                advance()
                let s = span(from: start)
                trivia.trailingComment = endStatement("`enforce-only`")
                return .enforceOnly(EnforceOnlyStatement(span: s, trivia: trivia))
            case "limit":
                advance()
                let kindName = try expectIdentifier("a limit kind", help: "the limits are " + LimitKind.allCases.map(\.rawValue).joined(separator: ", "))
                guard tok.kind == .number else { throw fail("a limit value", help: "for example `limit processes 256`, `limit memory 4GiB`, `limit wall-time 30m`") }
                let valueText = Located(tok.text, span(tok))
                advance()
                let kind = LimitKind(rawValue: kindName.value)
                var value: LimitValue?
                if let kind {
                    switch kind.parseValue(valueText.value) {
                    case .success(let v): value = v
                    case .failure(let e): diagnostics.append(.error(e.code, e.message, at: valueText.span, help: e.help))
                    }
                }
                let s = span(from: start)
                trivia.trailingComment = endStatement("the limit")
                return .limit(LimitStatement(kindName: kindName, kind: kind, valueText: valueText, value: value, span: s, trivia: trivia))
            case "env":
                advance()
                let mode = try expectIdentifier("`pass`, `set` or `placeholder` after `env`")
                switch mode.value {
                case "pass":
                    let names = try nameList("an environment variable name")
                    let s = span(from: start)
                    trivia.trailingComment = endStatement("the env statement")
                    return .envPass(EnvPassStatement(names: names, span: s, trivia: trivia))
                case "placeholder":
                    return .envPlaceholder(try parsePlaceholder(start: start, trivia: trivia))
                case "set":
                    let name = try expectIdentifier("an environment variable name")
                    try expect(.assign, "`=`")
                    let value = try expectString("a value in quotes", help: "write `env set \(name.value) = \"value\"`")
                    let s = span(from: start)
                    trivia.trailingComment = endStatement("the env statement")
                    return .envSet(EnvSetStatement(name: name, value: value, span: s, trivia: trivia))
                default:
                    diagnostics.append(.error("syntax-error", "expected `pass`, `set` or `placeholder` after `env`, found `\(mode.value)`", at: mode.span,
                                              help: Suggestions.help(for: mode.value, in: ["pass", "set", "placeholder"])))
                    throw Abort()
                }
            default:
                let help = Suggestions.help(for: keyword, in: Parser.statementKeywords)
                    ?? "statements start with allow, deny, use, description, limit or env"
                diagnostics.append(.error("syntax-error", "unknown statement `\(keyword)`", at: span(tok), help: help))
                throw Abort()
            }
        } catch {
            skipLine()
            return nil
        }
    }

    /// One statement of a `test` block.
    mutating func parseTestStatement(_ lead: Trivia) -> TestStatement? {
        var trivia = lead
        let start = tok.start
        do {
            if isKeyword("identity") {
                advance()
                let name = try expectIdentifier("an identity name")
                let s = span(from: start)
                trivia.trailingComment = endStatement("the identity")
                return .identity(TestIdentityStatement(name: name, span: s, trivia: trivia))
            }
            guard isKeyword("expect") else {
                let help = tok.kind == .identifier ? Suggestions.help(for: tok.text, in: ["identity", "expect"]) : nil
                throw fail("`identity` or `expect`", help: help ?? "a test holds `identity NAME` and `expect allow|deny ...` lines")
            }
            advance()
            let effect = try parseEffect()
            let target = isKeyword("trigger") ? try parseTriggerTarget() : try parseExpectTarget()
            let s = span(from: start)
            trivia.trailingComment = endStatement("the expectation")
            return .expect(Expectation(effect: effect, target: target, span: s, trivia: trivia))
        } catch {
            skipLine()
            return nil
        }
    }

    /// `trigger WORDS...` after `expect allow|deny`.
    mutating func parseTriggerTarget() throws(Abort) -> ExpectTarget {
        let start = tok.start
        advance()
        return try parseTriggerExpectTarget(start: start)
    }

    mutating func parseEffect() throws(Abort) -> Located<Effect> {
        guard tok.kind == .identifier, let e = Effect(rawValue: tok.text) else { throw fail("`allow` or `deny`") }
        let r = Located(e, span(tok))
        advance()
        return r
    }

    mutating func parseExpectTarget() throws(Abort) -> ExpectTarget {
        let kind = try expectIdentifier("`fs`, `net`, `syscall`, `capability`, `https`, `http` or `git`")
        switch kind.value {
        case "http", "https":
            return try parseHTTPExpectTarget(Located(HTTPScheme(rawValue: kind.value) ?? .https, kind.span))
        case "git":
            return try parseGitPushExpectTarget()
        case "fs":
            let access = try parseKeyword(FsAccess.self, "`read`, `write` or `exec`")
            let path = try expectString("a path in quotes")
            return .fs(access, pathLiteral(path))
        case "net":
            let dir = try parseKeyword(NetDirection.self, "`connect` or `bind`")
            let proto = try parseKeyword(NetProtocol.self, "`tcp` or `udp`")
            let ep = try expectString("an endpoint in quotes, like \"example.org:443\"")
            return .net(dir, proto, endpointLiteral(ep))
        case "syscall":
            let name = try expectIdentifier("a syscall name")
            var args: [ValueExpr]?
            if tok.kind == .lparen {
                advance()
                var list: [ValueExpr] = []
                if tok.kind != .rparen {
                    list.append(try parseValueExpr())
                    while tok.kind == .comma {
                        advance()
                        list.append(try parseValueExpr())
                    }
                }
                guard tok.kind == .rparen else {
                    throw fail("`,` or `)`", help: "a test gives concrete argument values in order, for example `socket(AF_INET, 1)`")
                }
                advance()
                args = list
            }
            return .syscall(name, arguments: args)
        case "capability":
            return .capability(try expectIdentifier("a capability name"))
        default:
            diagnostics.append(.error("syntax-error", "unknown action kind `\(kind.value)`", at: kind.span,
                                      help: Suggestions.help(for: kind.value, in: ["fs", "net", "syscall", "capability", "https", "http", "git"])
                                        ?? "the kinds are fs, net, syscall, capability, https, http and git"))
            throw Abort()
        }
    }

    /// An identifier that must be one of an enum's raw values.
    mutating func parseKeyword<K: RawRepresentable & CaseIterable & Sendable & Hashable>(_ type: K.Type, _ what: String) throws(Abort) -> Located<K> where K.RawValue == String {
        guard tok.kind == .identifier else { throw fail(what) }
        guard let k = K(rawValue: tok.text) else {
            diagnostics.append(.error("syntax-error", "expected \(what), found `\(tok.text)`", at: span(tok),
                                      help: Suggestions.help(for: tok.text, in: K.allCases.map(\.rawValue))))
            throw Abort()
        }
        let r = Located(k, span(tok))
        advance()
        return r
    }

    /// A path string, validated (errors reported; value nil when malformed).
    mutating func pathLiteral(_ s: StringLiteral) -> PathLiteral {
        switch PolicyPath.parse(s.value) {
        case .success(let p): return PathLiteral(literal: s, value: p)
        case .failure(let e):
            diagnostics.append(.error(e.code, e.message, at: s.span, help: e.help))
            return PathLiteral(literal: s, value: nil)
        }
    }

    /// An endpoint string, validated (errors reported; value nil when malformed).
    mutating func endpointLiteral(_ s: StringLiteral) -> EndpointLiteral {
        switch Endpoint.parse(s.value) {
        case .success(let e): return EndpointLiteral(literal: s, value: e)
        case .failure(let e):
            diagnostics.append(.error(e.code, e.message, at: s.span, help: e.help))
            return EndpointLiteral(literal: s, value: nil)
        }
    }
}
