import Foundation
import Testing

/// docs/policies.md tells the truth: its adaptation examples lint clean with `--strict`
/// next to the real base.warden, and its console example prints what it shows.
@Suite("docs/policies.md")
struct StockPolicyDocsTests {
    static let text = (try? String(contentsOfFile: WardenBinary.root + "/docs/policies.md", encoding: .utf8)) ?? ""

    /// The bodies of the fenced blocks with this info string.
    static func blocks(_ info: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```" + info {
                current = []
            } else if let c = current, line == "```" {
                blocks.append(c.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func adaptationExamplesLintStrict() throws {
        let examples = Self.blocks("warden")
        #expect(examples.count >= 4)
        let dir = try WardenBinary.tempDir("policy-docs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: WardenBinary.root + "/policies/base.warden", toPath: dir + "/base.warden")
        for (i, example) in examples.enumerated() {
            let path = dir + "/example\(i).warden"
            try example.write(toFile: path, atomically: false, encoding: .utf8)
            guard let r = try WardenBinary.run(["lint", "--strict", path]) else { return }
            #expect(r.status == 0, "\(example)\n\(r.stdout)\(r.stderr)")
        }
    }

    @Test func explainExamplePrintsWhatTheDocShows() throws {
        let block = try #require(Self.blocks("console").first { $0.hasPrefix("$ warden explain") })
        var lines = block.split(separator: "\n").map(String.init)
        let command = lines.removeFirst().dropFirst("$ warden ".count)
        // `explain POLICY --fs ACCESS 'PATH'`: split on spaces, the quoted path has none.
        let args = command.split(separator: " ").map { $0.replacingOccurrences(of: "'", with: "") }
        guard let r = try WardenBinary.run(args) else { return }
        #expect(r.stdout.split(separator: "\n").map(String.init) == lines, "\(r.stdout)")
    }
}
