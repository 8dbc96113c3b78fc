import ArgumentParser
import WardenAudit
import WardenKernel
import WardenRuntime

#if canImport(Glibc)
import Glibc
#endif

struct AuditShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a readable timeline of runs and their denials.",
        discussion: """
            Exit codes: 0 shown (also when nothing matched); 1 --run names a run that is not in the log; \
            2 usage or I/O error. --since/--until take RFC 3339 (2026-12-07T10:00:00Z) or a duration \
            before now (30s, 10m, 2h, 1d). --follow prints records as they are appended, checking \
            each against the hash chain, until SIGINT or SIGTERM.
            """
    )

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(name: .customLong("run"), help: "Only this run id.")
    var runID: String?

    @Option(help: "Only records of this kind (e.g. deny.syscall, run.start, checkpoint).")
    var kind: String?

    @Option(help: "Only runs of this identity (as named in their run.start).")
    var identity: String?

    @Option(help: "Summarize the runs of this fleet (`warden fleet`): one line per run with its repository, exit and denials.")
    var fleet: String?

    @Option(help: "Only records written at or after TIME (RFC 3339, or 30s, 10m, 2h, 1d ago).")
    var since: String?

    @Option(help: "Only records written at or before TIME (RFC 3339, or 30s, 10m, 2h, 1d ago).")
    var until: String?

    @Flag(help: "Keep printing records as they are appended (like tail -f); stop with Ctrl-C.")
    var follow = false

    @Option(help: "Output format: text or json.")
    var format: AuditFormat = .text

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
        if fleet != nil && (follow || kind != nil) { throw ValidationError("--fleet summarizes runs: it cannot be combined with --follow or --kind") }
        if follow && format == .json {
            throw ValidationError("--follow prints text; for a JSON stream use `warden audit export --format jsonl --follow`")
        }
        _ = try AuditSelection.filter(run: runID, kind: kind, identity: identity, fleet: fleet, since: since, until: until)
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var filter = try AuditSelection.filter(run: runID, kind: kind, identity: identity, fleet: fleet, since: since, until: until)
        if follow { return try runFollow(path: path, filter: filter) }
        if let fleet { return try showFleet(fleet, path: path, filter: filter) }
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
            try AuditTimeline.forEach(path: path, filter: &filter) { printer.add($0) }
        } catch {
            print(pending, terminator: "")
            throw auditFail("\(error)")
        }
        printer.finish()
        print(pending, terminator: "")
        try AuditSelection.requireRunSeen(filter, path: path)
    }

    /// `--follow`: records as they arrive, each checked against the chain; a line that is not a
    /// good record is reported in place (`!! line N: …`), never printed as a record.
    private func runFollow(path: String, filter initial: AuditFilter) throws {
        var filter = initial
        var pending = ""
        var printer = TimelinePrinter(format: .text) { pending += $0 }
        func flush() {
            guard !pending.isEmpty else { return }
            print(pending, terminator: "")
            pending.removeAll(keepingCapacity: true)
            fflush(nil)
        }
        do {
            try AuditFollower(path: path).run(
                follow: true,
                notice: { auditNotice($0) },
                idle: flush
            ) { entry in
                switch entry {
                case .record(let rec, let line, _):
                    if filter.matches(rec) { printer.add(.record(rec, line: line)) }
                case .unfinished(let line, let bytes):
                    pending += "!! line \(line): unfinished last line (\(bytes) bytes without a newline)\n"
                case .problem(let line, let message):
                    pending += "!! line \(line): \(TerminalText.escape(message, maxScalars: 400))\n"
                }
                if pending.utf8.count >= 1 << 16 { flush() }
            }
        } catch {
            flush()
            throw auditFail("\(error)")
        }
        flush()
    }
}

/// Shared parsing of the selection options of `show` and `export`.
enum AuditSelection {
    static func filter(run: String?, kind: String?, identity: String?, fleet: String? = nil, since: String?, until: String?) throws -> AuditFilter {
        if run == "" { throw ValidationError("--run: the run id is empty") }
        if identity == "" { throw ValidationError("--identity: the identity is empty") }
        if let fleet, !FleetMembership.isValidID(fleet) { throw ValidationError("--fleet: a fleet id is 16 lowercase hex digits") }
        let now = AuditTime.now()
        func time(_ name: String, _ text: String?) throws -> AuditTime? {
            guard let text else { return nil }
            do { return try AuditTimeArgument.parse(text, now: now) } catch {
                throw ValidationError("--\(name): \(TerminalText.escape(error.description, maxScalars: 300))")
            }
        }
        let s = try time("since", since)
        let u = try time("until", until)
        if let s, let u, u < s { throw ValidationError("--until is before --since: nothing could match") }
        return AuditFilter(run: run, kind: kind, identity: identity, fleet: fleet, since: s, until: u)
    }

    /// `--run ID` that never appeared: exit 1.
    static func requireRunSeen(_ filter: AuditFilter, path: String) throws {
        guard let run = filter.run, !filter.runSeen else { return }
        let text = "warden audit: no run \(TerminalText.escape(run, doublingBackslashes: true)) in \(TerminalText.escape(path, doublingBackslashes: true))\n"
        _ = Array(text.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        throw ExitCode(1)
    }
}

/// A message on stderr that does not end the command (control characters escaped).
func auditNotice(_ message: String) {
    let text = Array("warden audit: \(TerminalText.escape(message, doublingBackslashes: true))\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
