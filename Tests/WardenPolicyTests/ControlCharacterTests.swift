import Testing
@testable import WardenPolicy

/// Control and invisible characters in a policy are errors, and every text renderer shows
/// them escaped: nothing from a policy reaches a terminal or a CI log raw.
@Suite struct ControlCharacterTests {
    static let raw: [Unicode.Scalar] = ["\u{0}", "\u{1b}", "\u{7}", "\u{7f}", "\u{9b}", "\u{202e}", "\u{200b}"]

    /// True when `text` holds none of the characters a terminal would interpret (tab and
    /// newline aside).
    static func isClean(_ text: String) -> Bool {
        !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || raw.contains($0) }
    }

    @Test(arguments: raw)
    func controlCharacterAnywhereIsAnError(_ c: Unicode.Scalar) {
        for text in ["warden 1\n\(c)\n", "warden 1\n# a \(c) comment\n", "warden 1\ninclude \"a\(c).warden\"\n"] {
            let (_, diagnostics) = parse(text)
            #expect(diagnostics.contains { $0.code == "control-character" && $0.span.start.line == 2 }, "\(diagnostics)")
        }
    }

    @Test func loneCarriageReturnIsAnErrorButCRLFIsNot() {
        #expect(parse("warden 1\r\nidentity a {\r\n  description \"x\"\r\n}\r\n").diagnostics.isEmpty)
        let (_, diagnostics) = parse("warden 1\nidentity a {\n  description \"x\"\r# hidden\n}\n")
        #expect(locations(diagnostics) == ["control-character@3:18"])
    }

    @Test func aRunIsReportedOnce() {
        let (_, diagnostics) = parse("warden 1\n" + String(repeating: "\u{0}", count: 100_000) + "\n")
        #expect(diagnostics.map(\.message) == ["100000 control characters (`\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00…`) in the policy text"])
    }

    @Test func textRendererEscapesExcerptMessageAndPath() {
        let file = SourceFile(path: "dir\u{1b}]0;x\u{7}/p.warden", text: "warden 1\n\tx \u{1b}[31m\u{0} \"\u{202e}\"\n")
        let d = Diagnostic.error("syntax-error", "found `\u{1b}[2J`\nfake: error", at: file.span(15, 16), help: "a\u{0}b")
        let out = DiagnosticRenderer.text([d], sources: [file.path: file])
        #expect(Self.isClean(out))
        #expect(out == """
        dir\\x1b]0;x\\x07/p.warden:2:7: error[syntax-error]: found `\\x1b[2J`\\nfake: error
          \tx \\x1b[31m\\x00 "\\u202e"
          \t        ^
          help: a\\x00b

        """)
    }

    @Test func caretsAccountForEscapes() {
        let text = "warden 1\nidentity a {\n  allow syscall \u{1b}\u{1b} opne\n}\n"
        let a = analyze(text)
        let out = DiagnosticRenderer.text(a.diagnostics.filter { $0.code == "control-character" }, sources: a.sources)
        #expect(out.contains("  allow syscall \\x1b\\x1b opne\n                  ^~~~~~~~\n"))
    }

    @Test func githubAnnotationsCarryNoRawControlCharacters() {
        let file = SourceFile(path: "p\u{1b}.warden", text: "warden 1\n")
        let d = Diagnostic.error("x", "bad \u{1b}[31m\u{9b}\u{0}", at: file.span(0, 1), help: "h\u{7}",
                                 notes: [RelatedNote("n\u{1b}", at: file.span(0, 1))])
        let out = GitHubAnnotationRenderer.render([d])
        #expect(Self.isClean(out))
        #expect(out == "::error file=p\\x1b.warden,line=1,endLine=1,col=1,endColumn=2,title=x::bad \\x1b[31m\\u009b\\x00%0Ahelp: h\\x07%0Anote: p\\x1b.warden:1:1: n\\x1b\n")
    }

    @Test func jsonAndSarifEscapeControlCharacters() {
        let file = SourceFile(path: "p.warden", text: "warden 1\n\u{1b}\u{0}\n")
        let a = Parser.parse(file).diagnostics
        #expect(!a.isEmpty)
        #expect(Self.isClean(DiagnosticRenderer.json(a)))
        let sarif = SARIFRenderer.render(LintResult(diagnostics: a, suppressed: [], sources: ["p.warden": file]), toolVersion: "t", root: nil)
        #expect(Self.isClean(sarif))
    }

    @Test func hugeLineExcerptIsBounded() {
        // One 1.2 MB line with an error in the middle: the excerpt shows a window, not the line.
        let filler = String(repeating: "read, ", count: 100_000)
        let text = "warden 1\nidentity a {\n  allow syscall \(filler)opne, \(filler)read\n}\n"
        let a = analyze(text)
        let out = DiagnosticRenderer.text(a.diagnostics, sources: a.sources)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("  ...") && $0.hasSuffix("...") && $0.contains("opne") && $0.count < 200 })
        #expect(out.utf8.count < 2000)
    }

    @Test func longMessagesAreCut() {
        let file = SourceFile(path: "p", text: "x")
        let d = Diagnostic.error("x", String(repeating: "y", count: 100_000), at: file.span(0, 1))
        #expect(DiagnosticRenderer.text([d], sources: [:]).utf8.count < DiagnosticRenderer.maxMessageScalars + 100)
    }

    @Test func tooManyErrorsStopsTheFile() {
        let (_, diagnostics) = parse("warden 1\n" + String(repeating: "$ ", count: 50_000) + "\n")
        #expect(diagnostics.count == BoundedDiagnostics.limit + 1)
        #expect(diagnostics.last?.code == "too-many-errors")
        let (_, lines) = parse("warden 1\n" + String(repeating: "nonsense here\n", count: 5_000))
        #expect(lines.count == BoundedDiagnostics.limit + 1)
        #expect(lines.last?.code == "too-many-errors")
    }
}
