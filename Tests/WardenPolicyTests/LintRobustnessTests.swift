import Testing
@testable import WardenPolicy
import WardenTestSupport

/// Mutated policies: the linter never crashes and locates every finding; the formatter
/// either refuses (syntax errors) or returns an idempotent, meaning-preserving layout.
@Suite struct LintRobustnessTests {
    static let seeds: [String] = {
        var texts = [readFile(goldenDirectory + "/lint/mistakes.warden") ?? "", readFile(goldenDirectory + "/fmt/messy.warden") ?? ""]
        var rng = SeededRandom(seed: 7)
        for _ in 0..<4 { texts.append(LayoutPolicyGenerator.policy(&rng)) }
        return texts.filter { !$0.isEmpty }
    }()

    static let fragments = ["\n", "{", "}", "\"", "#", " ", ",", "(", ")", "[", "]", "@", "==", "&", "|", "allow", "deny ",
                            "fs", "write", "\"${workspace}\"", "\"*:*\"", "syscall ptrace", "# warden:ignore dangerous-grant\n",
                            "# warden:ignore\n", "use ", "identity", "permissions x {\n", "é", "\t", "0x", "limit wall-time 1m\n"]

    /// Layout-only changes (extra blanks next to blanks, blank lines and comments at line
    /// starts): the result usually still parses, which exercises the formatter.
    static func relayout(_ text: String, _ rng: inout SeededRandom) -> String {
        var out = ""
        var inString = false
        for c in text {
            if c == "\"" { inString.toggle() }
            if c == "\n" { inString = false }
            out.append(c)
            if !inString, c == " ", rng.next() % 4 == 0 { out += ["  ", "\t", " \t "][Int(rng.next() % 3)] }
            if c == "\n", rng.next() % 6 == 0 { out += ["\n", "\n\n", "# c\n", "   # c  \n"][Int(rng.next() % 4)] }
        }
        return out
    }

    static func mutate(_ text: String, _ rng: inout SeededRandom) -> String {
        if rng.next() % 2 == 0 { return relayout(text, &rng) }
        var bytes = Array(text.utf8)
        for _ in 0..<Int(1 + rng.next() % 4) {
            let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1))
            switch rng.next() % 3 {
            case 0 where !bytes.isEmpty:
                let n = min(bytes.count - min(at, bytes.count), Int(1 + rng.next() % 8))
                if at < bytes.count { bytes.removeSubrange(at..<(at + n)) }
            case 1:
                bytes.insert(contentsOf: Array(fragments[Int(rng.next() % UInt64(fragments.count))].utf8), at: min(at, bytes.count))
            default:
                // Duplicate a line-sized chunk elsewhere.
                let start = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                let chunk = Array(bytes[start..<min(bytes.count, start + 40)])
                bytes.insert(contentsOf: chunk, at: min(at, bytes.count))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func mutatedPolicies() throws {
        var rng = SeededRandom(seed: 0xF00D)
        var formatted = 0
        for i in 0..<1000 {
            let seed = Self.seeds[i % Self.seeds.count]
            let text = Self.mutate(seed, &rng)
            let result = lintText(text)
            for d in result.diagnostics + result.suppressed.map(\.diagnostic) {
                #expect(d.span.start.line >= 1 && d.span.start.column >= 1 && d.span.end >= d.span.start, "\(d)")
                #expect(!d.code.isEmpty && !d.message.isEmpty)
            }
            _ = SARIFRenderer.render(result, toolVersion: "0")
            _ = GitHubAnnotationRenderer.render(result.diagnostics)
            let file = SourceFile(path: "main.warden", text: text)
            let out: String
            do {
                out = try PolicyFormatter.format(file)
            } catch .syntaxErrors(let d) {
                #expect(!d.isEmpty)
                continue
            } catch {
                Issue.record("formatter content mismatch on mutation \(i): \(error)\n\(text)")
                continue
            }
            formatted += 1
            #expect((try? PolicyFormatter.format(SourceFile(path: "main.warden", text: out))) == out, "not idempotent:\n\(text)")
            let a = Parser.parse(file).file, b = Parser.parse(SourceFile(path: "main.warden", text: out)).file
            #expect(ASTShape.of(a) == ASTShape.of(b), "meaning changed:\n\(text)")
        }
        // The mutations must leave a fair share formattable, or the property is vacuous.
        #expect(formatted > 300, "only \(formatted) mutations parsed")
    }
}
