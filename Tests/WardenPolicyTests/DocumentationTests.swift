import Testing
@testable import WardenPolicy

/// Every ```warden block in docs/language.md is a complete policy that checks clean.
@Suite struct DocumentationTests {
    static func blocks() throws -> [String] {
        let text = try FileSystemSourceProvider().read(packageRoot + "/docs/language.md")
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```warden" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test func examplesCheckClean() throws {
        let blocks = try Self.blocks()
        #expect(blocks.count >= 6)
        for block in blocks {
            let a = analyze(block, others: ["base.warden": "warden 1\n"])
            #expect(!a.hasErrors, "\(block)\n\(DiagnosticRenderer.text(a.diagnostics, sources: a.sources))")
        }
    }

    @Test func everyCodeIsDocumented() throws {
        let text = try FileSystemSourceProvider().read(packageRoot + "/docs/language.md")
        for (code, _, _) in DiagnosticCodes.all {
            #expect(text.contains("`\(code)`"), "docs/language.md does not mention \(code)")
        }
    }
}
