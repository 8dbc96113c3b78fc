import Testing
@testable import WardenPolicy
import WardenTestSupport

/// Builds random policies from the grammar, mixing valid and invalid pieces.
struct PolicyGenerator {
    var rng: SeededRandom

    static let names = ["a", "tools", "net", "agent", "x-1", "_bad", "base", "default", "Z9"]
    static let paths = ["/usr", "${workspace}", "${home}/.ssh", "${tmp}/", "rel", "/a/../b", "${nope}/x", "", "/a//b", "/é/ü"]
    static let endpoints = ["example.org:443", "*.cdn.example.org:1-1024", "10.0.0.0/8:*", "10.0.0.1/8:1", "[fd00::/8]:53",
                            "[::ffff:10.0.0.1]:80", "*:*", "host", ":1", "a.org:9-1", "[::1", "300.1.1.1:1", "[1::2::3]:4"]
    static let syscalls = ["read", "socket", "@default", "@nope", "ptrace", "opne", "bpf", "openat", "getpid"]
    static let values = ["1", "0x1f", "017", "AF_INET", "AF_UNIX | AF_INET6", "AF_NOPE", "99999999999999999999", "0x100000000", "08"]
    static let args = ["domain", "type", "protocol", "arg0", "arg5", "arg9", "famliy"]
    static let ops = ["==", "!=", "<", "<=", ">", ">="]
    static let limits = [("processes", "256"), ("open-files", "0"), ("memory", "4GiB"), ("memory", "4GB"), ("file-size", "1T"),
                         ("cpu-time", "1h30m"), ("wall-time", "90x"), ("threads", "5"), ("memory", "99999999999TiB")]
    static let caps = ["NET_BIND_SERVICE", "cap_chown", "SYS_ADMN", "CAP_SYS_PTRACE"]
    static let httpPatterns = ["api.github.com/**", "*.example.org/v*/x", "[::1]:8080/", "host", "a.org//x", "a.org/**/x",
                               "https://a.org/x", "10.0.0.1:99999/x", "a.org/x?y"]
    static let urls = ["https://api.github.com/x?y=1", "http://[::1]:8080/", "ftp://x/", "https://a.org/../x", "https://u@a.org/"]
    static let refs = ["refs/heads/agent/*", "refs/heads/**", "main", "refs/heads/a..b", "refs/**/x"]
    static let secrets = ["gh", "key", "Bad", "missing"]

    mutating func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func list(_ a: [String], max: Int = 3, quoted: Bool = false) -> String {
        (0..<Int.random(in: 1...max, using: &rng)).map { _ in quoted ? "\"\(pick(a))\"" : pick(a) }.joined(separator: ", ")
    }

    mutating func condition(_ i: Int) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return pick(Self.values)
        case 1: return "\(pick(Self.args)) \(pick(Self.ops)) \(pick(Self.values))"
        case 2: return "\(pick(Self.args)) & \(pick(Self.values)) == \(pick(Self.values))"
        default: return "\(pick(Self.args)) in [\(list(Self.values))]"
        }
    }

    mutating func rule() -> String {
        let effect = chance(0.5) ? "allow" : "deny"
        var s: String
        switch Int.random(in: 0..<6, using: &rng) {
        case 4:
            s = "\(effect) \(pick(["https", "http"])) \(pick(["GET", "GET, POST", "*", "get"])) \"\(pick(Self.httpPatterns))\""
            if chance(0.5) {
                s += pick([" with bearer ", " with basic \"u\" ", " with header \"x-key\" ", " with header \"Host\" "]) + pick(Self.secrets)
            }
        case 5: s = "\(effect) git push \"\(pick(["github.com/acme/app", "*.x.org/a", "x.org"]))\" ref \(list(Self.refs, quoted: true))"
        case 0: s = "\(effect) fs \(list(["read", "write", "exec"])) \(list(Self.paths, quoted: true))"
        case 1: s = "\(effect) net \(pick(["connect", "bind"])) \(pick(["tcp", "udp"])) \(list(Self.endpoints, quoted: true))"
        case 2:
            let specs = (0..<Int.random(in: 1...2, using: &rng)).map { _ -> String in
                let name = pick(Self.syscalls)
                guard chance(0.5) else { return name }
                return name + "(" + (0..<Int.random(in: 0...3, using: &rng)).map { condition($0) }.joined(separator: ", ") + ")"
            }
            s = "\(effect) syscall \(specs.joined(separator: ", "))"
            if chance(0.3) { s += " errno \(pick(["EPERM", "EACCES", "ENOPE"]))" }
        default: s = "\(effect) capability \(list(Self.caps))"
        }
        if chance(0.2) { s += " because \"reason\"" }
        return s
    }

    mutating func statement(identity: Bool) -> String {
        switch Int.random(in: 0..<(identity ? 11 : 5), using: &rng) {
        case 10: return "env placeholder \(pick(["GH_TOKEN", "CI", "BAD-NAME"])) = \(pick(Self.secrets))"
        case 0: return "use \(list(Self.names))"
        case 5: return "description \"text\""
        case 6, 7:
            let (k, v) = pick(Self.limits)
            return "limit \(k) \(v)"
        case 8: return "env pass \(list(["PATH", "HOME", "BAD-NAME"]))"
        case 9: return "env set \(pick(["CI", "X"])) = \"v\""
        default: return rule()
        }
    }

    mutating func expectation() -> String {
        let e = chance(0.5) ? "allow" : "deny"
        switch Int.random(in: 0..<6, using: &rng) {
        case 4: return "expect \(e) \(pick(["https", "http"])) \(pick(["GET", "get"])) \"\(pick(Self.urls))\""
        case 5: return "expect \(e) git push \"github.com/acme/app\" ref \"\(pick(Self.refs))\""
        case 0: return "expect \(e) fs \(pick(["read", "write", "exec"])) \"\(pick(Self.paths))\""
        case 1: return "expect \(e) net connect tcp \"\(pick(Self.endpoints))\""
        case 2: return "expect \(e) syscall \(pick(Self.syscalls))" + (chance(0.5) ? "(\(list(Self.values)))" : "")
        default: return "expect \(e) capability \(pick(Self.caps))"
        }
    }

    mutating func policy() -> String {
        var out = chance(0.95) ? "warden 1\n" : "warden \(pick(["2", "x", ""]))\n"
        if chance(0.3) { out += "include \"\(pick(["lib.warden", "main.warden", "missing.warden", "sub/../lib.warden"]))\"\n" }
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            if chance(0.2) { out += "# comment\n" }
            if chance(0.2) { out += "\n" }
            if chance(0.3) {
                out += "secret \(pick(Self.secrets)) from \(pick(["env \"WARDEN_GH\"", "file \"/etc/k\"", "file \"rel\"", "command \"/bin/mint\", \"-x\""]))\n"
            }
            switch Int.random(in: 0..<3, using: &rng) {
            case 0, 1:
                let identity = chance(0.5)
                out += "\(identity ? "identity" : "permissions") \(pick(Self.names)) {\n"
                for _ in 0..<Int.random(in: 0...5, using: &rng) {
                    out += "  \(statement(identity: identity))\(chance(0.1) ? " # trailing" : "")\n"
                }
                out += "}\n"
            default:
                out += "test \"\(pick(["t", "u"]))\" {\n"
                if chance(0.9) { out += "  identity \(pick(Self.names))\n" }
                for _ in 0..<Int.random(in: 0...3, using: &rng) { out += "  \(expectation())\n" }
                out += "}\n"
            }
        }
        return out
    }
}

/// Applies byte and token level mutations.
struct Mutator {
    static let randomTokens = ["{", "}", "(", ")", "[", "]", ",", "=", "==", "&", "|", "@", "#", "\"", "\n", "allow", "deny",
                               "fs", "net", "syscall", "capability", "use", "limit", "env", "include", "identity", "test",
                               "permissions", "expect", "in", "errno", "because", "@default", "0x", "4GiB", "\"/x\"", "\u{0}", "é", "${",
                               "*", "https", "secret", "with", "git", "push", "ref", "placeholder"]

    static func mutate(_ text: String, rng: inout SeededRandom) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            // Re-decode so token offsets (from valid UTF-8) match the bytes we edit.
            let current = SourceFile(path: "m", text: String(decoding: bytes, as: UTF8.self))
            bytes = current.bytes
            let tokens = Lexer.tokenize(current).tokens.filter { $0.kind != .eof }
            let op = Int.random(in: 0..<7, using: &rng)
            if bytes.isEmpty || tokens.isEmpty {
                bytes += Array(randomTokens[Int.random(in: 0..<randomTokens.count, using: &rng)].utf8)
                continue
            }
            let t = tokens[Int.random(in: 0..<tokens.count, using: &rng)]
            switch op {
            case 0:  // byte flip / replace
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = Bool.random(using: &rng) ? bytes[i] ^ (1 << UInt8.random(in: 0...7, using: &rng)) : UInt8.random(in: 0...255, using: &rng)
            case 1:  // delete token
                bytes.removeSubrange(t.start..<t.end)
            case 2:  // duplicate token
                bytes.insert(contentsOf: bytes[t.start..<t.end], at: t.end)
            case 3:  // swap two tokens
                let u = tokens[Int.random(in: 0..<tokens.count, using: &rng)]
                let (a, b) = t.start < u.start ? (t, u) : (u, t)
                guard a.end <= b.start else { continue }
                let bb = Array(bytes[b.start..<b.end]), ab = Array(bytes[a.start..<a.end])
                bytes.replaceSubrange(b.start..<b.end, with: ab)
                bytes.replaceSubrange(a.start..<a.end, with: bb)
            case 4:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            case 5:  // insert a random token
                let r = randomTokens[Int.random(in: 0..<randomTokens.count, using: &rng)]
                bytes.insert(contentsOf: Array((" " + r + " ").utf8), at: t.start)
            default:  // delete a random byte range
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...8, using: &rng)))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct FuzzTests {
    static let lib = "warden 1\npermissions base {\n  allow fs read \"/usr\"\n}\nidentity agent {\n  use base\n}\n"

    /// Checks that every diagnostic points inside one of the inputs with consistent line/column.
    static func validate(_ a: PolicyAnalysis, _ files: [String: String], input: String) -> Bool {
        let sources = files.mapValues { SourceFile(path: "", text: $0) }
        for d in a.diagnostics {
            for span in [d.span] + d.notes.map(\.span) {
                guard let source = sources[span.file] else {
                    Issue.record("diagnostic in unknown file \(span.file) for input:\n\(input)")
                    return false
                }
                guard span.start.offset >= 0, span.start.offset <= span.end.offset, span.end.offset <= source.bytes.count,
                      source.location(at: span.start.offset) == span.start, source.location(at: span.end.offset) == span.end
                else {
                    Issue.record("bad span \(span) (\(span.start.offset)..<\(span.end.offset)) for \(d.code) in input:\n\(input)")
                    return false
                }
            }
            if d.message.isEmpty || d.code.isEmpty {
                Issue.record("empty diagnostic for input:\n\(input)")
                return false
            }
        }
        return true
    }

    @discardableResult
    static func run(_ input: String) -> Bool { check(input) != nil }

    /// Analyses `input` as main.warden; nil when an invariant failed (already recorded).
    static func check(_ input: String) -> PolicyAnalysis? {
        let files = ["main.warden": input, "lib.warden": lib]
        let provider = InMemorySourceProvider(files)
        guard let a = try? PolicyLoader(provider: provider).analyze("main.warden") else {
            Issue.record("loader threw for an in-memory root")
            return nil
        }
        // A policy that the checker accepts must still have produced a coherent tree.
        if !a.hasErrors, a.policy.files.isEmpty {
            Issue.record("accepted without files")
            return nil
        }
        _ = DiagnosticRenderer.text(a.diagnostics, sources: a.sources)
        return validate(a, files, input: input) ? a : nil
    }

    @Test func mutatedDefaultPolicy() throws {
        let base = try FileSystemSourceProvider().read(packageRoot + "/policies/default.warden")
        var rng = SeededRandom(seed: 0x5EED_0001)
        var failures = 0
        for _ in 0..<50_000 where failures < 5 {
            if !Self.run(Mutator.mutate(base, rng: &rng)) { failures += 1 }
        }
        #expect(failures == 0)
    }

    @Test func generatedPolicies() {
        var gen = PolicyGenerator(rng: SeededRandom(seed: 0x5EED_0002))
        var failures = 0
        var clean = 0
        for i in 0..<50_000 where failures < 5 {
            var text = gen.policy()
            if i % 2 == 1 { text = Mutator.mutate(text, rng: &gen.rng) }
            guard let a = Self.check(text) else { failures += 1; continue }
            if !a.hasErrors { clean += 1 }
        }
        #expect(failures == 0)
        // The generator must also reach the accepting paths of the checker.
        #expect(clean > 500, "only \(clean) generated policies were clean")
    }

    @Test func randomBytes() {
        var rng = SeededRandom(seed: 0x5EED_0003)
        var failures = 0
        let alphabet = Array("warden 1\n{}()[],=&|@#\"${}/:*.-_ allow deny fs net syscall identity permissions test é".utf8)
        for _ in 0..<5_000 where failures < 5 {
            let n = Int.random(in: 0..<120, using: &rng)
            let bytes = (0..<n).map { _ in Bool.random(using: &rng) ? alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] : UInt8.random(in: 0...255, using: &rng) }
            if !Self.run(String(decoding: bytes, as: UTF8.self)) { failures += 1 }
        }
        #expect(failures == 0)
    }
}
