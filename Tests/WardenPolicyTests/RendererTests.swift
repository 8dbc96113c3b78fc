import Testing
@testable import WardenPolicy

@Suite struct RendererTests {
    static func render(_ text: String) -> String {
        let a = analyze(text)
        return DiagnosticRenderer.text(a.diagnostics, sources: a.sources)
    }

    @Test func gnuStyleWithCaretAndHelp() {
        let out = Self.render(inIdentity("\tallow syscall opne"))
        #expect(out == """
        main.warden:3:16: error[unknown-syscall]: unknown syscall `opne`
          \tallow syscall opne
          \t              ^~~~
          help: did you mean `open`?

        """)
    }

    @Test func longLinesAreWindowedAroundTheSpan() throws {
        let names = (0..<100).map { ["read", "write", "close"][$0 % 3] }.joined(separator: ", ")
        let out = Self.render(inIdentity("  allow syscall \(names), nopesys, read"))
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count >= 3)
        let excerpt = lines[1], carets = lines[2]
        #expect(excerpt.hasPrefix("  ...") && excerpt.count < 200)
        let caret = try #require(carets.firstIndex(of: "^"))
        let offset = carets.distance(from: carets.startIndex, to: caret)
        #expect(String(Array(excerpt)[offset..<(offset + 7)]) == "nopesys")
        #expect(carets.hasSuffix("^~~~~~~"))
    }

    @Test func jsonEscapesAndNulls() {
        let d = Diagnostic.error("x", "a \"quoted\"\n\u{1}", at: SourceFile(path: "p\\q", text: "").span(0, 0))
        #expect(DiagnosticRenderer.json([d]) == """
        [
          {"file": "p\\\\q", "line": 1, "column": 1, "endLine": 1, "endColumn": 1, "severity": "error", "code": "x", "message": "a \\"quoted\\"\\n\\u0001", "help": null, "notes": []}
        ]

        """)
        #expect(DiagnosticRenderer.json([]) == "[]\n")
    }

    @Test func sortedByFileLineColumn() {
        let f = SourceFile(path: "b", text: "xx\nyy\n"), g = SourceFile(path: "a", text: "z")
        let ds = [Diagnostic.error("c", "m", at: f.span(4, 5)), .error("c", "m", at: f.span(1, 2)), .error("c", "m", at: g.span(0, 1))]
        #expect(ds.sortedForOutput().map { "\($0.span)" } == ["a:1:1", "b:1:2", "b:2:2"])
    }
}
