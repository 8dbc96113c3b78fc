import ArgumentParser
import WardenAudit

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

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        let timeline: AuditTimeline
        do { timeline = try AuditTimeline.load(path: path, run: runID, kind: kind) } catch { throw auditFail("\(error)") }
        if format == .json { print(timeline.json()) } else { print(timeline.text(), terminator: "") }
    }
}
