import WardenAudit

/// Writes `run.remote` records to the server's own log (signed with its key when it has
/// one, durable before the queue records the outcome): what came back from a run on
/// another machine, verified or refused.
public final class RemoteRunRecorder: Sendable {
    public static let kind = "run.remote"
    /// Records of a pod's chain up to this many bytes are copied into `run.remote`'s
    /// `records`; a longer chain is carried by its digest (`chain_sha256`) and the file.
    public static let inlineLimit = 512 * 1024

    public let logPath: String
    let signingKeyPath: String?

    public init(logPath: String, signingKeyPath: String?) {
        self.logPath = logPath
        self.signingKeyPath = signingKeyPath
    }

    public func record(run: String, fields: [String: AuditValue]) throws(AuditError) {
        let key = try signingKeyPath.map { path throws(AuditError) in try AuditSigningKey.load(path: path) }
        let log = try AuditLog(path: logPath, signingKey: key)
        _ = try log.append([AuditEvent(kind: Self.kind, fields: fields)], run: run, sync: true, checkpoint: true)
    }
}
