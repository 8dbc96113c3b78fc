import WardenCompiler
import WardenPolicy

/// `warden explain --format json`: one JSON document with the verdict and the decision
/// (deciding rules with file:line, mechanism, note), in the same shape as each
/// expectation's `actual` in `warden test --format json`.
enum ExplainJSON {
    /// `injected` and `world` are explain's text lines (already escaped for a terminal).
    static func render(action: TestAction, identity: String, allowed: Bool, decision: Decision,
                       injected: [String], world: [String]) -> String {
        OrderedJSON.object([
            ("identity", .string(identity)),
            ("action", .string(ExplainFormat.action(action, escape: { $0 }))),
            ("allowed", .bool(allowed)),
            ("verdict", .string(allowed ? "allow" : "deny")),
            ("decision", TestReportFormat.decision(decision)),
            ("injections", .array(injected.map { .string($0) })),
            ("world", .array(world.map { .string($0) })),
        ]).rendered()
    }

    /// `explain --trigger --format json`: the verdict, the decision, and each trigger the
    /// event starts (name, identity, argv, workspace, file:line).
    static func renderTrigger(action: TestAction, identity: String?, allowed: Bool, decision: Decision, launches: [TriggerLaunch]) -> String {
        OrderedJSON.object([
            ("identity", identity.map { .string($0) } ?? .null),
            ("action", .string(ExplainFormat.action(action, escape: { $0 }))),
            ("allowed", .bool(allowed)),
            ("verdict", .string(allowed ? "allow" : "deny")),
            ("decision", TestReportFormat.decision(decision)),
            ("launches", .array(launches.map { l in
                .object([
                    ("trigger", .string(l.trigger)),
                    ("identity", .string(l.identity)),
                    ("run", .array(l.run.map { .string($0) })),
                    ("workspace", .string(l.workspace.description)),
                    ("fleet", l.fleet.map { .string($0) } ?? .null),
                    ("file", .string(l.span.file)),
                    ("line", .int(l.span.start.line)),
                ])
            })),
        ]).rendered()
    }
}
