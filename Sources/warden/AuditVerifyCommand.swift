import ArgumentParser
import WardenAudit

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the hash chain, sequence and signed checkpoints of an audit log.",
        discussion: """
            Exit codes: 0 intact and every record covered by a checkpoint signed by a given key; \
            1 tampered (modified, inserted, deleted, reordered or duplicated record, broken chain, \
            bad signature by a known key, log shorter than or inconsistent with the trusted checkpoint); \
            3 intact with warnings (records after the last signed checkpoint, an unfinished last write, \
            the clock stepped backwards, no public key); 2 usage or I/O error (missing file, a symbolic \
            link, FIFO, device or directory, a bad key). Complete lines that are not records are \
            tampering (1), never a torn write.
            """
    )

    @Argument(help: "The log file (default: the standard location).")
    var log: String?

    @Option(name: .customLong("public-key"), help: "A public key file; repeat for several (rotated) keys.")
    var publicKeys: [String] = []

    @Option(name: .customLong("trusted-checkpoint"), help: "A checkpoint line saved earlier (`warden audit checkpoint`).")
    var trustedCheckpoint: String?

    @Option(help: "Output format: text or json.")
    var format: AuditFormat = .text

    func validate() throws {
        if log == "" { throw ValidationError("the log path is empty") }
        if trustedCheckpoint == "" { throw ValidationError("--trusted-checkpoint: the path is empty") }
        if publicKeys.contains("") { throw ValidationError("--public-key: the path is empty") }
    }

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var keys: [AuditPublicKey] = []
        var trusted: [UInt8]?
        do {
            for k in publicKeys { keys.append(try AuditPublicKey.load(path: k)) }
            if let t = trustedCheckpoint { trusted = try AuditInputFile.readCheckpoint(path: t) }
        } catch { throw auditFail("\(error)") }
        let report: VerifyReport
        do {
            report = try AuditVerifier(publicKeys: keys, trustedCheckpoint: trusted).verify(path: path)
        } catch { throw auditFail("\(error)") }
        print(format == .json ? report.json(path: path) : report.text(path: path), terminator: format == .json ? "\n" : "")
        if report.status != .intact { throw ExitCode(report.status.rawValue) }
    }
}
