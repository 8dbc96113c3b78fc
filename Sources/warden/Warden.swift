import ArgumentParser

/// The `warden` command line: thin wrappers that parse flags and call the libraries.
@main
struct Warden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Policy and governance enforcement for background agents.",
        version: WardenVersion.string,
        subcommands: [SyscallsCommand.self]
    )
}

enum WardenVersion {
    static let string = "0.1.0"
}
