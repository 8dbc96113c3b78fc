import ArgumentParser

/// The `warden` command line: thin wrappers that parse flags and call the libraries.
/// `main()` (usage errors exit 2) is in UsageExitCode.swift.
@main
struct Warden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Policy and governance enforcement for background agents.",
        version: WardenVersion.string,
        subcommands: [LintCommand.self, FmtCommand.self, TestCommand.self, ExplainCommand.self, DiffCommand.self, CompileCommand.self, RunCommand.self, FleetCommand.self, TriggerCommand.self, ServeCommand.self, LearnCommand.self, AuditCommand.self, IdentityCommand.self, DoctorCommand.self, SyscallsCommand.self, LspCommand.self]
    )
}

enum WardenVersion {
    static let string = "0.1.0"
}
