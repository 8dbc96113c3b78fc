import WardenAudit
import WardenBroker

/// The audit records of the broker's events: one per forwarded request, refusal and
/// placeholder caught where its secret is not bound. Secret names only, never values.
enum BrokerAuditEvents {
    /// Paths longer than this are cut in records (with a mark): a path may be 64 KiB, and
    /// every request is a record.
    static let pathLimit = 1024

    static func path(_ p: String) -> AuditValue {
        p.utf8.count <= pathLimit ? .string(p) : .string(String(decoding: p.utf8.prefix(pathLimit), as: UTF8.self) + "…(cut)")
    }

    static func event(_ e: BrokerEvent) -> AuditEvent {
        switch e {
        case let .request(host, port, method, path, status, bytesUp, bytesDown, secrets, rule):
            return AuditEvent(kind: AuditKind.httpRequest, fields: [
                "host": .string(host), "port": .int(Int64(port)), "method": .string(method), "path": Self.path(path),
                "status": .int(Int64(status)), "bytes_up": .int(Int64(bytesUp)), "bytes_down": .int(Int64(bytesDown)),
                "secrets": .strings(secrets), "rule": .string(rule),
            ])
        case let .refused(host, port, method, path, reason, rule, secrets):
            var fields: [String: AuditValue] = ["port": .int(Int64(port)), "reason": .string(reason), "secrets": .strings(secrets)]
            if let host { fields["host"] = .string(host) }
            if let method { fields["method"] = .string(method) }
            if let path { fields["path"] = Self.path(path) }
            if let rule { fields["rule"] = .string(rule) }
            return AuditEvent(kind: AuditKind.httpRefused, fields: fields)
        case let .exfiltration(secret, host, location):
            var fields: [String: AuditValue] = ["secret": .string(secret), "where": .string(location)]
            if let host { fields["host"] = .string(host) }
            return AuditEvent(kind: AuditKind.httpExfiltration, fields: fields)
        }
    }
}
