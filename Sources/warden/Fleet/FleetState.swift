import WardenAudit
import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A fleet's durable state, `fleet.json` in its directory: what to run and what came of each
/// repository. Rewritten atomically (and flushed) whenever a run starts or ends, so
/// `warden fleet --resume ID` after an interruption (even `kill -9`) runs exactly the
/// repositories without a result; a run that was under way is run again, and its first
/// attempt counted in `attempts`.
struct FleetState: Sendable {
    static let formatVersion: Int64 = 1

    var id: String
    var policy: String
    var identity: String?
    var command: [String]
    var timeout: String?
    var auditLog: String?
    var concurrency: Int
    var runs: [FleetRunRecord]

    /// Where the fleet keeps its state, workspaces and outputs.
    static func directory(stateRoot: String, id: String) -> String { stateRoot + "/" + id }

    /// `--state-dir` default: `$WARDEN_FLEET_DIR`, else `fleets` in Warden's state directory
    /// (`WardenState.directory`).
    static func defaultRoot() -> String {
        if let v = getenv("WARDEN_FLEET_DIR"), v.pointee != 0 { return String(cString: v) }
        return WardenState.directory() + "/fleets"
    }

    var json: AuditValue {
        .object([
            "version": .int(Self.formatVersion), "id": .string(id), "policy": .string(policy),
            "identity": identity.map { .string($0) } ?? .null, "command": .strings(command),
            "timeout": timeout.map { .string($0) } ?? .null, "audit_log": auditLog.map { .string($0) } ?? .null,
            "concurrency": .int(Int64(concurrency)), "runs": .array(runs.map(\.json)),
        ])
    }

    /// Reads `fleet.json`; the reason when it is not one this version wrote.
    static func load(directory: String) throws(FleetError) -> FleetState {
        let path = directory + "/fleet.json"
        let bytes: [UInt8]
        do { bytes = try BoundedFileReader.read(path, limit: 64 << 20) } catch { throw FleetError("cannot read \(path): \(error)") }
        guard case .success(let doc) = AuditValue.parseJSON(bytes) else { throw FleetError("\(path) is not valid JSON") }
        func bad(_ what: String) -> FleetError { FleetError("\(path): \(what) is missing or malformed") }
        guard doc["version"]?.intValue == formatVersion else { throw bad("version") }
        guard let id = doc["id"]?.stringValue, FleetMembership.isValidID(id) else { throw bad("id") }
        guard let policy = doc["policy"]?.stringValue else { throw bad("policy") }
        guard let command = doc["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty else { throw bad("command") }
        guard let concurrency = doc["concurrency"]?.intValue, (1...FleetLimits.maxConcurrency).contains(Int(concurrency)) else {
            throw bad("concurrency")
        }
        guard let runValues = doc["runs"]?.arrayValue else { throw bad("runs") }
        var runs: [FleetRunRecord] = []
        for value in runValues {
            guard let run = FleetRunRecord(json: value) else { throw bad("a run") }
            runs.append(run)
        }
        return FleetState(id: id, policy: policy, identity: doc["identity"]?.stringValue, command: command,
                          timeout: doc["timeout"]?.stringValue, auditLog: doc["audit_log"]?.stringValue,
                          concurrency: Int(concurrency), runs: runs)
    }

    func save(directory: String) throws(FleetError) {
        do { try AtomicFile.store(directory + "/fleet.json", text: json.jsonText + "\n", mode: 0o600) } catch {
            throw FleetError("cannot save the fleet's state: \(error)")
        }
    }
}

/// Bounds of a fleet.
enum FleetLimits {
    static let maxConcurrency = 256
}

/// One repository's run in a fleet.
struct FleetRunRecord: Sendable {
    enum Phase: String, Sendable { case pending, running, done }

    /// The repository as reports name it (a URL's credentials left out).
    var repository: String
    /// The list's entry as written (a URL may carry credentials: kept only in the state
    /// file, mode 0600 in a 0700 directory, to clone again on `--resume`).
    var source: String
    var phase: Phase = .pending
    /// Launches begun (more than one when an interrupted fleet was resumed).
    var attempts = 0
    var runID: String?
    var exitCode: Int32?
    var durationMilliseconds: Int64?
    var denials: Int64?
    var workspace: String?
    var changes: WorkspaceSnapshot.Changes?
    /// The run's changes as a branch and a patch (`ReviewBranch`), when the workspace was a
    /// clone and the run changed something.
    var review: ReviewArtifact?
    /// Why the run did not happen or has no result (a clone that failed, say).
    var error: String?

    init(repository: String, source: String) {
        self.repository = repository
        self.source = source
    }

    var succeeded: Bool { phase == .done && exitCode == 0 && error == nil }

    var json: AuditValue {
        var o: [String: AuditValue] = [
            "repository": .string(repository), "source": .string(source), "phase": .string(phase.rawValue), "attempts": .int(Int64(attempts)),
            "run_id": runID.map { .string($0) } ?? .null, "exit_code": exitCode.map { .int(Int64($0)) } ?? .null,
            "duration_ms": durationMilliseconds.map { .int($0) } ?? .null, "denials": denials.map { .int($0) } ?? .null,
            "workspace": workspace.map { .string($0) } ?? .null, "error": error.map { .string($0) } ?? .null,
        ]
        if let c = changes {
            o["changes"] = .object(["added": .int(Int64(c.added)), "modified": .int(Int64(c.modified)), "removed": .int(Int64(c.removed)),
                                    "complete": .bool(c.complete), "paths": .strings(c.paths)])
        } else {
            o["changes"] = .null
        }
        o["review"] = review?.json ?? .null
        return .object(o)
    }

    init?(json v: AuditValue) {
        guard let repository = v["repository"]?.stringValue, let source = v["source"]?.stringValue, let phase = v["phase"]?.stringValue.flatMap(Phase.init(rawValue:)),
              let attempts = v["attempts"]?.intValue else { return nil }
        self.repository = repository
        self.source = source
        self.phase = phase
        self.attempts = Int(attempts)
        runID = v["run_id"]?.stringValue
        exitCode = v["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        durationMilliseconds = v["duration_ms"]?.intValue
        denials = v["denials"]?.intValue
        workspace = v["workspace"]?.stringValue
        error = v["error"]?.stringValue
        if let c = v["changes"]?.objectValue {
            var changes = WorkspaceSnapshot.Changes()
            changes.added = Int(c["added"]?.intValue ?? 0)
            changes.modified = Int(c["modified"]?.intValue ?? 0)
            changes.removed = Int(c["removed"]?.intValue ?? 0)
            changes.complete = c["complete"]?.boolValue ?? false
            changes.paths = c["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
            self.changes = changes
        }
        review = v["review"].flatMap(ReviewArtifact.init(json:))
    }
}

/// Why a fleet could not start or go on (`warden fleet` exits 2).
struct FleetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
