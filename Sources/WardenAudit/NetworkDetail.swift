/// What a `net.connect` or `deny.net` record says about the decision, beyond the
/// destination: the operation, how it was decided, and how to reproduce it. Every field is
/// optional in the log (records written before these fields existed lack them); see
/// docs/audit.md for the contract the denial digest reads.
public struct NetworkDetail: Sendable, Hashable {
    /// The mediated call: `connect`, `bind`, `listen`, `sendto`, `sendmsg`, `sendmmsg`
    /// (field `operation`).
    public var operation: String?
    /// How it was decided (field `decided_by`): `rule` (a policy rule, named in `rule`),
    /// `default` (no rule allows it; `rule` says so), `own-loopback` (the agent's own
    /// loopback), `built-in` (a refusal Warden always makes; `rule` says which).
    public var decidedBy: String?
    /// The `warden explain` arguments that reproduce the decision, after the policy and
    /// `--identity` (field `explain`), e.g. `["--connect", "tcp", "127.0.0.1:5432"]`.
    public var explain: [String]?

    public init(operation: String? = nil, decidedBy: String? = nil, explain: [String]? = nil) {
        self.operation = operation
        self.decidedBy = decidedBy
        self.explain = explain
    }

    /// The record fields this detail adds.
    func apply(to f: inout [String: AuditValue]) {
        if let operation { f["operation"] = .string(operation) }
        if let decidedBy { f["decided_by"] = .string(decidedBy) }
        if let explain { f["explain"] = .strings(explain) }
    }
}
