import ArgumentParser
import WardenAudit

struct AuditAppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append an operator record (e.g. a maintenance note) to the audit log.",
        discussion: "Example: warden audit append LOG --kind note --field who=alice --field what='rotated keys'"
    )

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(help: "Record kind (a-z 0-9 . _ -; not checkpoint or recovery).")
    var kind: String = "note"

    @Option(name: .customLong("field"), help: "A string field as key=value; repeatable.")
    var fields: [String] = []

    @Option(name: .customLong("run"), help: "Run id for the record (default: a new random id).")
    var runID: String?

    @Option(name: .customLong("signing-key"), help: "Private key file; a signed checkpoint follows the records.")
    var signingKey: String?

    @Option(name: .customLong("repeat"), help: .hidden) var repeatCount: Int = 1
    @Option(help: .hidden) var batch: Int = 1

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
        if signingKey == "" { throw ValidationError("--signing-key: the path is empty") }
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var f: [String: AuditValue] = [:]
        for kv in fields {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else { throw auditFail("--field expects key=value, got \(kv)") }
            f[String(kv[..<eq])] = .string(String(kv[kv.index(after: eq)...]))
        }
        guard repeatCount >= 1, batch >= 1 else { throw auditFail("--repeat and --batch must be positive") }
        let run = runID ?? AuditRun.newRunID()
        do {
            let key = try loadSigningKey(signingKey)
            let writer = try AuditLog(path: path, signingKey: key)
            var left = repeatCount
            while left > 0 {
                let n = min(left, batch)
                let events = (0..<n).map { i -> AuditEvent in
                    var g = f
                    if repeatCount > 1 { g["i"] = .int(Int64(repeatCount - left + i)) }
                    return AuditEvent(kind: kind, fields: g)
                }
                try writer.append(events, run: run, sync: true, checkpoint: key != nil && left == n)
                left -= n
            }
        } catch let e as ExitCode { throw e } catch { throw auditFail("\(error)") }
    }
}
