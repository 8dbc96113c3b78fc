import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import WardenPolicy
import WardenTestSupport

@Suite struct FormatterTests {
    func fmt(_ text: String, path: String = "main.warden") throws(FormatError) -> String {
        try PolicyFormatter.format(SourceFile(path: path, text: text))
    }

    @Test func golden() throws {
        let text = readFile(goldenDirectory + "/fmt/messy.warden") ?? ""
        let out = try fmt(text, path: "messy.warden")
        expectGolden(out, "fmt/messy.formatted.warden")
        try expectMeaningPreserved(text, out)
        #expect(try fmt(out) == out)
    }

    @Test func layoutRules() throws {
        #expect(try fmt("warden 1\nidentity a{\nallow   fs read,write \"/x\" ,\"/y\"\ndeny fs read \"/z\"\n}\n") ==
                "warden 1\n\nidentity a {\n  allow fs read, write \"/x\", \"/y\"\n  deny  fs read \"/z\"\n}\n")
        // Blank lines: collapsed to one inside blocks, none after `{` or before `}`.
        #expect(try fmt("warden 1\nidentity a {\n\n\n  use p\n\n\n\n  use q\n\n}\n") ==
                "warden 1\n\nidentity a {\n  use p\n\n  use q\n}\n")
        // Syscall conditions and expectations.
        #expect(try fmt("warden 1\ntest \"t\" {\n expect  deny syscall socket( AF_INET , 2 )\n}\n") ==
                "warden 1\n\ntest \"t\" {\n  expect deny  syscall socket(AF_INET, 2)\n}\n")
        // Names that look like keywords are left alone (`use deny`).
        #expect(try fmt("warden 1\nidentity a {\n  use deny, x\n}\n") == "warden 1\n\nidentity a {\n  use deny, x\n}\n")
        // One-line blocks are split; empty blocks stay `{}`.
        #expect(try fmt("warden 1\npermissions p { allow fs read \"/a\" }\npermissions q {   }\n") ==
                "warden 1\n\npermissions p {\n  allow fs read \"/a\"\n}\n\npermissions q {}\n")
    }

    @Test func tokensAreKeptAsWritten() throws {
        // Hex numbers, escapes and capability spellings are not canonicalised.
        let text = "warden 1\nidentity a {\n  allow syscall ioctl(request == 0x5401)\n  env set X = \"a\\\"b\\tc\"\n  allow capability net_bind_service\n}\n"
        let out = try fmt(text)
        #expect(out.contains("0x5401"))
        #expect(out.contains("\"a\\\"b\\tc\""))
        #expect(out.contains("net_bind_service"))
    }

    @Test func commentsStayInPlace() throws {
        let text = "# top\nwarden 1 # v\n\n# lead\nidentity a { # open\n  # inner\n  use p # trail\n\n  # closing\n} # after\n# eof\n"
        let out = try fmt(text)
        #expect(out == "# top\nwarden 1  # v\n\n# lead\nidentity a {  # open\n  # inner\n  use p  # trail\n\n  # closing\n}  # after\n# eof\n")
    }

    @Test func syntaxErrorsAreRefused() {
        #expect(throws: FormatError.self) { try fmt("warden 1\nidentity a {\n  allow fs \"/x\"\n}\n") }
        #expect(throws: FormatError.self) { try fmt("identity a {\n}\n") }
        do {
            _ = try fmt("warden 1\nidentity a {\n  alow fs read \"/x\"\n}\n")
            Issue.record("expected a syntax error")
        } catch .syntaxErrors(let d) {
            #expect(d.first?.span.start.line == 3)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func everyPolicyInTheRepository() throws {
        let root = String(goldenDirectory.dropLast("/Tests/WardenPolicyTests/Golden".count))
        var files: [String] = []
        for dir in [root + "/policies", root + "/examples", root + "/Tests"] {
            files += wardenFiles(in: dir)
        }
        #expect(!files.isEmpty)
        var checked = 0
        for path in files {
            guard let text = readFile(path) else { continue }
            let out: String
            do {
                out = try PolicyFormatter.format(SourceFile(path: path, text: text))
            } catch .syntaxErrors {
                continue  // fixtures with deliberate syntax errors
            } catch {
                Issue.record("\(path): \(error)")
                continue
            }
            #expect(try fmt(out, path: path) == out, "not idempotent: \(path)")
            try expectMeaningPreserved(text, out)
            checked += 1
        }
        #expect(checked >= 5, "only \(checked) of \(files.count) policies parse")
    }

    @Test func generatedPolicies() throws {
        var rng = SeededRandom(seed: 0x5EED)
        for i in 0..<300 {
            let text = LayoutPolicyGenerator.policy(&rng)
            let out: String
            do {
                out = try fmt(text)
            } catch {
                Issue.record("policy \(i) did not format: \(error)\n\(text)")
                continue
            }
            #expect(try fmt(out) == out, "not idempotent:\n\(text)")
            try expectMeaningPreserved(text, out)
        }
    }

    /// Same syntax tree (ignoring spans and layout) and the same comments, in order.
    func expectMeaningPreserved(_ before: String, _ after: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let a = Parser.parse(SourceFile(path: "x", text: before)).file
        let b = Parser.parse(SourceFile(path: "x", text: after)).file
        #expect(ASTShape.of(a) == ASTShape.of(b), sourceLocation: sourceLocation)
        #expect(comments(before) == comments(after), sourceLocation: sourceLocation)
    }

    func comments(_ text: String) -> [String] {
        Lexer.tokenize(SourceFile(path: "x", text: text)).tokens.filter { $0.kind == .comment }.map { FormatPrinter.trimTrailing($0.text) }
    }

    func wardenFiles(in dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            if name.hasSuffix(".warden") {
                out.append(dir + "/" + name)
            } else if Int32(e.pointee.d_type) == Int32(DT_DIR) {
                out += wardenFiles(in: dir + "/" + name)  // recursively
            }
        }
        return out.sorted()
    }
}

/// A span-free, layout-free rendering of a syntax tree: every stored property except
/// spans, comments, blank-line flags and the source text, by reflection.
enum ASTShape {
    static let skipped: Set<String> = ["span", "trivia", "block", "source", "endsWithBlankLine", "trailingComments", "precededByBlankLine"]

    static func of(_ value: Any) -> String {
        let m = Mirror(reflecting: value)
        switch m.displayStyle {
        case .struct, .class:
            return "{" + m.children.compactMap { c in
                guard let label = c.label, !skipped.contains(label) else { return nil }
                return label + ":" + of(c.value)
            }.joined(separator: ",") + "}"
        case .enum:
            guard let c = m.children.first else { return String(describing: value) }
            return (c.label ?? "?") + "(" + of(c.value) + ")"
        case .tuple:
            return "(" + m.children.map { of($0.value) }.joined(separator: ",") + ")"
        case .collection, .set:
            return "[" + m.children.map { of($0.value) }.joined(separator: ",") + "]"
        case .optional:
            return m.children.first.map { of($0.value) } ?? "nil"
        default:
            return String(describing: value)
        }
    }
}

/// Random valid policies with random layout: spacing, tabs, blank lines, comments.
enum LayoutPolicyGenerator {
    static let statements = [
        "allow fs read , exec \"/usr\" ,\"/bin\"", "deny fs write \"${workspace}/.git/hooks\"", "use base",
        "allow net connect tcp \"registry.example.org:443\",\"10.0.0.0/8:5432\"", "allow syscall @default",
        "allow syscall socket(domain in [AF_UNIX, AF_INET])", "deny syscall ptrace errno EPERM",
        "allow syscall ioctl( fd == 1 , request & 0xff == 3 )", "allow capability NET_BIND_SERVICE because \"web\"",
        "limit memory 4GiB", "limit wall-time 30m", "env pass PATH,HOME", "env set CI = \"true\"",
        "description \"an agent\"",
    ]
    static let tests = ["identity a", "expect deny fs write \"${workspace}/.git/hooks/x\"", "expect allow syscall socket(AF_INET)",
                        "expect deny net connect tcp \"example.com:443\""]

    static func space(_ rng: inout SeededRandom) -> String {
        ["", " ", "  ", "\t", "   "][Int(rng.next() % 5)]
    }

    static func relayout(_ s: String, _ rng: inout SeededRandom) -> String {
        // Add random spaces around punctuation outside strings.
        var out = ""
        var inString = false
        for c in s {
            if c == "\"" { inString.toggle() }
            if !inString, ",()[]".contains(c) {
                out += space(&rng) + String(c) + space(&rng)
            } else if !inString, c == " " {
                out += " " + space(&rng)
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func filler(_ rng: inout SeededRandom) -> String {
        switch rng.next() % 6 {
        case 0: return "\n"
        case 1: return "\n\n\n"
        case 2: return space(&rng) + "# note \(rng.next() % 100)\n"
        default: return ""
        }
    }

    static func trailing(_ rng: inout SeededRandom) -> String {
        rng.next() % 4 == 0 ? space(&rng) + " # why" : space(&rng)
    }

    static func policy(_ rng: inout SeededRandom) -> String {
        var text = filler(&rng) + "warden" + " " + space(&rng) + "1" + trailing(&rng) + "\n"
        for item in 0..<Int(1 + rng.next() % 4) {
            text += filler(&rng)
            let kind = rng.next() % 3
            let header = kind == 0 ? "permissions p\(item)" : kind == 1 ? "identity i\(item)" : "test \"t\(item)\""
            text += header + space(&rng) + "{" + trailing(&rng) + "\n"
            let pool = kind == 2 ? tests : statements
            for _ in 0..<Int(rng.next() % 6) {
                text += filler(&rng)
                text += space(&rng) + relayout(pool[Int(rng.next() % UInt64(pool.count))], &rng) + trailing(&rng) + "\n"
            }
            text += filler(&rng) + space(&rng) + "}" + trailing(&rng) + "\n"
        }
        return text + filler(&rng)
    }
}
