import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import WardenCompiler
import WardenPolicy
import WardenRuntime

/// `warden run`: launch an agent under every layer of its policy, and audit the run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a command as a policy identity, under all of its enforcement layers.",
        discussion: """
        Example:
          warden run --policy policies/default.warden --workspace ./repo -- python3 -m unittest

        Exit status: the command's own; 128+N when killed by signal N; 122 when the audit log \
        could not take the run's records (the agent was stopped, or records are missing from \
        the log); 123 when the command exited but the workspace's git control plane changed in \
        a way that could make a later git command run code (the findings are printed); 124 \
        when the timeout or `limit wall-time` ended it; 125 when Warden failed \
        before the command started (a usage error of `warden run` included); 126 when the command cannot be executed; 127 when it is \
        not found.

        A first SIGINT/SIGTERM is passed to the command and starts the grace period; a second \
        one, or the end of the grace period, kills the command's whole process tree.
        """
    )

    @OptionGroup var options: RunOptions

    @Flag(help: "Print where the launch's time went, stage by stage (wall and CPU ms), on standard error.")
    var timings = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
    var command: [String] = []

    @OptionGroup(visibility: .hidden) var origin: RunOriginOptions

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after `--`") }
    }

    func run() throws {
        Run.holdStopSignalsDuringSetup()
        let clock = LaunchTimings.shared
        if timings { clock.begin("arguments parsed") }
        let checked = try PolicyInput.load(options.policy, failureCode: 125, standardInput: false)
        clock.mark("policy read, parsed and checked")
        let effective = try PolicyInput.effective(checked, identity: options.identity, failureCode: 125)
        clock.mark("effective policy")
        var request = try options.request(policy: checked, effective: effective, command: command)
        request.fleet = try origin.membership()
        request.trigger = try origin.trigger()
        let quiet = options.quiet
        let summary: RunSummary
        do {
            let run = try Run(request, host: .current())
            if !quiet { for warning in run.warnings { printError("warning: \(warning)", prefix: false) } }
            summary = try run.execute()
        } catch {
            printError(error.message)
            origin.writeReport(runID: nil, exitCode: 125, denials: 0, error: error.message)
            throw ExitCode(125)
        }
        origin.writeReport(runID: summary.runID, exitCode: summary.exitCode, denials: summary.denialsRecorded, error: nil)
        // The agent shared the terminal: whatever modes or colours it left on (concealed
        // text, say) must not hide Warden's own lines.
        if isatty(2) == 1, !summary.messages.isEmpty || !quiet { printError("\u{1B}[0m\u{1B}]110\u{07}\u{1B}]111\u{07}", prefix: false, newline: false, escaping: false) }
        clock.mark("summary")
        for line in clock.report() { printError(line, prefix: false) }
        for line in summary.messages { printError(line, prefix: false) }
        if !quiet { printError(summary.summaryLine, prefix: false) }
        throw ExitCode(summary.exitCode)
    }
}
