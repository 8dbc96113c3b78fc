extension Parser {
    static let itemKeywords = ["include", "permissions", "identity", "test", "secret", "trigger"]

    mutating func parseFile() -> PolicyFile {
        var header: VersionHeader?
        var items: [Item] = []
        var lead = collectLeading()
        if isKeyword("warden") {
            header = parseHeader(lead)
        } else {
            let at = tok.kind == .eof ? file.span(0, 0) : span(tok)
            diagnostics.append(.error("missing-version", "a policy file must start with `warden 1`", at: at,
                                      help: "add `warden 1` as the first line"))
            if tok.kind != .eof, let item = parseItem(lead) { items.append(item) }
        }
        while true {
            lead = collectLeading()
            if tok.kind == .eof || diagnostics.isFull {
                return PolicyFile(source: file, header: header, items: items,
                                  trailingComments: lead.leadingComments, endsWithBlankLine: lead.precededByBlankLine)
            }
            if let item = parseItem(lead) { items.append(item) }
        }
    }

    mutating func parseHeader(_ lead: Trivia) -> VersionHeader? {
        let start = tok.start
        advance()
        var trivia = lead
        guard tok.kind == .number else {
            diagnostics.append(.error("missing-version", "expected a language version after `warden`", at: file.span(start, lastEnd),
                                      help: "write `warden 1`"))
            skipLine()
            return nil
        }
        let numberSpan = span(tok)
        let version: Int
        switch IntegerLiteral.parse(tok.text) {
        case .success(let v) where v == 1: version = 1
        case .success(let v):
            version = v <= UInt64(Int.max) ? Int(v) : -1
            diagnostics.append(.error("unsupported-version", "unsupported language version `\(tok.text)`", at: numberSpan,
                                      help: "this Warden understands `warden 1`"))
        case .failure:
            version = -1
            diagnostics.append(.error("unsupported-version", "`\(tok.text)` is not a language version", at: numberSpan,
                                      help: "write `warden 1`"))
        }
        advance()
        let spanAll = span(from: start)
        trivia.trailingComment = endStatement("the version")
        return VersionHeader(version: Located(version, numberSpan), span: spanAll, trivia: trivia)
    }

    /// Parses one top-level item, or reports and skips it (returning nil).
    mutating func parseItem(_ lead: Trivia) -> Item? {
        var trivia = lead
        let start = tok.start
        guard tok.kind == .identifier, Parser.itemKeywords.contains(tok.text) else {
            if tok.kind == .invalid {
                skipItem()
                return nil
            }
            let help: String?
            if tok.kind == .identifier, let s = Suggestions.closest(to: tok.text, in: Parser.itemKeywords) {
                help = "did you mean `\(s)`?"
            } else if tok.kind == .identifier, ["allow", "deny", "use", "limit", "env", "description"].contains(tok.text) {
                help = "statements go inside a `permissions` or `identity` block"
            } else if isKeyword("warden") {
                help = "`warden 1` may appear only once, as the first line"
            } else {
                help = nil
            }
            diagnostics.append(.error("syntax-error", "expected `include`, `permissions`, `identity`, `secret`, `trigger` or `test`, found \(describe(tok))",
                                      at: span(tok), help: help))
            skipItem()
            return nil
        }
        let keyword = tok.text
        advance()
        do {
            switch keyword {
            case "secret":
                return .secret(try parseSecret(start: start, trivia: trivia))
            case "trigger":
                return .trigger(try parseTrigger(start: start, trivia: trivia))
            case "include":
                let path = try expectString("a file name in quotes", help: "write `include \"base.warden\"`")
                let s = span(from: start)
                trivia.trailingComment = endStatement("the include")
                return .include(IncludeDecl(path: path, span: s, trivia: trivia))
            case "permissions", "identity":
                let name = try itemName(keyword)
                var block = BlockTrivia()
                let statements: [Statement] = parseBlock(&block) { (p: inout Parser, lead: Trivia) in p.parseStatement(lead) }
                let s = span(from: start)
                if lastBlockClosed { trivia.trailingComment = endStatement("`}`") }
                if keyword == "identity" {
                    return .identity(IdentityDecl(name: name, statements: statements, span: s, trivia: trivia, block: block))
                }
                return .permissions(PermissionSetDecl(name: name, statements: statements, span: s, trivia: trivia, block: block))
            default:
                let name = try expectString("a test name in quotes", help: "write `test \"what it checks\" {`")
                var block = BlockTrivia()
                let statements: [TestStatement] = parseBlock(&block) { (p: inout Parser, lead: Trivia) in p.parseTestStatement(lead) }
                let s = span(from: start)
                if lastBlockClosed { trivia.trailingComment = endStatement("`}`") }
                return .test(TestDecl(name: name, statements: statements, span: s, trivia: trivia, block: block))
            }
        } catch {
            skipItem()
            return nil
        }
    }

    /// A permission-set or identity name: `[a-zA-Z][a-zA-Z0-9_-]*`.
    mutating func itemName(_ keyword: String) throws(Abort) -> Name {
        let name = try expectIdentifier("a name after `\(keyword)`", help: "names are letters, digits, `_` and `-`, starting with a letter")
        if let first = name.value.unicodeScalars.first, !(first.properties.isAlphabetic && first.isASCII) {
            diagnostics.append(.error("invalid-name", "name `\(name.value)` must start with a letter", at: name.span))
        }
        return name
    }

    /// Whether the current line starts a top-level item (used to recover from a missing `}`).
    func atItemStart() -> Bool {
        guard tok.kind == .identifier else { return false }
        switch tok.text {
        case "include", "test": return peek().kind == .string
        case "secret": return peek().kind == .identifier && peek(2).kind == .identifier && peek(2).text == "from"
        case "permissions", "identity", "trigger": return peek().kind == .identifier && peek(2).kind == .lbrace
        default: return false
        }
    }

    /// `{ NEWLINE statements }`; a statement parser returns nil for a skipped statement.
    mutating func parseBlock<S>(_ block: inout BlockTrivia, _ statement: (inout Parser, Trivia) -> S?) -> [S] {
        var statements: [S] = []
        lastBlockClosed = false
        guard tok.kind == .lbrace else {
            _ = fail("`{`")
            skipItem()
            return statements
        }
        let open = span(tok)
        advance()
        if tok.kind == .comment {
            block.openComment = Comment(text: tok.text, span: span(tok), precededByBlankLine: false)
            advance()
        }
        if tok.kind == .newline { advance() }
        while !diagnostics.isFull {
            let lead = collectLeading()
            if tok.kind == .rbrace {
                block.closingComments = lead.leadingComments
                block.closingPrecededByBlankLine = lead.precededByBlankLine
                advance()
                lastBlockClosed = true
                return statements
            }
            if tok.kind == .eof || atItemStart() {
                let at = tok.kind == .eof ? file.span(lastEnd, lastEnd) : span(tok)
                diagnostics.append(.error("syntax-error", "missing `}` to close the block", at: at,
                                      notes: [RelatedNote("the block opens here", at: open)]))
                block.closingComments = lead.leadingComments
                block.closingPrecededByBlankLine = lead.precededByBlankLine
                return statements
            }
            if let s = statement(&self, lead) { statements.append(s) }
        }
        return statements
    }
}
