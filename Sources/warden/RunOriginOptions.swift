import ArgumentParser
import WardenAudit
import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a run came from, set by the Warden command that started it (hidden from
/// `run --help`): `warden fleet` gives its id and the repository and asks for a report
/// (docs/fleet.md); `warden trigger` gives the trigger and its authorization record
/// (docs/triggers.md). All of it is recorded in `run.start`.
struct RunOriginOptions: ParsableArguments {
    @Option(name: .customLong("fleet"), help: "The fleet this run belongs to (set by `warden fleet`).")
    var fleetID: String?

    @Option(help: "The repository of this fleet run, as the fleet's list names it.")
    var fleetRepository: String?

    @Option(name: .customLong("report"), help: "Write the run's id and exit status to this file as JSON when it ends.")
    var reportPath: String?

    @Option(name: .customLong("trigger"), help: "The trigger that started this run (set by `warden trigger`).")
    var triggerName: String?

    @Option(help: "The run id of the trigger.allow record that authorized this run.")
    var triggerDecision: String?

    @Option(name: .customLong("event"), help: "The trigger's event document (JSON) the agent receives (set by `warden serve`).")
    var eventPath: String?

    func validate() throws {
        if let fleetID, !FleetMembership.isValidID(fleetID) { throw ValidationError("--fleet: expected 16 lowercase hex digits") }
        if (fleetID == nil) != (fleetRepository == nil) { throw ValidationError("--fleet and --fleet-repository go together") }
        if reportPath == "" { throw ValidationError("--report: the path is empty") }
        if (triggerName == nil) != (triggerDecision == nil) { throw ValidationError("--trigger and --trigger-decision go together") }
        if let triggerDecision, !FleetMembership.isValidID(triggerDecision) { throw ValidationError("--trigger-decision: expected 16 lowercase hex digits") }
        if eventPath != nil && triggerName == nil { throw ValidationError("--event goes with --trigger") }
        if let parentPID, parentPID <= 1 { throw ValidationError("--parent-pid: expected a process id above 1") }
        if parentPID != nil && !stopWithParent && fleetID == nil { throw ValidationError("--parent-pid goes with --stop-with-parent or --fleet") }
    }

    /// The trigger that started the run, if any, with its event document read (at most
    /// `TriggerOrigin.maxEventBytes`, a JSON object).
    func trigger() throws -> TriggerOrigin? {
        guard let triggerName, let triggerDecision else { return nil }
        var origin = TriggerOrigin(trigger: triggerName, decision: triggerDecision)
        if let eventPath {
            let bytes: [UInt8]
            do { bytes = try BoundedFileReader.read(eventPath, limit: TriggerOrigin.maxEventBytes) } catch {
                throw ValidationError("--event \(TerminalText.escape(eventPath)): \(error)")
            }
            guard case .success(.object) = AuditValue.parseJSON(bytes) else {
                throw ValidationError("--event \(TerminalText.escape(eventPath)): not a JSON object")
            }
            origin.event = bytes
        }
        return origin
    }

    @Flag(name: .customLong("stop-with-parent"), help: "Stop the run (as for SIGTERM) when the process that started it dies (set by `warden serve`).")
    var stopWithParent = false

    @Option(name: .customLong("parent-pid"), help: "The pid of the fleet or server that started this run (set by them): a run whose parent is already another process does not launch.")
    var parentPID: Int32?

    /// The membership, after tying this process's life to the fleet's (see `tieToParent`).
    func membership() throws -> FleetMembership? {
        guard let fleetID, let fleetRepository else {
            if stopWithParent { try tieToParent(what: "the server") }
            return nil
        }
        try tieToParent(what: "the fleet")
        return FleetMembership(id: fleetID, repository: fleetRepository)
    }

    /// Ties this process's life to its parent's: when the parent (a fleet, a server) dies,
    /// even by SIGKILL, this run gets SIGTERM and stops its agent as for an operator's
    /// SIGTERM, so no run outlives it unseen. The stop signals are held (blocked) until the
    /// agent has started, when the supervisor takes them and passes them on: a parent dying
    /// while this run sets up still gets a recorded `run.exit`, never a run killed between its
    /// `run.start` and its agent.
    private func tieToParent(what: String) throws {
        var held = sigset_t()
        sigemptyset(&held)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&held, s) }
        pthread_sigmask(SIG_BLOCK, &held, nil)
        ParentDeath.deliver(SIGTERM)
        // The parent may have died before the parent-death signal was armed; then this process
        // was re-parented: to init, or to a subreaper (a service manager, a container's init),
        // which `getppid() == 1` alone would miss.
        let parent = getppid()
        if parent == 1 || (parentPID.map { $0 != parent } ?? false) {
            printError("\(what) that started this run is gone; not launching")
            writeReport(runID: nil, exitCode: 125, denials: 0, error: "\(what) is gone")
            throw ExitCode(125)
        }
    }

    /// Writes the report (`--report`), if asked: `{"run_id", "exit_code", "denials", "error"}`.
    func writeReport(runID: String?, exitCode: Int32, denials: Int64, error: String?) {
        guard let reportPath else { return }
        var doc: [String: AuditValue] = ["run_id": runID.map { .string($0) } ?? .null, "exit_code": .int(Int64(exitCode)),
                                         "denials": .int(denials)]
        if let error { doc["error"] = .string(error) }
        // Whoever started this run (a fleet, a server) was gone when it ended (for a review
        // of what happened; not proof either way: a dying parent keeps its pid a moment).
        if let parentPID, getppid() != parentPID { doc["parent_gone"] = .bool(true) }
        do { try AtomicFile.store(reportPath, text: AuditValue.object(doc).jsonText + "\n", mode: 0o600) } catch {
            printError("--report: \(error)")
        }
    }
}
