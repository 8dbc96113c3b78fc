import Foundation
import Testing

/// examples/ci/policy-review.yml: every warden command in it is a real command with real
/// flags, and the lint, test and diff steps run as written (variables substituted) in a
/// git repository holding the stock policies, with a pull request's change on top.
@Suite struct PolicyReviewWorkflowTests {
    static let workflow = WardenBinary.root + "/examples/ci/policy-review.yml"

    /// The `warden ...` command lines of the workflow's `run:` steps.
    static func commands() throws -> [String] {
        let text = try String(contentsOfFile: workflow, encoding: .utf8)
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.compactMap { line in
            var l = line
            if l.hasPrefix("run: ") { l = String(l.dropFirst(5)) }
            return l.hasPrefix("warden ") ? l : nil
        }
    }

    /// The workflow's `env:` values (`NAME: value`, quotes and comments dropped).
    static func environment() throws -> [String: String] {
        let text = try String(contentsOfFile: workflow, encoding: .utf8)
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { continue }
            var value = parts[1].split(separator: "#")[0].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") { value = String(value.dropFirst().dropLast()) }
            env[String(parts[0])] = value
        }
        return env
    }

    /// Shell words of `line` with `$NAME` substituted, stopping at `>`, `|` or `||`;
    /// `DIR/*.warden` expanded in `directory`.
    static func words(_ line: String, env: [String: String], in directory: String) -> [String] {
        var expanded = line
        for (k, v) in env.sorted(by: { $0.key.count > $1.key.count }) { expanded = expanded.replacingOccurrences(of: "$" + k, with: v) }
        var words = ReadmeExamplesTests.words(expanded)
        if let stop = words.firstIndex(where: { $0 == "||" || $0 == "|" || $0.hasPrefix(">") }) { words = Array(words[..<stop]) }
        return words.flatMap { w -> [String] in
            guard w.hasSuffix("/*.warden") else { return [w] }
            let dir = String(w.dropLast("/*.warden".count))
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + dir)) ?? []
            return names.filter { $0.hasSuffix(".warden") }.sorted().map { dir + "/" + $0 }
        }
    }

    @Test func theWorkflowUsesAReleasedBinaryWithAChecksum() throws {
        let text = try String(contentsOfFile: Self.workflow, encoding: .utf8)
        let env = try Self.environment()
        #expect(env["WARDEN_VERSION"]?.isEmpty == false)
        #expect(env["WARDEN_SHA256"]?.count == 64)
        #expect(text.contains("sha256sum --check"))
        #expect(text.contains("releases/download/v${WARDEN_VERSION}"))
        #expect(!text.contains("swift build"), "the review workflow must not build this repository")
        #expect(text.contains("on:\n  pull_request:"))
        #expect(text.contains("--format markdown") && text.contains("gh pr comment"))
    }

    @Test func everyCommandAndFlagExists() throws {
        let commands = try Self.commands()
        #expect(commands.count >= 4, "found \(commands)")
        for line in commands {
            let args = Array(ReadmeExamplesTests.words(line).dropFirst())
            guard let sub = args.first else { continue }
            if sub == "--version" { continue }
            guard let help = try WardenBinary.run([sub, "--help"]) else { return }
            #expect(help.status == 0, "`warden \(sub)` is not a command (workflow: \(line))")
            for flag in args where flag.hasPrefix("--") {
                #expect(help.stdout.contains(flag), "`warden \(sub)` has no flag \(flag) (workflow: \(line))")
            }
        }
    }

    @Test func theStepsRunAsWrittenOnAPullRequest() throws {
        let world = try DiffWorld()
        defer { world.remove() }
        try world.git(["init", "-q", "-b", "main"])
        try world.copyStockPolicies(to: "policies")
        try world.commit("stock policies")
        // What `git fetch origin main` leaves behind in the runner's checkout.
        try world.git(["update-ref", "refs/remotes/origin/main", "HEAD"])
        // The pull request: the default identity may now connect to a registry.
        var policy = try world.read("policies/default.warden")
        let marker = "identity default {\n"
        #expect(policy.contains(marker))
        policy = policy.replacingOccurrences(of: marker, with: marker + "  allow net connect tcp \"registry.example.org:443\"\n")
        try world.write("policies/default.warden", policy)
        try world.commit("pull request")

        var env = try Self.environment()
        env["BASE_REF"] = "main"
        env["RUNNER_TEMP"] = world.dir
        var statuses: [String: Int32] = [:]
        for line in try Self.commands() {
            let args = Array(Self.words(line, env: env, in: world.dir).dropFirst())
            guard let r = try WardenBinary.run(args, in: world.dir) else { return }
            let key = args.prefix(1).joined() + (args.contains("markdown") ? " markdown" : args.contains("github") ? " github" : "")
            statuses[key] = r.status
            switch args.first {
            case "lint", "test":
                #expect(r.status == 0, "\(line): \(r.status)\n\(r.stdout)\(r.stderr)")
            case "diff":
                #expect(r.status == 1, "the pull request widens default: \(line): \(r.status)\n\(r.stdout)\(r.stderr)")
                if args.contains("markdown") {
                    #expect(r.stdout.hasPrefix("## Warden policy review\n"))
                    // Both: the connect and its lookup widen; the built-in socket-option
                    // denies that come with a mediated network narrow the syscalls.
                    #expect(r.stdout.contains("| `policies/default.warden` | `default` | ⚠️ both | 2 |"), "\(r.stdout)")
                    #expect(r.stdout.contains("7 other identities are equivalent."), "\(r.stdout)")
                    #expect(r.stdout.contains("`connect tcp registry.example.org:443`"), "\(r.stdout)")
                } else {
                    #expect(r.stdout.hasPrefix("::warning file=policies/default.warden,line="), "\(r.stdout)")
                }
            default:
                break
            }
        }
        #expect(statuses["diff markdown"] == 1 && statuses["diff github"] == 1 && statuses["lint github"] == 0 && statuses["test"] == 0, "\(statuses)")
    }
}
