import ArgumentParser
import WardenAudit

struct AuditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print or save a checkpoint line to use later with `verify --trusted-checkpoint`.",
        discussion: """
            With a signing key (--signing-key or $WARDEN_AUDIT_KEY) a new signed checkpoint is appended \
            first; otherwise the last checkpoint in the log is used.
            """
    )

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(name: .customLong("signing-key"), help: "Private key file to sign a new checkpoint.")
    var signingKey: String?

    @Option(help: "Write the checkpoint line to this file instead of standard output.")
    var output: String?

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
        if signingKey == "" { throw ValidationError("--signing-key: the path is empty") }
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var line: [UInt8]?
        do {
            if let key = try loadSigningKey(signingKey) {
                let writer = try AuditLog(path: path, signingKey: key)
                line = try writer.checkpoint(run: "warden-audit-checkpoint")?.line
            } else {
                line = try AuditLogFile.lastCheckpointLine(path: path)
            }
        } catch let e as ExitCode { throw e } catch { throw auditFail("\(error)") }
        guard let line else { throw auditFail("no checkpoint in \(path) (give --signing-key to make one)") }
        let text = String(decoding: line, as: UTF8.self) + "\n"
        if let output {
            do { try AuditKeyFiles.writeNew(path: output, contents: text, mode: 0o644) } catch { throw auditFail("\(error)") }
        } else {
            print(text, terminator: "")
        }
    }
}
