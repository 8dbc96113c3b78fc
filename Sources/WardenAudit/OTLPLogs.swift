/// Audit records as OpenTelemetry logs: an OTLP/HTTP JSON `ExportLogsServiceRequest`
/// (opentelemetry-proto `logs/v1`, JSON mapping: 64-bit integers as decimal strings, enums
/// as numbers) for `warden audit export --to otlp`.
///
/// Each record is one log record: `timeUnixNano` from its `ts`, severity WARN (13) for
/// denials and refusals and INFO (9) otherwise (the syslog export's split), the exported
/// line (JSON Lines or OCSF) as the string body, and attributes `warden.kind`, `warden.run`,
/// `warden.sequence`, `warden.hash` (the chain position, so a collector can cross-check)
/// and `warden.identity` when known. The resource carries `service.name` = `warden` and
/// `host.name`.
public enum OTLPLogs {
    /// Records sent in one request at most.
    public static let batchSize = 512

    /// One log record.
    public static func logRecord(_ rec: AuditRecord, hash: String, identity: String?, body: [UInt8]) -> AuditValue {
        let time = AuditTime(rfc3339: rec.ts)
        let nanos = time.map { String($0.seconds * 1_000_000_000 + Int64($0.nanoseconds)) } ?? "0"
        let warning = SyslogMessage.severity(rec.kind) <= 4
        var attributes: [AuditValue] = [
            attribute("warden.kind", .string(rec.kind)), attribute("warden.run", .string(rec.run)),
            attribute("warden.sequence", .object(["intValue": .string(String(rec.seq))])), attribute("warden.hash", .string(hash)),
        ]
        if let identity { attributes.append(attribute("warden.identity", .string(identity))) }
        return .object([
            "timeUnixNano": .string(nanos),
            "severityNumber": .int(warning ? 13 : 9),
            "severityText": .string(warning ? "WARN" : "INFO"),
            "body": .object(["stringValue": .string(String(decoding: body, as: UTF8.self))]),
            "attributes": .array(attributes),
        ])
    }

    /// The request carrying `records` (from `logRecord`).
    public static func request(_ records: [AuditValue], hostname: String, version: String) -> [UInt8] {
        let resource: AuditValue = .object(["attributes": .array([
            attribute("service.name", .string("warden")), attribute("host.name", .string(hostname)),
        ])])
        let scope: AuditValue = .object(["name": .string("warden.audit"), "version": .string(version)])
        let document: AuditValue = .object(["resourceLogs": .array([
            .object(["resource": resource, "scopeLogs": .array([.object(["scope": scope, "logRecords": .array(records)])])]),
        ])])
        return CanonicalJSON.serialize(document)
    }

    private static func attribute(_ key: String, _ value: AuditValue) -> AuditValue {
        if case .string = value { return .object(["key": .string(key), "value": .object(["stringValue": value])]) }
        return .object(["key": .string(key), "value": value])
    }
}
