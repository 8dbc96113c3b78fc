/// Parses one policy file into a `PolicyFile`, recovering from errors (a bad statement
/// is reported and skipped up to the end of its line) so that every mistake is reported.
public struct Parser {
    let file: SourceFile
    let tokens: [Token]
    var pos = 0
    /// End offset of the last consumed significant token.
    var lastEnd = 0
    var diagnostics: BoundedDiagnostics
    /// Whether the last `parseBlock` ended at its `}` (rather than at a recovery point).
    var lastBlockClosed = false

    /// Thrown inside a statement after its error has been reported; the caller skips the line.
    struct Abort: Error {}

    init(file: SourceFile) {
        self.file = file
        let lexed = Lexer.tokenizeBounded(file)
        self.tokens = lexed.tokens
        self.diagnostics = lexed.diagnostics
    }

    /// Parses `file`; the diagnostics are the lexer's and the parser's, in source order.
    public static func parse(_ file: SourceFile) -> (file: PolicyFile, diagnostics: [Diagnostic]) {
        var p = Parser(file: file)
        let result = p.parseFile()
        return (result, p.diagnostics.finished(stoppedAt: p.span(p.tok)))
    }

    // MARK: Token access

    var tok: Token { tokens[pos] }
    func peek(_ n: Int = 1) -> Token { tokens[min(pos + n, tokens.count - 1)] }

    mutating func advance() {
        if tok.kind != .eof {
            if tok.kind != .newline, tok.kind != .comment { lastEnd = tok.end }
            pos += 1
        }
    }

    func span(_ t: Token) -> SourceSpan { file.span(t.start, t.end) }
    func span(from start: Int) -> SourceSpan { file.span(start, max(start, lastEnd)) }

    func isKeyword(_ word: String) -> Bool { tok.kind == .identifier && tok.text == word }

    /// How a token is shown in "found ..." messages.
    func describe(_ t: Token) -> String {
        switch t.kind {
        case .eof: return "end of file"
        case .newline: return "end of line"
        case .string: return "string \"\(t.text)\""
        case .comment: return "comment"
        case .group: return "`@\(t.text)`"
        default: return "`\(t.text)`"
        }
    }

    /// Reports "expected X, found Y" at the current token and aborts the statement.
    mutating func fail(_ expected: String, help: String? = nil) -> Abort {
        // The lexer already reported an invalid character.
        if tok.kind == .invalid { return Abort() }
        let at = tok.kind == .newline || tok.kind == .eof ? file.span(lastEnd, lastEnd) : span(tok)
        diagnostics.append(.error("syntax-error", "expected \(expected), found \(describe(tok))", at: at, help: help))
        return Abort()
    }

    mutating func expectIdentifier(_ what: String, help: String? = nil) throws(Abort) -> Name {
        guard tok.kind == .identifier else { throw fail(what, help: help) }
        let name = Name(tok.text, span(tok))
        advance()
        return name
    }

    mutating func expectString(_ what: String, help: String? = nil) throws(Abort) -> StringLiteral {
        guard tok.kind == .string else { throw fail(what, help: help) }
        let s = StringLiteral(tok.text, span(tok))
        advance()
        return s
    }

    mutating func expect(_ kind: TokenKind, _ what: String) throws(Abort) {
        guard tok.kind == kind else { throw fail(what) }
        advance()
    }

    /// `NAME, NAME, ...` (at least one).
    mutating func nameList(_ what: String) throws(Abort) -> [Name] {
        var names = [try expectIdentifier(what)]
        while tok.kind == .comma {
            advance()
            names.append(try expectIdentifier(what))
        }
        return names
    }

    // MARK: Trivia and recovery

    /// Consumes blank lines and whole-line comments at the start of a line.
    mutating func collectLeading() -> Trivia {
        var trivia = Trivia()
        var blank = false
        while true {
            if tok.kind == .newline {
                blank = true
                advance()
            } else if tok.kind == .comment {
                trivia.leadingComments.append(Comment(text: tok.text, span: span(tok), precededByBlankLine: blank))
                blank = false
                advance()
                if tok.kind == .newline { advance() }
            } else {
                break
            }
        }
        trivia.precededByBlankLine = blank
        return trivia
    }

    /// Ends a statement: an optional trailing comment, then end of line (or a `}` left
    /// for the block, or end of file). Reports and skips anything else.
    mutating func endStatement(_ what: String) -> Comment? {
        if tok.kind != .newline, tok.kind != .eof, tok.kind != .comment, tok.kind != .rbrace {
            if tok.kind != .invalid {
                diagnostics.append(.error("syntax-error", "unexpected \(describe(tok)) after \(what)", at: span(tok),
                                          help: "put each statement on its own line"))
            }
            skipLine()
            return nil
        }
        var trailing: Comment?
        if tok.kind == .comment {
            trailing = Comment(text: tok.text, span: span(tok), precededByBlankLine: false)
            advance()
        }
        if tok.kind == .newline { advance() }
        return trailing
    }

    /// Skips to the end of the line (not consuming a `}` that ends the line: it may close the block).
    mutating func skipLine() {
        while tok.kind != .newline, tok.kind != .eof {
            if tok.kind == .rbrace, [.newline, .eof, .comment].contains(peek().kind) { return }
            advance()
        }
        if tok.kind == .newline { advance() }
    }

    /// Skips a malformed top-level line, including any `{ ... }` block it opens.
    mutating func skipItem() {
        var depth = 0
        while tok.kind != .eof {
            switch tok.kind {
            case .lbrace: depth += 1
            case .rbrace: depth = max(0, depth - 1)
            case .newline where depth == 0:
                advance()
                return
            default: break
            }
            advance()
        }
    }
}
