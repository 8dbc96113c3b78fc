import Foundation
import Testing
@testable import WardenPolicy

@Suite struct LintRendererTests {
    func diagnostic(file: String = "p.warden", message: String = "m", help: String? = nil, code: String = "dangerous-grant",
                    line: Int = 2, column: Int = 3, endLine: Int = 2, endColumn: Int = 9) -> Diagnostic {
        let span = SourceSpan(file: file, start: WardenPolicy.SourceLocation(offset: 0, line: line, column: column),
                              end: WardenPolicy.SourceLocation(offset: 0, line: endLine, column: endColumn))
        return Diagnostic(.warning, code, message, at: span, help: help)
    }

    @Test func githubEscaping() {
        #expect(GitHubAnnotationRenderer.escapeData("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b")
        #expect(GitHubAnnotationRenderer.escapeProperty("dir,x/a:b%.warden") == "dir%2Cx/a%3Ab%25.warden")
        let out = GitHubAnnotationRenderer.render([diagnostic(file: "a,b:c.warden", message: "50% of\nit", help: "do: this")])
        // A line break inside a message (from policy text) is shown escaped; lines of the annotation are %0A.
        #expect(out == "::warning file=a%2Cb%3Ac.warden,line=2,endLine=2,col=3,endColumn=9,title=dangerous-grant::50%25 of\\nit%0Ahelp: do: this\n")
        // endColumn only when the span stays on one line.
        let multi = GitHubAnnotationRenderer.render([diagnostic(endLine: 4, endColumn: 2)])
        #expect(multi == "::warning file=p.warden,line=2,endLine=4,col=3,title=dangerous-grant::m\n")
        #expect(GitHubAnnotationRenderer.render([diagnostic(file: "/repo/policies/a.warden")], root: "/repo")
            .hasPrefix("::warning file=policies/a.warden,"))
        #expect(GitHubAnnotationRenderer.render([diagnostic(file: "/other/a.warden")], root: "/repo").hasPrefix("::warning file=/other/a.warden,"))
        var error = diagnostic()
        error.severity = .error
        #expect(GitHubAnnotationRenderer.render([error]).hasPrefix("::error "))
        error.severity = .note
        #expect(GitHubAnnotationRenderer.render([error]).hasPrefix("::notice "))
    }

    @Test func sarifURIs() {
        #expect(SARIFRenderer.artifactURI("policies/a.warden", root: "/repo") == ("policies/a.warden", true))
        #expect(SARIFRenderer.artifactURI("./policies/a.warden", root: nil) == ("policies/a.warden", true))
        #expect(SARIFRenderer.artifactURI("/repo/policies/a b.warden", root: "/repo") == ("policies/a%20b.warden", true))
        #expect(SARIFRenderer.artifactURI("/repo/x.warden", root: "/repo/") == ("x.warden", true))
        #expect(SARIFRenderer.artifactURI("/elsewhere/x.warden", root: "/repo") == ("file:///elsewhere/x.warden", false))
        #expect(SARIFRenderer.artifactURI("/repository/x.warden", root: "/repo") == ("file:///repository/x.warden", false))
        #expect(SARIFRenderer.percentEncode("é#?") == "%C3%A9%23%3F")
    }

    @Test func sarifDeclaresEveryRuleAndCheckerCodesThatAppear() throws {
        let result = lintText("warden 1\nidentity a {\n  allow syscall opne\n}\n")
        let text = SARIFRenderer.render(result, toolVersion: "9.9.9", root: nil)
        try SARIFShape.check(text, expectedResults: result.diagnostics.count)
        let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let run = (doc?["runs"] as? [[String: Any]])?.first
        let driver = (run?["tool"] as? [String: Any])?["driver"] as? [String: Any]
        let ids = (driver?["rules"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        for rule in LintRules.catalog { #expect(ids.contains(rule.id), "\(rule.id)") }
        #expect(ids.contains("unknown-syscall"))
        #expect(!ids.contains("unknown-capability"))  // checker codes only when they appear
        #expect(driver?["version"] as? String == "9.9.9")
        #expect(run?["columnKind"] as? String == "unicodeCodePoints")
    }

    @Test func sarifSuppressionsAndFingerprints() throws {
        let text = agent("  # warden:ignore dangerous-grant -- tests need it\n  allow syscall ptrace")
        let a = lintText(text)
        #expect(a.diagnostics.isEmpty)
        let sarif = SARIFRenderer.render(a, toolVersion: "0")
        try SARIFShape.check(sarif, expectedResults: 1)
        #expect(sarif.contains("\"kind\": \"inSource\""))
        #expect(sarif.contains("\"justification\": \"tests need it\""))
        // The fingerprint survives moving the finding to another line.
        func fingerprint(_ r: LintResult) -> String? {
            let doc = try? JSONSerialization.jsonObject(with: Data(SARIFRenderer.render(r, toolVersion: "0").utf8)) as? [String: Any]
            let result = ((doc?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first
            return (result?["partialFingerprints"] as? [String: String])?["wardenFinding/v1"]
        }
        let one = lintText(agent("  allow syscall ptrace"))
        let moved = lintText(agent("  allow fs read \"/usr\"\n  allow syscall ptrace"))
        #expect(fingerprint(one) != nil)
        #expect(fingerprint(one) == fingerprint(moved))
    }

    @Test func jsonValueEscapesAndNests() {
        let v = OrderedJSON.object([("a", .array([.int(1), .string("x\"\n"), .null, .bool(true)])), ("b", .object([]))])
        #expect(v.rendered() == "{\n  \"a\": [\n    1,\n    \"x\\\"\\n\",\n    null,\n    true\n  ],\n  \"b\": {}\n}")
    }
}
