import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Warden {
    /// Runs the command line like ArgumentParser's default, but reports usage errors with
    /// exit status 2 (Warden's convention: 0 ok, 1 findings, 2 usage or I/O) instead of
    /// ArgumentParser's 64 — except for `warden run`, whose statuses are the agent's own:
    /// there a usage error exits 125, like `env` and `timeout` (see `runUsageExitCode`).
    /// Help and `--version` still exit 0.
    static func main() {
        do {
            var command = try launchCommand() ?? parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error), prefix: false)
                fflush(nil)
                terminate(usageExitCode(CommandLine.arguments))
            }
            exit(withError: error)
        }
    }

    /// `warden run ARGS` parsed by `RunCommand` alone, or nil. The root's parse builds every
    /// subcommand's argument set by reflection and checks for completion-script requests on
    /// every launch; a launch needs none of that. Anything this parse refuses (a usage
    /// error, `--help`) returns nil, and the root's parse then answers exactly as it always
    /// does.
    private static func launchCommand() -> (any ParsableCommand)? {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.first == RunCommand.configuration.commandName else { return nil }
        return try? RunCommand.parse(Array(arguments.dropFirst()))
    }

    /// `warden run`'s status for its own usage errors (a bad flag or value, no command):
    /// 125, Warden's "failed before the command started", which no agent's own small exit
    /// status (2 from `exit 2`, say) can be mistaken for. 126 and 127 keep their `env`
    /// meaning (found but not executable, not found), set by the run itself.
    static let runUsageExitCode: Int32 = 125

    /// The exit status for a usage error in `arguments` (the full command line).
    static func usageExitCode(_ arguments: [String]) -> Int32 {
        arguments.dropFirst().first == RunCommand.configuration.commandName ? runUsageExitCode : 2
    }
}

private func terminate(_ status: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(status)
    #else
    Musl.exit(status)
    #endif
}
