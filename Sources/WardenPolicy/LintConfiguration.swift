import WardenKernel

/// A lint configuration file, `.warden-lint.toml`: per-rule severity (or off) and paths to
/// ignore, for every policy below the directory that holds it. The format is a small,
/// strict subset of TOML, parsed here without a dependency:
///
/// ```toml
/// # comments, blank lines
/// ignore = ["vendor/*", "*.generated.warden"]   # globs relative to this file's directory
///
/// [rules]
/// no-limits = "off"            # "off", "warning" or "error"
/// dangerous-grant = "error"
/// ```
///
/// Anything else (another table, an unknown key or rule id, a bad value, a duplicate) is
/// an error with the file's line, never silently ignored.
public struct LintConfiguration: Sendable, Equatable {
    /// The file name looked for next to and above each policy.
    public static let fileName = ".warden-lint.toml"
    /// The largest configuration file read.
    public static let maxBytes = 64 << 10
    /// The most `ignore` patterns (each at most `maxPatternBytes`).
    public static let maxPatterns = 1_000
    public static let maxPatternBytes = 1_024

    /// What `[rules]` may set a rule to.
    public enum RuleSetting: String, Sendable, Equatable, CaseIterable {
        case off, warning, error
    }

    /// The configuration file (its directory anchors `ignore`).
    public var path: String
    public var rules: [String: RuleSetting]
    /// Globs over paths relative to the configuration file's directory: `*` matches any
    /// run of characters (`/` included), `?` one character.
    public var ignore: [String]

    public init(path: String, rules: [String: RuleSetting] = [:], ignore: [String] = []) {
        self.path = path
        self.rules = rules
        self.ignore = ignore
    }

    /// The directory `ignore` patterns are relative to.
    public var directory: String { PolicyPaths.directory(of: path) }

    /// Whether the policy at `policyPath` (absolute, or relative to the same directory as
    /// `path`) is ignored.
    public func ignores(_ policyPath: String) -> Bool {
        let dir = directory
        let full = PolicyPaths.normalize(policyPath)
        let relative: String
        if dir.isEmpty || dir == "." {
            relative = full
        } else if dir == "/" {
            relative = String(full.drop { $0 == "/" })
        } else if full.hasPrefix(dir + "/") {
            relative = String(full.dropFirst(dir.count + 1))
        } else {
            return false
        }
        return ignore.contains { Self.glob($0, matches: relative) }
    }

    /// `diagnostics` with the rule settings applied: `off` drops a rule's findings, `warning`
    /// and `error` set their severity. Checker diagnostics are never changed.
    public func apply(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.compactMap { d in
            guard let setting = rules[d.code] else { return d }
            var changed = d
            switch setting {
            case .off: return nil
            case .warning: changed.severity = .warning
            case .error: changed.severity = .error
            }
            return changed
        }
    }

    /// Wildcard match: `*` any run of characters, `?` one character, everything else
    /// literally. Linear in practice (greedy with one backtrack point).
    public static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || (p[pi] != "*" && p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// A configuration file that cannot be used: where and why (exit status 2).
public struct LintConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// 1-based; 0 when the problem is the whole file.
    public var line: Int
    public var message: String

    public init(path: String, line: Int, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(TerminalText.escape(path))\(line > 0 ? ":\(line)" : ""): \(message)"
    }
}

extension LintConfiguration {
    /// Parses a configuration file's text. `knownRules`: the rule ids `[rules]` may name;
    /// `checkerCodes`: ids that exist but cannot be configured.
    public static func parse(_ text: String, path: String, knownRules: Set<String>,
                             checkerCodes: Set<String> = []) throws(LintConfigurationError) -> LintConfiguration {
        var parser = LintConfigurationParser(text: text, path: path, knownRules: knownRules, checkerCodes: checkerCodes)
        return try parser.parse()
    }

    /// Parses with the lint rules of this build.
    public static func parse(_ text: String, path: String) throws(LintConfigurationError) -> LintConfiguration {
        try parse(text, path: path, knownRules: Set(LintRules.catalog.map(\.id)),
                  checkerCodes: Set(DiagnosticCodes.all.map(\.code)))
    }
}

/// The strict TOML subset of `.warden-lint.toml`, line by line.
private struct LintConfigurationParser {
    let path: String
    let knownRules: Set<String>
    let checkerCodes: Set<String>
    let lines: [Substring]
    var index = 0
    var table: String? = nil
    var config: LintConfiguration
    var seenKeys: Set<String> = []

    init(text: String, path: String, knownRules: Set<String>, checkerCodes: Set<String>) {
        self.path = path
        self.knownRules = knownRules
        self.checkerCodes = checkerCodes
        // "\r\n" is one Character: split on it too (CRLF files).
        self.lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        self.config = LintConfiguration(path: path)
    }

    func fail(_ message: String, line: Int? = nil) -> LintConfigurationError {
        LintConfigurationError(path: path, line: line ?? index + 1, message: message)
    }

    mutating func parse() throws(LintConfigurationError) -> LintConfiguration {
        if lines.contains(where: { $0.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\r") || $0.value == 0x7F } }) {
            let bad = lines.firstIndex { $0.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\r") || $0.value == 0x7F } } ?? 0
            throw fail("a control character in the configuration", line: bad + 1)
        }
        while index < lines.count {
            var cursor = Cursor(lines[index].hasSuffix("\r") ? lines[index].dropLast() : lines[index])
            cursor.skipSpace()
            if cursor.atEndOrComment {
                index += 1
                continue
            }
            if cursor.peek == "[" {
                try header(&cursor)
            } else {
                try keyValue(&cursor)
            }
            index += 1
        }
        return config
    }

    mutating func header(_ cursor: inout Cursor) throws(LintConfigurationError) {
        cursor.advance()
        if cursor.peek == "[" { throw fail("arrays of tables (`[[...]]`) are not part of the configuration") }
        cursor.skipSpace()
        let name = cursor.bareKey()
        cursor.skipSpace()
        guard cursor.peek == "]" else { throw fail("expected `]` after the table name") }
        cursor.advance()
        cursor.skipSpace()
        guard cursor.atEndOrComment else { throw fail("unexpected text after the table header") }
        guard name == "rules" else {
            throw fail("unknown table `[\(TerminalText.escape(name))]`; the configuration has `ignore = [...]` and a `[rules]` table")
        }
        guard !seenKeys.contains("[rules]") else { throw fail("`[rules]` appears twice") }
        seenKeys.insert("[rules]")
        table = name
    }

    mutating func keyValue(_ cursor: inout Cursor) throws(LintConfigurationError) {
        let key: String
        if cursor.peek == "\"" {
            key = try string(&cursor)
        } else {
            key = cursor.bareKey()
        }
        guard !key.isEmpty else { throw fail("expected a key (`name = value`)") }
        cursor.skipSpace()
        guard cursor.peek == "=" else { throw fail("expected `=` after `\(TerminalText.escape(key))`") }
        cursor.advance()
        cursor.skipSpace()
        let qualified = (table.map { $0 + "." } ?? "") + key
        guard seenKeys.insert(qualified).inserted else { throw fail("`\(TerminalText.escape(key))` is set twice") }
        if table == "rules" {
            try rule(key, &cursor)
        } else if key == "ignore" {
            config.ignore = try stringArray(&cursor)
        } else {
            throw fail("unknown key `\(TerminalText.escape(key))`; at the top level only `ignore = [\"glob\", ...]` is allowed (rules go in `[rules]`)")
        }
    }

    mutating func rule(_ id: String, _ cursor: inout Cursor) throws(LintConfigurationError) {
        let line = index + 1
        if checkerCodes.contains(id) && !knownRules.contains(id) {
            throw fail("`\(TerminalText.escape(id))` is a checker diagnostic: the policy must be fixed, it cannot be configured", line: line)
        }
        guard knownRules.contains(id) else {
            throw fail("unknown lint rule `\(TerminalText.escape(id))`; `warden lint --list-rules` lists them", line: line)
        }
        guard cursor.peek == "\"" else { throw fail("expected \"off\", \"warning\" or \"error\" for `\(TerminalText.escape(id))`", line: line) }
        let value = try string(&cursor)
        try endOfLine(&cursor)
        guard let setting = LintConfiguration.RuleSetting(rawValue: value) else {
            throw fail("`\(TerminalText.escape(id))` = \"\(TerminalText.escape(value))\": expected \"off\", \"warning\" or \"error\"", line: line)
        }
        config.rules[id] = setting
    }

    /// `["a", "b"]`, on one line or over several (a trailing comma allowed).
    mutating func stringArray(_ cursor: inout Cursor) throws(LintConfigurationError) -> [String] {
        let start = index + 1
        guard cursor.peek == "[" else { throw fail("`ignore` takes an array of strings: `ignore = [\"vendor/*\"]`") }
        cursor.advance()
        var items: [String] = []
        var expectComma = false
        while true {
            cursor.skipSpace()
            if cursor.atEndOrComment {
                index += 1
                guard index < lines.count else { throw fail("the array that starts on line \(start) is not closed with `]`", line: start) }
                cursor = Cursor(lines[index].hasSuffix("\r") ? lines[index].dropLast() : lines[index])
                continue
            }
            if cursor.peek == "]" {
                cursor.advance()
                try endOfLine(&cursor)
                return items
            }
            if expectComma {
                guard cursor.peek == "," else { throw fail("expected `,` or `]` in the array") }
                cursor.advance()
                expectComma = false
                continue
            }
            guard cursor.peek == "\"" else { throw fail("`ignore` patterns are strings in double quotes") }
            let item = try string(&cursor)
            guard !item.isEmpty else { throw fail("an empty `ignore` pattern") }
            guard item.utf8.count <= LintConfiguration.maxPatternBytes else {
                throw fail("an `ignore` pattern longer than \(LintConfiguration.maxPatternBytes) bytes")
            }
            items.append(item)
            guard items.count <= LintConfiguration.maxPatterns else {
                throw fail("more than \(LintConfiguration.maxPatterns) `ignore` patterns")
            }
            expectComma = true
        }
    }

    /// A basic string on one line: `"..."` with `\"` and `\\` escapes only.
    func string(_ cursor: inout Cursor) throws(LintConfigurationError) -> String {
        cursor.advance()
        var out = String.UnicodeScalarView()
        while let c = cursor.peek {
            cursor.advance()
            if c == "\"" { return String(out) }
            if c == "\\" {
                guard let e = cursor.peek, e == "\"" || e == "\\" else {
                    throw fail("only `\\\"` and `\\\\` escapes are allowed in strings")
                }
                cursor.advance()
                out.append(e)
                continue
            }
            out.append(c)
        }
        throw fail("a string is not closed with `\"` on its line")
    }

    func endOfLine(_ cursor: inout Cursor) throws(LintConfigurationError) {
        cursor.skipSpace()
        guard cursor.atEndOrComment else { throw fail("unexpected text after the value") }
    }
}

/// A position in one line of the configuration.
private struct Cursor {
    let scalars: [Unicode.Scalar]
    var position = 0

    init(_ line: Substring) { scalars = Array(line.unicodeScalars) }

    var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }
    var atEndOrComment: Bool { peek == nil || peek == "#" }
    mutating func advance() { position += 1 }
    mutating func skipSpace() { while peek == " " || peek == "\t" { position += 1 } }

    /// A TOML bare key: letters, digits, `-` and `_` (ASCII).
    mutating func bareKey() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek, c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" {
            out.append(c)
            position += 1
        }
        return String(out)
    }
}
