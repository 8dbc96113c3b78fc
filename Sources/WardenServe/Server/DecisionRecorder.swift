import Synchronization
import WardenAudit

/// Writes the server's launch decisions to the audit trail: `trigger.allow` and
/// `trigger.refuse`, each durable (fsync) before the server acts on it.
///
/// Deliveries refused before a decision (not authenticated, malformed) are recorded too, but
/// at most `rejectedPerMinute` a minute: anyone who can reach the port can send them, and
/// the trail must not be theirs to fill. The ones left out are counted, and the next such
/// record carries the count as `suppressed`.
public final class DecisionRecorder: Sendable {
    public let logPath: String
    let signingKeyPath: String?
    static let rejectedPerMinute = 60

    private struct Gate { var minute: Int64 = 0; var recorded = 0; var suppressed = 0 }
    private let gate = Mutex(Gate())

    public init(logPath: String, signingKeyPath: String?) {
        self.logPath = logPath
        self.signingKeyPath = signingKeyPath
    }

    /// Appends one decision record under the run id `id`; throws when it is not durable.
    public func record(allowed: Bool, id: String, fields: [String: AuditValue]) throws(AuditError) {
        try log(AuditEvent(kind: allowed ? AuditKind.triggerAllow : AuditKind.triggerRefuse, fields: fields), id: id)
    }

    /// Appends one of the server's own records under the run id `id`, durably.
    public func log(_ event: AuditEvent, id: String) throws(AuditError) {
        let key = try signingKeyPath.map { path throws(AuditError) in try AuditSigningKey.load(path: path) }
        let log = try AuditLog(path: logPath, signingKey: key)
        _ = try log.append([event], run: id, sync: true)
    }

    /// Records a delivery refused before a decision, unless this minute's share is spent.
    /// Returns whether a record was written.
    @discardableResult
    public func recordRejected(fields: [String: AuditValue], now: Int64) -> Bool {
        let minute = now / 60
        let suppressed: Int? = gate.withLock { g in
            if g.minute != minute { g.minute = minute; g.recorded = 0 }
            guard g.recorded < Self.rejectedPerMinute else { g.suppressed += 1; return nil }
            g.recorded += 1
            defer { g.suppressed = 0 }
            return g.suppressed
        }
        guard let suppressed else { return false }
        var fields = fields
        if suppressed > 0 { fields["suppressed"] = .int(Int64(suppressed)) }
        do { try record(allowed: false, id: AuditRun.newRunID(), fields: fields) } catch { return false }
        return true
    }
}

/// Serializes decisions and their enqueues (deliveries and schedule firings), so two of them
/// never both fit a budget that has room for one.
public final class DecisionLock: Sendable {
    private let mutex = Mutex<Void>(())
    public init() {}
    func run<T>(_ body: () -> T) -> T { mutex.withLock { _ in body() } }
}
