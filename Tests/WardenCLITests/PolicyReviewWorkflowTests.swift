import Foundation
import Testing

/// examples/ci/policy-review.yml and warden-lint.yml use the composite action in
/// examples/ci/action with a pinned release and checksum and only inputs it declares; every
/// warden command in the action is a real command with real flags. The action itself runs
/// for real in CIActionTests.
@Suite struct PolicyReviewWorkflowTests {
    static let workflows = ["policy-review.yml", "warden-lint.yml"].map { WardenBinary.root + "/examples/ci/" + $0 }

    /// The `warden ...` command lines of the action's `run:` scripts.
    static func actionCommands() throws -> [String] {
        let text = try String(contentsOfFile: CIActionTests.actionFile, encoding: .utf8)
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("warden ") }
    }

    /// The `with:` keys and values of the step that uses the action (`key: value`, quotes
    /// and comments dropped).
    static func actionStep(in workflow: String) throws -> (uses: String, with: [String: String])? {
        let lines = try String(contentsOfFile: workflow, encoding: .utf8).split(separator: "\n").map(String.init)
        guard let usesLine = lines.firstIndex(where: { $0.contains("uses: warden-policy/warden/examples/ci/action@") }) else { return nil }
        let uses = lines[usesLine].trimmingCharacters(in: .whitespaces)
        guard lines[usesLine + 1].trimmingCharacters(in: .whitespaces) == "with:" else { return (uses, [:]) }
        let indent = lines[usesLine + 2].prefix(while: { $0 == " " }).count
        var with: [String: String] = [:]
        for line in lines[(usesLine + 2)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") { continue }
            guard line.prefix(while: { $0 == " " }).count == indent, !trimmed.isEmpty else { break }
            let parts = trimmed.split(separator: ":", maxSplits: 1)
            var value = parts.count == 2 ? parts[1].split(separator: "#")[0].trimmingCharacters(in: .whitespaces) : ""
            if value.hasPrefix("\"") { value = String(value.dropFirst().dropLast()) }
            with[String(parts[0])] = value
        }
        return (uses, with)
    }

    @Test func theWorkflowsUseTheActionWithAPinnedReleaseAndChecksum() throws {
        let action = try CompositeAction(path: CIActionTests.actionFile)
        let declared = Set(action.inputs.map(\.name))
        for workflow in Self.workflows {
            let text = try String(contentsOfFile: workflow, encoding: .utf8)
            let step = try #require(try Self.actionStep(in: workflow), "\(workflow) does not use the action")
            #expect(step.uses.hasSuffix("@v" + (step.with["version"] ?? "?")), "\(workflow): the action's tag and version differ")
            #expect(step.with["version"]?.isEmpty == false)
            #expect(step.with["sha256"]?.count == 64, "\(workflow): pin the tarball's SHA-256")
            for key in step.with.keys { #expect(declared.contains(key), "\(workflow): the action has no input \(key)") }
            #expect(!text.contains("swift build"), "\(workflow) must not build this repository")
            #expect(text.contains("upload-sarif") && text.contains("sarif_file: warden.sarif"))
        }
        let review = try String(contentsOfFile: Self.workflows[0], encoding: .utf8)
        #expect(review.contains("on:\n  pull_request:"))
        #expect(review.contains("fetch-depth: 0"))
        #expect(try Self.actionStep(in: Self.workflows[0])?.with["base-ref"] == "${{ github.base_ref }}")
        #expect(review.contains("$RUNNER_TEMP/warden-review.md") && review.contains("gh pr comment"))
    }

    @Test func everyCommandAndFlagInTheActionExists() throws {
        let commands = try Self.actionCommands()
        #expect(commands.count >= 5, "found \(commands)")
        for line in commands {
            let args = Array(ReadmeExamplesTests.words(line).dropFirst())
            guard let sub = args.first, !sub.hasPrefix("--") else { continue }
            guard let help = try WardenBinary.run([sub, "--help"]) else { return }
            #expect(help.status == 0, "`warden \(sub)` is not a command (action: \(line))")
            for flag in args where flag.hasPrefix("--") && flag != "--" {
                #expect(help.stdout.contains(flag), "`warden \(sub)` has no flag \(flag) (action: \(line))")
            }
        }
    }
}
