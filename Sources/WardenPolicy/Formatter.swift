/// Why a file cannot be formatted.
public enum FormatError: Error, Sendable, Equatable {
    /// The file does not parse; formatting it could lose the lines the parser skipped.
    case syntaxErrors([Diagnostic])
    /// The formatted text would not hold the same tokens and comments as the input (a bug
    /// in the formatter); nothing is written. `detail` names the first difference.
    case contentMismatch(detail: String)
}

/// Prints a policy file in the one canonical layout of `warden fmt`.
///
/// The layout:
/// - 2-space indentation inside `{ ... }`; one statement per line; one space between
///   tokens, none before `,` `)` `]` and none after `(` `[` or before `(` (`socket(AF_INET)`);
/// - `deny` in a rule or an expectation is followed by two spaces, so that its rule kind
///   lines up with the one after `allow` (`allow fs ...` / `deny  fs ...`);
/// - exactly one blank line between top-level items and after `warden 1` (consecutive
///   `secret` lines keep their grouping: a blank line between them only where written); inside a block,
///   blank-line groupings are kept (several blank lines collapse to one), but no blank line
///   follows `{` or precedes `}`; an empty block is printed `{}`;
/// - comments stay where they were (leading, trailing, after `{`, before `}`, end of file),
///   with trailing whitespace removed; a trailing comment is preceded by two spaces;
/// - the text of every token (names, numbers, strings with their escapes) is kept as
///   written: formatting never changes names or meaning, only whitespace and line breaks.
///
/// After printing, the output is lexed again and its tokens compared with the input's;
/// any difference is reported as `FormatError.contentMismatch` rather than returned.
public enum PolicyFormatter {
    /// The canonical text of `file` (ending with one newline).
    public static func format(_ file: SourceFile) throws(FormatError) -> String {
        let (ast, diagnostics) = Parser.parse(file)
        let errors = diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty { throw .syntaxErrors(errors) }
        var printer = FormatPrinter(file: file, tokens: Lexer.tokenize(file).tokens)
        let text = printer.print(ast)
        try verify(original: file, formatted: text)
        return text
    }

    /// Checks that `formatted` holds the same tokens (comments included) as `original`.
    static func verify(original: SourceFile, formatted: String) throws(FormatError) {
        let a = significantTokens(original)
        let b = significantTokens(SourceFile(path: original.path, text: formatted))
        guard a.count == b.count else {
            throw .contentMismatch(detail: "token count \(a.count) became \(b.count)")
        }
        for (x, y) in zip(a, b) where x != y {
            throw .contentMismatch(detail: "`\(x)` became `\(y)`")
        }
    }

    /// Every token except line ends, as raw source text (comments without trailing blanks).
    static func significantTokens(_ file: SourceFile) -> [String] {
        Lexer.tokenize(file).tokens.compactMap { t -> String? in
            if t.kind == .newline || t.kind == .eof { return nil }
            let raw = String(decoding: file.bytes[t.start..<t.end], as: UTF8.self)
            return t.kind == .comment ? FormatPrinter.trimTrailing(raw) : raw
        }
    }
}

/// Builds the canonical text from the syntax tree and the source tokens.
struct FormatPrinter {
    let file: SourceFile
    let tokens: [Token]
    var out = ""

    init(file: SourceFile, tokens: [Token]) {
        self.file = file
        self.tokens = tokens
    }

    static func trimTrailing(_ s: String) -> String {
        var s = Substring(s)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return String(s)
    }

    func raw(_ t: Token) -> String { String(decoding: file.bytes[t.start..<t.end], as: UTF8.self) }

    /// The tokens inside `span` (a statement never contains line ends or comments).
    func tokens(in span: SourceSpan) -> ArraySlice<Token> {
        var lo = 0, hi = tokens.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tokens[mid].start < span.start.offset { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < tokens.count, tokens[end].end <= span.end.offset, tokens[end].kind != .eof { end += 1 }
        return tokens[lo..<end]
    }

    /// The tokens of `span` joined with canonical spacing.
    func joined(_ span: SourceSpan) -> String {
        var text = ""
        var previous: Token?
        var first: Token?
        var index = 0
        for t in tokens(in: span) where t.kind != .newline && t.kind != .comment {
            if let p = previous {
                let tight = [.comma, .rparen, .rbracket, .lparen].contains(t.kind) || [.lparen, .lbracket].contains(p.kind)
                if !tight { text += " " }
                // `deny` as the effect of a rule (first token) or of an expectation (after `expect`).
                let effectPosition = index == 1 || (index == 2 && first?.text == "expect")
                if effectPosition, p.kind == .identifier, p.text == "deny", !tight { text += " " }
            }
            text += raw(t)
            if first == nil { first = t }
            previous = t
            index += 1
        }
        return text
    }

    mutating func line(_ indent: Int, _ text: String, trailing: Comment? = nil) {
        out += String(repeating: "  ", count: indent) + text
        if let c = trailing { out += "  " + FormatPrinter.trimTrailing(c.text) }
        out += "\n"
    }

    mutating func blank() {
        if !out.isEmpty, !out.hasSuffix("\n\n") { out += "\n" }
    }

    /// Leading comments, keeping their blank-line gaps. `first` suppresses a gap before the
    /// first element (start of a block or file); `forceGap` asks for one (between items).
    mutating func leading(_ trivia: Trivia, indent: Int, first: Bool, forceGap: Bool) {
        var isFirst = true
        for c in trivia.leadingComments {
            if isFirst ? (forceGap || (c.precededByBlankLine && !first)) : c.precededByBlankLine { blank() }
            line(indent, FormatPrinter.trimTrailing(c.text))
            isFirst = false
        }
        if isFirst ? (forceGap || (trivia.precededByBlankLine && !first)) : trivia.precededByBlankLine { blank() }
    }

    mutating func print(_ ast: PolicyFile) -> String {
        var firstElement = true
        if let h = ast.header {
            leading(h.trivia, indent: 0, first: true, forceGap: false)
            line(0, joined(h.span), trailing: h.trivia.trailingComment)
            firstElement = false
        }
        var previous: Item?
        for item in ast.items {
            // Consecutive `secret` lines stay together unless a blank line separates them.
            if case .secret = item, case .secret? = previous {
                leading(item.trivia, indent: 0, first: false, forceGap: false)
            } else {
                leading(item.trivia, indent: 0, first: firstElement, forceGap: !firstElement)
            }
            firstElement = false
            printItem(item)
            previous = item
        }
        var isFirst = true
        for c in ast.trailingComments {
            if isFirst ? (c.precededByBlankLine && !firstElement) : c.precededByBlankLine { blank() }
            line(0, FormatPrinter.trimTrailing(c.text))
            isFirst = false
        }
        return out
    }

    mutating func printItem(_ item: Item) {
        switch item {
        case .include(let d):
            line(0, joined(d.span), trailing: d.trivia.trailingComment)
        case .secret(let d):
            line(0, joined(d.span), trailing: d.trivia.trailingComment)
        case .permissions(let d):
            printBlock(header: "permissions \(raw(d.name.span))", d.statements.map { ($0.span, $0.trivia) }, d.block, d.trivia)
        case .identity(let d):
            printBlock(header: "identity \(raw(d.name.span))", d.statements.map { ($0.span, $0.trivia) }, d.block, d.trivia)
        case .trigger(let d):
            printBlock(header: "trigger \(raw(d.name.span))", d.clauses.map { ($0.span, $0.trivia) }, d.block, d.trivia)
        case .test(let d):
            printBlock(header: "test \(raw(d.name.span))", d.statements.map { ($0.span, $0.trivia) }, d.block, d.trivia)
        }
    }

    func raw(_ span: SourceSpan) -> String {
        let a = max(0, min(span.start.offset, file.bytes.count)), b = max(a, min(span.end.offset, file.bytes.count))
        return String(decoding: file.bytes[a..<b], as: UTF8.self)
    }

    mutating func printBlock(header: String, _ statements: [(SourceSpan, Trivia)], _ block: BlockTrivia, _ trivia: Trivia) {
        if statements.isEmpty, block.openComment == nil, block.closingComments.isEmpty {
            line(0, header + " {}", trailing: trivia.trailingComment)
            return
        }
        line(0, header + " {", trailing: block.openComment)
        for (i, (span, t)) in statements.enumerated() {
            leading(t, indent: 1, first: i == 0, forceGap: false)
            line(1, joined(span), trailing: t.trailingComment)
        }
        var isFirst = true
        for c in block.closingComments {
            if c.precededByBlankLine, !(isFirst && statements.isEmpty) { blank() }
            line(1, FormatPrinter.trimTrailing(c.text))
            isFirst = false
        }
        line(0, "}", trailing: trivia.trailingComment)
    }
}
