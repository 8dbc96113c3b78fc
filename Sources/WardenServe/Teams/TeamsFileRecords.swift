import WardenAudit
import WardenKernel

extension DecisionRecorder {
    /// Records a change of the teams file as `serve.teams_file` (`path`, `state` `loaded`
    /// or `refused`, `reason`) and says it through `report`.
    public func recordTeamsFile(_ change: TeamsFileChange, report: @Sendable (String) -> Void) {
        let fields: [String: AuditValue] = ["path": .string(change.path), "state": .string(change.loaded ? "loaded" : "refused"),
                                            "reason": .string(change.reason)]
        do {
            try log(AuditEvent(kind: AuditKind.serveTeamsFile, fields: fields), id: AuditRun.newRunID())
        } catch {
            report("warden serve: cannot record the teams file's change: \(error.description)")
        }
        let file = "--teams \(TerminalText.escape(change.path))"
        report(change.loaded ? "warden serve: \(file) read again after an edit"
               : "warden serve: \(file): edit refused, the previous version stays in force: \(change.reason)")
    }
}
