import WardenKernel

/// The kinds of token in the policy language.
public enum TokenKind: String, Sendable, Hashable {
    /// `[A-Za-z_][A-Za-z0-9_-]*`: keywords, names, constants.
    case identifier
    /// `@name`: a syscall group reference (text excludes the `@`).
    case group
    /// `[0-9][A-Za-z0-9_]*`: integers, sizes (`4GiB`), durations (`1h30m`).
    case number
    /// A double-quoted string (text holds the decoded value).
    case string
    case lbrace = "{", rbrace = "}", lparen = "(", rparen = ")", lbracket = "[", rbracket = "]"
    case comma = ",", assign = "=", equal = "==", notEqual = "!=", less = "<", lessEqual = "<="
    case greater = ">", greaterEqual = ">=", ampersand = "&", pipe = "|"
    /// `*`: any method in an HTTP rule.
    case star = "*"
    /// A `#` comment up to the end of the line (text includes the `#`).
    case comment
    case newline
    case eof
    /// A character the language does not use (already reported).
    case invalid
}

/// One token: its kind, byte range and text.
public struct Token: Sendable, Hashable {
    public let kind: TokenKind
    /// Identifier/number/comment: as written; string: decoded value; group: name without `@`.
    public let text: String
    public let start: Int
    public let end: Int
}

/// Turns source bytes into tokens, reporting malformed strings and stray characters.
public struct Lexer {
    let file: SourceFile
    private(set) var diagnostics = BoundedDiagnostics()

    public init(file: SourceFile) { self.file = file }

    /// Every token of the file, ending with `.eof`, and the lexical diagnostics.
    public static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        let (tokens, diagnostics) = tokenizeBounded(file)
        return (tokens, diagnostics.finished(stoppedAt: nil))
    }

    /// For the parser, which goes on adding to the same bounded list.
    static func tokenizeBounded(_ file: SourceFile) -> (tokens: [Token], diagnostics: BoundedDiagnostics) {
        var lexer = Lexer(file: file)
        let tokens = lexer.run()
        return (tokens, lexer.diagnostics)
    }

    private static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isIdentBody(_ b: UInt8) -> Bool { isIdentStart(b) || isDigit(b) || b == 0x2D }

    private mutating func run() -> [Token] {
        let bytes = file.bytes
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count / 3)
        var i = 0
        func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }
        while i < bytes.count {
            let b = bytes[i]
            let start = i
            switch b {
            case 0x20, 0x09:
                i += 1
            case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
                i += 1
            case _ where Lexer.unsafeLength(bytes, at: i) > 0:
                i = skipControlRun(from: i)
                tokens.append(Token(kind: .invalid, text: text(start, i), start: start, end: i))
            case 0x0A:
                tokens.append(Token(kind: .newline, text: "\n", start: i, end: i + 1))
                i += 1
            case UInt8(ascii: "#"):
                while i < bytes.count, bytes[i] != 0x0A {
                    if Lexer.unsafeLength(bytes, at: i) > 0 { i = skipControlRun(from: i) } else { i += 1 }
                }
                var end = i
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                tokens.append(Token(kind: .comment, text: text(start, end), start: start, end: end))
            case UInt8(ascii: "\""):
                tokens.append(lexString(&i))
            case UInt8(ascii: "@"):
                i += 1
                while i < bytes.count, Lexer.isIdentBody(bytes[i]) { i += 1 }
                if i == start + 1 {
                    diagnostics.append(.error("syntax-error", "expected a group name after `@`", at: file.span(start, i),
                                              help: "syscall groups are written `@name`, for example `@default`"))
                    tokens.append(Token(kind: .invalid, text: "@", start: start, end: i))
                } else {
                    tokens.append(Token(kind: .group, text: text(start + 1, i), start: start, end: i))
                }
            case _ where Lexer.isIdentStart(b):
                while i < bytes.count, Lexer.isIdentBody(bytes[i]) { i += 1 }
                tokens.append(Token(kind: .identifier, text: text(start, i), start: start, end: i))
            case _ where Lexer.isDigit(b):
                while i < bytes.count, Lexer.isIdentStart(bytes[i]) || Lexer.isDigit(bytes[i]) { i += 1 }
                tokens.append(Token(kind: .number, text: text(start, i), start: start, end: i))
            default:
                let two: (TokenKind, Int)? = {
                    let next = i + 1 < bytes.count ? bytes[i + 1] : 0
                    switch (b, next) {
                    case (UInt8(ascii: "="), UInt8(ascii: "=")): return (.equal, 2)
                    case (UInt8(ascii: "!"), UInt8(ascii: "=")): return (.notEqual, 2)
                    case (UInt8(ascii: "<"), UInt8(ascii: "=")): return (.lessEqual, 2)
                    case (UInt8(ascii: ">"), UInt8(ascii: "=")): return (.greaterEqual, 2)
                    case (UInt8(ascii: "{"), _): return (.lbrace, 1)
                    case (UInt8(ascii: "}"), _): return (.rbrace, 1)
                    case (UInt8(ascii: "("), _): return (.lparen, 1)
                    case (UInt8(ascii: ")"), _): return (.rparen, 1)
                    case (UInt8(ascii: "["), _): return (.lbracket, 1)
                    case (UInt8(ascii: "]"), _): return (.rbracket, 1)
                    case (UInt8(ascii: ","), _): return (.comma, 1)
                    case (UInt8(ascii: "="), _): return (.assign, 1)
                    case (UInt8(ascii: "<"), _): return (.less, 1)
                    case (UInt8(ascii: ">"), _): return (.greater, 1)
                    case (UInt8(ascii: "&"), _): return (.ampersand, 1)
                    case (UInt8(ascii: "|"), _): return (.pipe, 1)
                    case (UInt8(ascii: "*"), _): return (.star, 1)
                    default: return nil
                    }
                }()
                if let (kind, length) = two {
                    i += length
                    tokens.append(Token(kind: kind, text: text(start, i), start: start, end: i))
                } else {
                    // Skip one whole UTF-8 scalar so the span is a valid character.
                    i += 1
                    while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
                    let shown = text(start, i)
                    diagnostics.append(.error("syntax-error", "unexpected character `\(shown)`", at: file.span(start, i)))
                    tokens.append(Token(kind: .invalid, text: shown, start: start, end: i))
                }
            }
        }
        tokens.append(Token(kind: .eof, text: "", start: bytes.count, end: bytes.count))
        return tokens
    }

    /// A string literal starting at the quote at `i`; supports `\"`, `\\`, `\n`, `\t`.
    private mutating func lexString(_ i: inout Int) -> Token {
        let bytes = file.bytes
        let start = i
        i += 1
        var value: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return Token(kind: .string, text: String(decoding: value, as: UTF8.self), start: start, end: i)
            }
            if b == 0x0A { break }
            if b == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { break }
            if Lexer.unsafeLength(bytes, at: i) > 0 {
                let run = i
                i = skipControlRun(from: i)
                value.append(contentsOf: bytes[run..<i])
                continue
            }
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] != 0x0A {
                let e = bytes[i + 1]
                switch e {
                case UInt8(ascii: "\""): value.append(e)
                case UInt8(ascii: "\\"): value.append(e)
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "t"): value.append(0x09)
                default:
                    var end = i + 2
                    while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
                    diagnostics.append(.error("syntax-error", "unknown escape sequence in string", at: file.span(i, min(end, bytes.count)),
                                              help: "the escapes are \\\" \\\\ \\n \\t"))
                    value.append(e)
                }
                i += 2
                continue
            }
            value.append(b)
            i += 1
        }
        let end = i
        diagnostics.append(.error("syntax-error", "unterminated string", at: file.span(start, end),
                                  help: "close the string with `\"` on the same line"))
        return Token(kind: .string, text: String(decoding: value, as: UTF8.self), start: start, end: end)
    }

    /// Skips a run of consecutive unsafe characters starting at `from` (see `unsafeLength`)
    /// and reports it once as `control-character`; returns the offset after the run.
    private mutating func skipControlRun(from: Int) -> Int {
        let bytes = file.bytes
        var i = from
        var shown = ""
        var count = 0
        while i < bytes.count {
            let n = Lexer.unsafeLength(bytes, at: i)
            if n == 0 { break }
            if count < 8 {
                let scalar = String(decoding: bytes[i..<(i + n)], as: UTF8.self).unicodeScalars.first ?? "\u{FFFD}"
                shown += TerminalText.escaped(scalar)
            }
            count += 1
            i += n
        }
        if count > 8 { shown += "…" }
        let what = count == 1 ? "a control character" : "\(count) control characters"
        diagnostics.append(.error("control-character", "\(what) (`\(shown)`) in the policy text", at: file.span(from, i),
                                  help: "remove it: a policy is plain text, and control characters can hide or rewrite what a terminal or editor shows"))
        return i
    }

    /// The length in bytes of the character at `i` when it must not appear in a policy:
    /// a C0 control other than tab and line feed (and CR right before a line feed), DEL,
    /// a C1 control, or an invisible character that reorders or hides text (bidi
    /// overrides, zero-width characters; see `TerminalText`). 0 for anything else.
    static func unsafeLength(_ bytes: [UInt8], at i: Int) -> Int {
        let b = bytes[i]
        if b < 0x80 {
            switch b {
            case 0x09, 0x0A: return 0
            case 0x0D: return i + 1 < bytes.count && bytes[i + 1] == 0x0A ? 0 : 1
            default: return b < 0x20 || b == 0x7F ? 1 : 0
            }
        }
        // C1 controls: U+0080-U+009F, encoded C2 80-C2 9F.
        if b == 0xC2, i + 1 < bytes.count { return bytes[i + 1] <= 0x9F ? 2 : 0 }
        // The invisible characters TerminalText escapes are all three-byte (E2 xx xx, EF BB BF).
        if b == 0xE2 || b == 0xEF, i + 2 < bytes.count {
            let v = UInt32(b & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
            return TerminalText.isInvisibleOrControl(v) ? 3 : 0
        }
        return 0
    }
}
