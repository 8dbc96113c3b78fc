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
            3 intact with warnings (records after the last signed checkpoint, torn tail, no public key); \
            2 usage or I/O error.
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

    func run() throws {
        let path = AuditLocation.resolve(explicit: log)
        var keys: [AuditPublicKey] = []
        var trusted: [UInt8]?
        do {
            for k in publicKeys { keys.append(try AuditPublicKey.load(path: k)) }
            if let t = trustedCheckpoint { trusted = try readSmallFile(t) }
        } catch { throw auditFail("\(error)") }
        let report: VerifyReport
        do {
            report = try AuditVerifier(publicKeys: keys, trustedCheckpoint: trusted).verify(path: path)
        } catch { throw auditFail("\(error)") }
        print(format == .json ? report.json(path: path) : report.text(path: path), terminator: format == .json ? "\n" : "")
        if report.status != .intact { throw ExitCode(report.status.rawValue) }
    }
}

func readSmallFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw auditFail("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; throw auditFail("cannot read \(path)") }
        if n == 0 { break }
        out.append(contentsOf: buf[0..<n])
        if out.count > 1 << 20 { throw auditFail("\(path) is too large") }
    }
    return out
}

#if canImport(Glibc)
import Glibc
#endif
