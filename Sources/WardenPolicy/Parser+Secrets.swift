extension Parser {
    /// `secret NAME from env "VAR" | file "/path" | command "/argv0", "arg", ...` (after `secret`).
    mutating func parseSecret(start: Int, trivia lead: Trivia) throws(Abort) -> SecretDecl {
        var trivia = lead
        let name = try expectIdentifier("a secret name", help: "write `secret gh-token from env \"WARDEN_GH_TOKEN\"`")
        guard isKeyword("from") else { throw fail("`from` after the secret name", help: "write `secret \(name.value) from env \"VARIABLE\"`") }
        advance()
        let kind = try parseKeyword(SecretSourceKind.self, "`env`, `file` or `command`")
        var arguments = [try expectString(kind.value == .command ? "the command's absolute path in quotes" : kind.value == .env ? "a variable name in quotes" : "an absolute file path in quotes")]
        if kind.value == .command {
            while tok.kind == .comma {
                advance()
                arguments.append(try expectString("a command argument in quotes"))
            }
        }
        let s = span(from: start)
        trivia.trailingComment = endStatement("the secret")
        return SecretDecl(name: name, kind: kind, arguments: arguments, span: s, trivia: trivia)
    }

    /// After `http`/`https`: `METHOD, ... "PATTERN" [with ...]` or `* "PATTERN" [with ...]`.
    mutating func parseHTTPBody(_ scheme: Located<HTTPScheme>) throws(Abort) -> HTTPRule {
        var methods: [Name] = []
        var any: Located<String>?
        if tok.kind == .star {
            any = Located("*", span(tok))
            advance()
        } else {
            methods = try nameList("an HTTP method such as GET, or `*`")
        }
        let pattern = try expectString("a pattern in quotes, like \"api.github.com/repos/**\"")
        var value: HTTPPattern?
        switch HTTPPattern.parse(pattern.value) {
        case .success(let p): value = p
        case .failure(let e): diagnostics.append(.error(e.code, e.message, at: pattern.span, help: e.help))
        }
        var injection: InjectionClause?
        if isKeyword("with") {
            let start = tok.start
            advance()
            let form = try expectIdentifier("`bearer`, `basic` or `header` after `with`")
            var argument: StringLiteral?
            switch form.value {
            case "bearer": break
            case "basic": argument = try expectString("the user name in quotes", help: "write `with basic \"x-access-token\" SECRET`")
            case "header": argument = try expectString("the header name in quotes", help: "write `with header \"x-api-key\" SECRET`")
            default:
                diagnostics.append(.error("syntax-error", "expected `bearer`, `basic` or `header` after `with`, found `\(form.value)`", at: form.span,
                                          help: Suggestions.help(for: form.value, in: ["bearer", "basic", "header"])))
                throw Abort()
            }
            let secret = try expectIdentifier("a secret name", help: "name a secret declared with `secret NAME from ...`")
            injection = InjectionClause(form: form, argument: argument, secret: secret, span: span(from: start))
        }
        return HTTPRule(scheme: scheme, methods: methods, anyMethod: any, pattern: pattern, value: value, injection: injection)
    }

    /// After `git`: `push "HOST/REPO" ref "PATTERN", ...`.
    mutating func parseGitPushBody() throws(Abort) -> GitPushRule {
        guard isKeyword("push") else { throw fail("`push` after `git`", help: "write `allow git push \"github.com/acme/app\" ref \"refs/heads/agent/*\"`") }
        advance()
        let repo = try expectString("a repository in quotes, like \"github.com/acme/app\"")
        var repoValue: GitRepoPattern?
        switch GitRepoPattern.parse(repo.value) {
        case .success(let r): repoValue = r
        case .failure(let e): diagnostics.append(.error(e.code, e.message, at: repo.span, help: e.help))
        }
        guard isKeyword("ref") else { throw fail("`ref` after the repository", help: "write `ref \"refs/heads/agent/*\"`") }
        advance()
        var refs = [try expectString("a ref pattern in quotes, like \"refs/heads/agent/*\"")]
        while tok.kind == .comma {
            advance()
            refs.append(try expectString("a ref pattern in quotes"))
        }
        return GitPushRule(repo: repo, repoValue: repoValue, refs: refs)
    }

    /// After `env placeholder`: `NAME = SECRET`.
    mutating func parsePlaceholder(start: Int, trivia lead: Trivia) throws(Abort) -> EnvPlaceholderStatement {
        var trivia = lead
        let name = try expectIdentifier("an environment variable name")
        try expect(.assign, "`=`")
        let secret = try expectIdentifier("a secret name", help: "write `env placeholder \(name.value) = SECRET`")
        let s = span(from: start)
        trivia.trailingComment = endStatement("the env statement")
        return EnvPlaceholderStatement(name: name, secret: secret, span: s, trivia: trivia)
    }

    /// An expectation target after `http`/`https`: `METHOD "URL"`.
    mutating func parseHTTPExpectTarget(_ scheme: Located<HTTPScheme>) throws(Abort) -> ExpectTarget {
        let method = try expectIdentifier("an HTTP method such as GET")
        let url = try expectString("a URL in quotes, like \"https://api.github.com/repos/acme/app/pulls\"")
        return .http(scheme, method: method, url: url)
    }

    /// An expectation target after `git`: `push "REPO" ref "REF"`.
    mutating func parseGitPushExpectTarget() throws(Abort) -> ExpectTarget {
        guard isKeyword("push") else { throw fail("`push` after `git`") }
        advance()
        let repo = try expectString("a repository in quotes, like \"github.com/acme/app\"")
        guard isKeyword("ref") else { throw fail("`ref` after the repository") }
        advance()
        let ref = try expectString("a ref in quotes, like \"refs/heads/main\"")
        return .gitPush(repo: repo, ref: ref)
    }
}
