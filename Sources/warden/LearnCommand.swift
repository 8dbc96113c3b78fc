import ArgumentParser
import Glibc
import WardenAudit
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// `warden learn`: run a command in observing mode, under its policy plus what was learned
/// so far (applied in memory), and propose the rules it needed (see docs/learn.md).
struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Run a command in observing mode and propose the rules it needed, as a diff of the policy.",
        discussion: """
        Each run is fully enforced under the policy plus the proposal so far (applied in \
        memory: the policy on disk is never edited); what the policy would have had to allow \
        is read from the run's audit records and turned into proposed rules, each with the \
        evidence as a comment. Runs repeat until one adds nothing new, or --max-runs.

        Example:
          warden learn --policy agent.warden --workspace ./repo -- ./agent.sh > learned.diff

        Output: a unified diff of the identity's file on standard output (or the patched copy \
        with --output); a summary, and the command's own output, on standard error. Never proposed: exec, dangerous syscalls, \
        what a deny rule or a built-in safeguard decides, bare public addresses.

        Exit status: 0 when the last run succeeded under the final proposal; 1 when it still \
        failed (the proposal is written all the same); 2 on a usage or policy error, or when \
        the identity is `enforce-only`.
        """
    )

    @OptionGroup var options: RunOptions

    @Option(help: "Write the patched copy of the identity's policy file here instead of printing a diff (never a file of the policy itself).")
    var output: String?

    @Option(help: "The most runs (1-20).")
    var maxRuns: Int = 4

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after `--`") }
        if !(1...20).contains(maxRuns) { throw ValidationError("--max-runs must be between 1 and 20") }
        if output == "" { throw ValidationError("--output: the path is empty") }
    }

    func run() throws {
        let checked = try PolicyInput.load(options.policy, failureCode: 2, standardInput: false)
        let effective = try PolicyInput.effective(checked, identity: options.identity, failureCode: 2)
        let name = effective.identity
        guard !effective.enforceOnly else { throw fail(LearnError.enforceOnly(name).description) }
        guard let decl = checked.identities[name]?.declaration else { throw fail(LearnError.unknownIdentity(name).description) }
        let identityFile = decl.span.file
        if let output, let clash = LearnOutput.clash(output, with: checked.files.map(\.source.path)) {
            throw fail("--output \(output) is \(clash), a file of the policy: learn never edits the policy; write the copy elsewhere")
        }
        let host = HostFacts.current()
        guard let bindings = PathBindings.agentView(workspace: options.workspace, host: host) else {
            throw fail("workspace \(options.workspace ?? "."): not an existing directory")
        }
        // Standard output carries the diff: while the runs go, the agent's output (and
        // anything else written there) goes to standard error instead.
        var divertedStdout: Int32 = -1
        if output == nil {
            fflush(nil)
            divertedStdout = dup(1)
            guard divertedStdout >= 0, dup2(2, 1) >= 0 else { throw fail("cannot divert standard output: \(String(cString: strerror(errno)))") }
        }
        func restoreStdout() {
            guard divertedStdout >= 0 else { return }
            fflush(nil)
            _ = dup2(divertedStdout, 1)
            close(divertedStdout)
            divertedStdout = -1
        }
        defer { restoreStdout() }
        let logPath = AuditLocation.resolve(explicit: options.auditLog)
        let keyPath = AuditLocation.signingKeyPath(explicit: options.signingKey)
        let proposer = LearnProposer(effective: effective, bindings: bindings,
                                     protectedPaths: AuditLocation.protectedPaths(logPath: host.absolute(logPath),
                                                                                  signingKeyPath: keyPath.map(host.absolute)))
        var observations: [LearnObservation] = []
        var current = try lint(LearnProposal(), identity: name)
        var runs: [LearnRunReport] = []
        var settled = false
        for index in 1...maxRuns {
            let report = try observe(index: index, applying: current, identityFile: identityFile, name: name, host: host)
            observations += report.observations
            let next = try lint(proposer.propose(observations), identity: name)
            let added = Set(next.proposal.rules.map(\.text)).subtracting(current.proposal.rules.map(\.text)).count
            runs.append(LearnRunReport(index: index, runID: report.runID, exitCode: report.exitCode,
                                       observed: report.observations.count, added: added))
            let changed = next.proposal.rules.map(\.text) != current.proposal.rules.map(\.text)
            current = next
            if !changed { settled = true; break }
        }
        let succeeded = settled && runs.last?.exitCode == 0
        restoreStdout()
        try LearnOutput.write(current, file: identityFile, output: output)
        for line in LearnOutput.summary(runs: runs, lint: current, settled: settled, succeeded: succeeded, policy: options.policy) {
            printError(line, prefix: false)
        }
        throw ExitCode(succeeded ? 0 : 1)
    }

    /// The proposal applied to the policy in memory and cleaned by lint.
    func lint(_ proposal: LearnProposal, identity: String) throws -> ProposalLint {
        do {
            return try ProposalLint(proposal: proposal, root: options.policy, identity: identity)
        } catch {
            throw fail(error.description)
        }
    }

    /// One run in observing mode under the policy with `proposal` applied; its observations.
    func observe(index: Int, applying proposal: ProposalLint, identityFile: String, name: String, host: HostFacts) throws
        -> (runID: String, exitCode: Int32, observations: [LearnObservation]) {
        let loader = PolicyLoader(provider: OverlaySourceProvider(overrides: [identityFile: proposal.patch.text]))
        let analysis: PolicyAnalysis
        let effective: EffectivePolicy
        do {
            analysis = try loader.analyze(options.policy)
            guard !analysis.hasErrors else { throw LearnError.invalidProposal("the policy with the proposal applied has errors") }
            effective = try EffectivePolicy(policy: analysis.policy, identity: name)
        } catch {
            throw fail("\(error)")
        }
        var request = try options.request(policy: analysis.policy, effective: effective, command: command)
        request.learn = true
        if !options.quiet { printError("warden learn: run \(index) of at most \(maxRuns), observing...", prefix: false) }
        let summary: RunSummary
        do {
            let run = try Run(request, host: host)
            if !options.quiet { for warning in run.warnings { printError("warning: \(warning)", prefix: false) } }
            summary = try run.execute()
        } catch {
            throw fail(error.message)
        }
        for line in summary.messages where !options.quiet { printError(line, prefix: false) }
        if !options.quiet { printError(summary.summaryLine, prefix: false) }
        let records: [AuditRecord]
        do {
            records = try AuditTimeline.load(path: summary.logPath, run: summary.runID).runs.flatMap(\.records)
        } catch {
            throw fail("cannot read the run's records from \(summary.logPath): \(error)")
        }
        return (summary.runID, summary.exitCode, LearnObservation.from(records: records))
    }

    func fail(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(2)
    }
}

/// One run of a learn session, for the summary.
struct LearnRunReport {
    var index: Int
    var runID: String
    var exitCode: Int32
    /// Observations its records held.
    var observed: Int
    /// Rules it added to the proposal.
    var added: Int
}
