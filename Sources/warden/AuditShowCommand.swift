import ArgumentParser
import WardenAudit

#if canImport(Glibc)
import Glibc
#endif

struct AuditShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a readable timeline of runs and their denials."
    )

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(name: .customLong("run"), help: "Only this run id.")
    var runID: String?

    @Option(help: "Only records of this kind (e.g. deny.syscall, run.start, checkpoint).")
    var kind: String?

    @Option(help: "Output format: text or json.")
    var format: AuditFormat = .text

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var printer = TimelinePrinter(format: format == .json ? .json : .text) { print($0, terminator: "") }
        do {
            try AuditTimeline.forEach(path: path, run: runID, kind: kind) { printer.add($0) }
        } catch { throw auditFail("\(error)") }
        printer.finish()
    }
}
