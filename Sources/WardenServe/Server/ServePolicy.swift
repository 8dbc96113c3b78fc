import WardenCompiler
import WardenPolicy

/// What the server decides with: the policy's triggers and the values of the secrets that
/// authenticate their deliveries. Loaded at start and again on reload (SIGHUP); a policy
/// that fails to load leaves the previous one in force.
public struct ServePolicy: Sendable {
    /// The policy file, absolute (recorded in every decision, passed to `warden run`).
    public var path: String
    public var triggers: [CheckedTrigger]
    /// Secret name to value, for the secrets triggers name.
    public var secrets: [String: [UInt8]]

    public init(path: String, triggers: [CheckedTrigger], secrets: [String: [UInt8]]) {
        self.path = path
        self.triggers = triggers
        self.secrets = secrets
    }

    /// Why the server cannot take this policy: a webhook trigger without a secret (its
    /// deliveries could not be authenticated), or a secret it names that has no value.
    public func problems() -> [String] {
        var out: [String] = []
        for t in triggers where [.github, .gitlab, .webhook].contains(t.source) {
            guard let secret = t.secret else {
                out.append("trigger \(t.name) (\(t.source.rawValue)) has no `secret`: its deliveries could not be authenticated")
                continue
            }
            if secrets[secret] == nil { out.append("trigger \(t.name): secret \(secret) has no value") }
        }
        return out
    }

    /// Per-trigger `budget concurrent N`, for the queue's limits.
    public var concurrency: [String: Int] {
        var out: [String: Int] = [:]
        for t in triggers { if let n = t.budget.concurrent { out[t.name] = n } }
        return out
    }
}
