import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `warden` command line: thin wrappers that parse flags and call the libraries.
@main
struct Warden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Policy and governance enforcement for background agents.",
        version: WardenVersion.string,
        subcommands: [LintCommand.self, FmtCommand.self]
    )

    /// Runs the command line. Usage errors exit 2 (ArgumentParser's default is 64),
    /// matching the exit-code convention of every warden command.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error), prefix: false)
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

enum WardenVersion {
    static let string = "0.1.0"
}
