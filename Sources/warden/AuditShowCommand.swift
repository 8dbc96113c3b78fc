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
        // Output leaves in 64 KiB pieces as the log is read: memory stays constant.
        var pending = ""
        var printer = TimelinePrinter(format: format == .json ? .json : .text) { text in
            pending += text
            if pending.utf8.count >= 1 << 16 {
                print(pending, terminator: "")
                pending.removeAll(keepingCapacity: true)
            }
        }
        do {
            try AuditTimeline.forEach(path: path, run: runID, kind: kind) { printer.add($0) }
        } catch {
            print(pending, terminator: "")
            throw auditFail("\(error)")
        }
        printer.finish()
        print(pending, terminator: "")
    }
}
