import Testing
@testable import WardenPolicy

/// `.warden-lint.toml`: the strict TOML subset, its errors (with lines), globs, and how
/// settings change findings.
@Suite struct LintConfigurationTests {
    static func parse(_ text: String) throws(LintConfigurationError) -> LintConfiguration {
        try LintConfiguration.parse(text, path: "/repo/.warden-lint.toml")
    }

    static func error(_ text: String) -> LintConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesRulesAndIgnore() throws {
        let c = try Self.parse("""
            # repository lint settings
            ignore = ["vendor/*", "*.generated.warden"]  # trailing comment

            [rules]
            no-limits = "off"
            dangerous-grant = "error"   # reviewed
            "missing-description" = "warning"
            """)
        #expect(c.ignore == ["vendor/*", "*.generated.warden"])
        #expect(c.rules == ["no-limits": .off, "dangerous-grant": .error, "missing-description": .warning])
    }

    @Test func parsesMultiLineArraysAndCRLF() throws {
        let c = try Self.parse("ignore = [\r\n  \"a/*\",  # first\r\n  \"b\\\\c\",\r\n]\r\n[rules]\r\nno-limits = \"off\"\r\n")
        #expect(c.ignore == ["a/*", "b\\c"])
        #expect(c.rules == ["no-limits": .off])
    }

    @Test func emptyFileIsAnEmptyConfiguration() throws {
        #expect(try Self.parse("") == LintConfiguration(path: "/repo/.warden-lint.toml"))
        #expect(try Self.parse("\n# only a comment\n\n") == LintConfiguration(path: "/repo/.warden-lint.toml"))
    }

    @Test(arguments: [
        ("[rules]\nno-limits = \"loud\"\n", 2, "expected \"off\", \"warning\" or \"error\""),
        ("[rules]\nno-such-rule = \"off\"\n", 2, "unknown lint rule `no-such-rule`"),
        ("[rules]\nsyntax-error = \"off\"\n", 2, "is a checker diagnostic"),
        ("[rulez]\n", 1, "unknown table `[rulez]`"),
        ("[[rules]]\n", 1, "arrays of tables"),
        ("severity = \"error\"\n", 1, "unknown key `severity`"),
        ("[rules]\nno-limits = off\n", 2, "expected \"off\", \"warning\" or \"error\""),
        ("[rules]\nno-limits = \"off\"\nno-limits = \"error\"\n", 3, "is set twice"),
        ("[rules]\n[rules]\n", 2, "`[rules]` appears twice"),
        ("ignore = [\"a\"\n", 1, "is not closed with `]`"),
        ("ignore = \"a\"\n", 1, "takes an array of strings"),
        ("ignore = [\"a\" \"b\"]\n", 1, "expected `,` or `]`"),
        ("ignore = [\"\"]\n", 1, "an empty `ignore` pattern"),
        ("ignore = [\"a\\n\"]\n", 1, "only `\\\"` and `\\\\` escapes"),
        ("ignore = [\"a]\n", 1, "is not closed with `\"`"),
        ("[rules]\nno-limits = \"off\" extra\n", 2, "unexpected text after the value"),
        ("[rules\n", 1, "expected `]`"),
        ("= \"x\"\n", 1, "expected a key"),
        ("ignore [\"x\"]\n", 1, "expected `=`"),
        ("\n\nignore = [\"a\u{0}\"]\n", 3, "a control character"),
        ("ignore = [\"a\"]\nignore = [\"b\"]\n", 2, "is set twice"),
    ])
    func malformedConfigurationIsAnErrorWithItsLine(_ text: String, _ line: Int, _ message: String) {
        let e = Self.error(text)
        #expect(e?.line == line, "\(text): \(e?.description ?? "no error")")
        #expect(e?.message.contains(message) == true, "\(text): \(e?.description ?? "no error")")
        #expect(e?.description.hasPrefix("/repo/.warden-lint.toml:\(line): ") == true)
    }

    @Test func hostileInputFailsCleanly() {
        // Deep nesting, a huge array, a huge single line, binary garbage: errors, no crash.
        #expect(Self.error(String(repeating: "[", count: 100_000)) != nil)
        #expect(Self.error("ignore = " + String(repeating: "[", count: 100_000)) != nil)
        let many = "ignore = [" + String(repeating: "\"a\",", count: LintConfiguration.maxPatterns + 1) + "]"
        #expect(Self.error(many)?.message.contains("more than") == true)
        #expect(Self.error("ignore = [\"" + String(repeating: "a", count: 5_000) + "\"]")?.message.contains("longer than") == true)
        var garbage = ""
        for i in 0..<2_000 { garbage.unicodeScalars.append(Unicode.Scalar(UInt8(truncatingIfNeeded: i &* 131 &+ 7))) }
        #expect(Self.error(garbage) != nil)
        // An escaped quote that hides the closing one never loops.
        #expect(Self.error("ignore = [\"\\\"]") != nil)
        // An unterminated multi-line array at the end of a long file.
        #expect(Self.error("ignore = [\n" + String(repeating: "\"a\",\n", count: 500))?.line == 1)
    }

    @Test func errorsEscapeWhatTheyQuote() {
        let e = Self.error("[rules]\n\"\u{1b}[2Jx\" = \"off\"\n")
        #expect(e != nil)
        #expect(e?.description.contains("\u{1b}") == false)
    }

    @Test func globs() {
        #expect(LintConfiguration.glob("*", matches: "a/b.warden"))
        #expect(LintConfiguration.glob("vendor/*", matches: "vendor/x/y.warden"))
        #expect(!LintConfiguration.glob("vendor/*", matches: "src/vendor.warden"))
        #expect(LintConfiguration.glob("*.generated.warden", matches: "a/b.generated.warden"))
        #expect(LintConfiguration.glob("a?c", matches: "abc"))
        #expect(!LintConfiguration.glob("a?c", matches: "ac"))
        #expect(LintConfiguration.glob("a*b*c", matches: "aXbYbZc"))
        #expect(!LintConfiguration.glob("a*b*c", matches: "aXbYbZ"))
        // Pathological patterns stay fast (greedy matching with one backtrack point).
        let long = String(repeating: "a", count: 10_000)
        #expect(!LintConfiguration.glob(String(repeating: "*a", count: 500) + "b", matches: long))
    }

    @Test func ignoreIsRelativeToTheConfigurationDirectory() {
        let c = LintConfiguration(path: "/repo/.warden-lint.toml", ignore: ["vendor/*"])
        #expect(c.ignores("/repo/vendor/a.warden"))
        #expect(c.ignores("/repo/./vendor/../vendor/a.warden"))
        #expect(!c.ignores("/repo/policies/a.warden"))
        #expect(!c.ignores("/other/vendor/a.warden"))
        #expect(!c.ignores("/repository/vendor/a.warden"))
    }

    @Test func settingsChangeFindings() {
        let span = SourceSpan(file: "a.warden", start: SourceLocation(offset: 0, line: 1, column: 1),
                              end: SourceLocation(offset: 1, line: 1, column: 2))
        let findings: [Diagnostic] = [
            .warning("no-limits", "no limits", at: span),
            .warning("dangerous-grant", "ptrace", at: span),
            .warning("missing-description", "no description", at: span),
            .error("syntax-error", "bad", at: span),
        ]
        let c = LintConfiguration(path: ".warden-lint.toml", rules: ["no-limits": .off, "dangerous-grant": .error])
        let out = c.apply(findings)
        #expect(out.map(\.code) == ["dangerous-grant", "missing-description", "syntax-error"])
        #expect(out.map(\.severity) == [.error, .warning, .error])
    }
}
