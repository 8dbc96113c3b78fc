import WardenKernel
import ArgumentParser
import WardenAudit

#if canImport(Glibc)
import Glibc
#endif

/// `warden audit …`: the append-only, hash-chained, signed audit trail.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify, show and manage the hash-chained, signed audit log.",
        discussion: """
            Without LOG, commands use $WARDEN_AUDIT_LOG, else /var/log/warden/audit.jsonl for root, \
            else $XDG_STATE_HOME/warden/audit.jsonl (default ~/.local/state/warden/audit.jsonl).
            """,
        subcommands: [
            AuditVerifyCommand.self, AuditShowCommand.self, AuditExportCommand.self, AuditKeygenCommand.self, AuditCheckpointCommand.self,
            AuditAppendCommand.self, AuditBenchCommand.self,
        ]
    )
}

/// Output formats of audit commands.
enum AuditFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Prints an error to stderr (control characters escaped) and returns exit code 2 (usage or
/// I/O) to throw.
func auditFail(_ message: String) -> ExitCode {
    let text = Array("warden audit: \(TerminalText.escape(message, doublingBackslashes: true))\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    return ExitCode(2)
}

func loadSigningKey(_ explicit: String?) throws -> AuditSigningKey? {
    guard let path = AuditLocation.signingKeyPath(explicit: explicit) else { return nil }
    do { return try AuditSigningKey.load(path: path) } catch { throw auditFail("\(error)") }
}
