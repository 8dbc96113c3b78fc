import ArgumentParser
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// `warden diff`: what a policy change lets each identity do that it could not do
/// before (and the other way round), on the effective policies, with a witness for each
/// difference that `warden explain` can check. See docs/review.md.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two versions of a policy: what each identity may now do that it could not before.",
        discussion: """
        Examples:
          warden diff old/default.warden policies/default.warden
          warden diff old-policies/ policies/
          warden diff --base origin/main policies/
          warden diff --base v1.2 --head v1.3 policies/default.warden --format json
        OLD and NEW are two files (with their includes) or two directories (every *.warden
        file under them, paired by relative path); either of OLD and NEW may be `-`,
        a policy file read from standard input (its includes resolve relative to the current
        directory). With --base, each PATH (file or
        directory) at that git revision is compared with the work tree, or with --head.
        Exit status: 0 nothing widens, 1 some identity may do something it could not do
        before, 2 usage, I/O, git or policy error (nothing is compared then).
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif, github, markdown
    }

    @Argument(help: "OLD NEW (two files or two directories), or with --base the paths to compare.")
    var paths: [String] = []

    @Option(help: "Compare PATH... as at this git revision (branch, tag, commit) with the work tree.")
    var base: String?

    @Option(help: "With --base: compare with this revision instead of the work tree.")
    var head: String?

    @Option(help: "Compare only this identity.")
    var identity: String?

    @Option(help: "Output format: text, json, sarif (SARIF 2.1.0), github (workflow annotations) or markdown (a pull-request comment).")
    var format: Format = .text

    func validate() throws {
        if paths.contains("-") && (base != nil || paths.allSatisfy { $0 == "-" }) {
            throw ValidationError("`-` (standard input) can stand for one of OLD and NEW, not both, and not with --base")
        }
        if base == nil {
            if head != nil { throw ValidationError("--head needs --base") }
            guard paths.count == 2 else { throw ValidationError("give OLD and NEW (two files or two directories), or --base REV PATH...") }
        } else if paths.isEmpty {
            throw ValidationError("give the paths to compare at --base (files or directories)")
        }
    }

    func run() throws {
        let pairs: [DiffPair]
        do {
            if let base {
                pairs = try DiffInputs.pairs(base: base, head: head, paths: paths)
            } else {
                pairs = try DiffInputs.pairs(old: paths[0], new: paths[1])
            }
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        // Load every version first: any policy that cannot be read or has errors stops the
        // comparison (fail closed), after all its diagnostics are shown.
        var loaded: [(pair: DiffPair, old: CheckedPolicy?, new: CheckedPolicy?)] = []
        var failed = false
        for pair in pairs {
            let old = pair.old.flatMap { load($0, side: "old", failed: &failed) }
            let new = pair.new.flatMap { load($0, side: "new", failed: &failed) }
            loaded.append((pair, old, new))
        }
        if failed { throw ExitCode(2) }
        if let identity, !loaded.contains(where: { has($0.old, identity) || has($0.new, identity) }) {
            printError("no identity named `\(shown(identity))` in either version of \(pairs.count == 1 ? shown(pairs[0].name) : "the compared policies")")
            throw ExitCode(2)
        }
        var files: [DiffFileResult] = []
        for (pair, old, new) in loaded {
            if let identity, !has(old, identity), !has(new, identity) { continue }
            do {
                let diff = try PolicyDiffer.compare(old: old, new: new, identity: identity)
                files.append(DiffFileResult(name: pair.name, oldPath: pair.old?.path, newPath: pair.new?.path, diff: diff))
            } catch {
                printError("\(shown(pair.name)): \(error.description)")
                throw ExitCode(2)
            }
        }
        let report = DiffReport(files: files)
        let root = HostFacts.currentDirectory()
        switch format {
        case .text: print(DiffFormatText.render(report), terminator: "")
        case .json: print(DiffFormatJSON.render(report), terminator: "")
        case .sarif: print(DiffFormatSARIF.render(report, root: root), terminator: "")
        case .github: print(DiffFormatGitHub.render(report, root: root), terminator: "")
        case .markdown: print(DiffFormatMarkdown.render(report), terminator: "")
        }
        if report.widens { throw ExitCode(1) }
    }

    private func has(_ policy: CheckedPolicy?, _ name: String) -> Bool { policy?.identities[name] != nil }

    /// The checked policy of one version, or nil with its errors printed.
    private func load(_ version: PolicyVersion, side: String, failed: inout Bool) -> CheckedPolicy? {
        let analysis: PolicyAnalysis
        do {
            analysis = try PolicyLoader(provider: version.provider).analyze(version.path)
        } catch {
            printError("the \(side) version (\(shown(version.label))): \(error.description)")
            failed = true
            return nil
        }
        let errors = analysis.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            printError(DiagnosticRenderer.text(errors, sources: analysis.sources), prefix: false)
            printError("the \(side) version (\(shown(version.label))) has \(errors.count) error\(errors.count == 1 ? "" : "s"); fix it (`warden lint`) before comparing")
            failed = true
            return nil
        }
        return analysis.policy
    }
}
