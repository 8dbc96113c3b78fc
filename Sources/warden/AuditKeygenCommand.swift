import ArgumentParser
import WardenAudit

struct AuditKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 key pair for signing audit checkpoints.",
        discussion: "Writes PREFIX.key (private, mode 0600) and PREFIX.pub (public); never overwrites."
    )

    @Option(help: "Path prefix for PREFIX.key and PREFIX.pub.")
    var output: String

    func run() throws {
        let key = AuditSigningKey.generate()
        do {
            try AuditKeyFiles.write(key, privatePath: output + ".key", publicPath: output + ".pub")
        } catch { throw auditFail("\(error)") }
        print("wrote \(output).key (private, mode 0600) and \(output).pub; key id \(key.publicKey.keyID)")
    }
}
