import Foundation
import Testing

/// Every `$ warden ...` example in README.md names a real command and real flags; the ones
/// that need nothing outside the repository run, and the output the README shows is printed.
@Suite struct ReadmeExamplesTests {
    struct Example {
        var command: String
        var shownOutput: [String]
    }

    /// `$ warden …` lines of console blocks (with `\` continuations), with the lines shown after them.
    static func examples() throws -> [Example] {
        let text = try String(contentsOfFile: WardenBinary.root + "/README.md", encoding: .utf8)
        var result: [Example] = []
        var inConsole = false
        var current: Example?
        var continuing = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix("```") {
                if let c = current { result.append(c) }
                current = nil
                inConsole = raw == "```console"
                continue
            }
            guard inConsole else { continue }
            if continuing, current != nil {
                current!.command += " " + raw.trimmingCharacters(in: .whitespaces)
            } else if raw.hasPrefix("$ ") {
                if let c = current { result.append(c) }
                current = raw.hasPrefix("$ warden ") ? Example(command: String(raw.dropFirst(2)), shownOutput: []) : nil
            } else if current != nil, !raw.trimmingCharacters(in: .whitespaces).isEmpty {
                current!.shownOutput.append(raw)
            }
            continuing = raw.hasSuffix("\\")
            if continuing, current != nil { current!.command.removeLast() }
        }
        return result
    }

    /// Splits a shell-like command line (single and double quotes; `#` comments; stops at `>` or `|`).
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var quote: Character?
        var started = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { word.append(ch) }
                continue
            }
            if ch == "'" || ch == "\"" { quote = ch; started = true; continue }
            if ch == " " {
                if started { words.append(word); word = ""; started = false }
                continue
            }
            if (ch == "#" || ch == ">" || ch == "|") && !started { break }
            word.append(ch)
            started = true
        }
        if started { words.append(word) }
        return words
    }

    /// `dir/*.ext` → the matching files of the checkout, sorted (what the shell would pass).
    static func expandGlob(_ word: String) -> [String] {
        guard let star = word.firstIndex(of: "*"), let slash = word[..<star].lastIndex(of: "/") else { return [word] }
        let dir = String(word[..<slash]), suffix = String(word[word.index(after: star)...])
        let names = (try? FileManager.default.contentsOfDirectory(atPath: WardenBinary.root + "/" + dir)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
    }

    @Test func everyExampleUsesRealCommandsAndFlags() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 10, "found \(examples.count) examples")
        var helpCache: [String: String] = [:]
        for example in examples {
            let args = Array(Self.words(example.command).dropFirst())
            guard let sub = args.first else { continue }
            var path = [sub]
            if sub == "audit" || sub == "identity", args.count > 1 { path.append(args[1]) }
            let key = path.joined(separator: " ")
            if helpCache[key] == nil {
                guard let help = try WardenBinary.run(path + ["--help"]) else { return }
                #expect(help.status == 0, "`warden \(key)` is not a command (README: \(example.command))")
                helpCache[key] = help.stdout
            }
            for flag in args where flag.hasPrefix("--") && flag != "--" {
                #expect(helpCache[key]!.contains(flag), "`warden \(key)` has no flag \(flag) (README: \(example.command))")
            }
        }
    }

    @Test func selfContainedExamplesRunAndPrintWhatTheReadmeShows() throws {
        // These need a repository (or a list of them), a key, the system log or a target directory outside this checkout.
        let needsOutside = ["./repo", "~", "/etc/warden", "/var/log", "k8s/", "/tmp/bundle", "/srv/", "warden run",
                            "audit show", "audit verify", "warden identity", "warden fleet"]
        var ran = 0
        for example in try Self.examples() where !needsOutside.contains(where: { example.command.contains($0) }) {
            let args = Array(Self.words(example.command).dropFirst()).flatMap(Self.expandGlob)
            guard let r = try WardenBinary.run(args) else { return }
            ran += 1
            #expect(r.status == 0 || r.status == 1, "README example failed (\(r.status)): \(example.command)\n\(r.stderr)")
            for line in example.shownOutput where !line.hasPrefix("...") {
                #expect(r.stdout.contains(line), "README shows `\(line)` for `\(example.command)`, but it printed:\n\(r.stdout)")
            }
        }
        #expect(ran >= 5)
    }

    @Test func policiesInTheReadmeCheckClean() throws {
        let text = try String(contentsOfFile: WardenBinary.root + "/README.md", encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let c = current { blocks.append(c.joined(separator: "\n") + "\n"); current = nil } else { current = [] }
            } else {
                current?.append(String(line))
            }
        }
        let policies = blocks.filter { $0.hasPrefix("warden 1\n") }
        #expect(!policies.isEmpty)
        let dir = try WardenBinary.tempDir("readme")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (i, policy) in policies.enumerated() {
            let file = "\(dir)/readme-\(i).warden"
            try policy.write(toFile: file, atomically: true, encoding: .utf8)
            guard let lint = try WardenBinary.run(["lint", file]) else { return }
            #expect(lint.status == 0, "README policy \(i) does not check clean:\n\(lint.stdout)")
            guard let test = try WardenBinary.run(["test", file]) else { return }
            #expect(test.status == 0, "README policy \(i) fails its own tests:\n\(test.stdout)")
        }
    }
}
