import WardenAudit

extension GitControlPlane {
    /// Lines for stderr, one per finding, then one telling the operator what to do; empty
    /// when there is nothing to report. Every agent-written byte is escaped.
    public static func render(_ findings: [Finding]) -> [String] {
        guard !findings.isEmpty else { return [] }
        var lines = findings.map { "warden: git control plane: \($0.kind.rawValue) \($0.displayPath): \($0.reason)" }
        lines.append("warden: git control plane: \(findings.count) finding\(findings.count == 1 ? "" : "s"); do not run git in this workspace before reviewing \(findings.count == 1 ? "it" : "them") (docs/runtime.md, \"Git control plane\")")
        return lines
    }

    /// The finding as an audit field value: `{kind, path, reason}`, the path in its escaped
    /// display form (the audit format stores text).
    public static func auditValue(_ finding: Finding) -> AuditValue {
        .object(["kind": .string(finding.kind.rawValue), "path": .string(finding.displayPath), "reason": .string(finding.reason)])
    }

    /// The `git.control` record for a run's findings.
    public static func auditEvent(_ findings: [Finding], workspace: String) -> AuditEvent {
        AuditEvent(kind: auditKind, fields: [
            "workspace": .string(GitPathBytes.display(Array(workspace.utf8))),
            "count": .int(Int64(findings.count)),
            "findings": .array(findings.map(auditValue)),
        ])
    }
}
