import Testing
import WardenCompiler
import WardenPolicy

/// Helpers of the network, HTTP and git push diff tests.
enum NetDiffSupport {
    /// A one-identity policy `agent` with `body` (rule lines) and `preamble` (top-level
    /// statements such as secrets).
    static func policy(_ body: String, preamble: String = "") -> String {
        "warden 1\n\(preamble)identity agent {\n\(body)\n}\n"
    }

    /// The single identity's comparison.
    static func compare(_ old: String, _ new: String) throws -> IdentityDiff {
        let d = try diff(policy(old), policy(new))
        #expect(d.identities.count == 1)
        return d.identities[0]
    }

    static func compare(_ old: String, _ new: String, preamble: String) throws -> IdentityDiff {
        let d = try diff(policy(old, preamble: preamble), policy(new, preamble: preamble))
        return d.identities[0]
    }

    /// `(domain, action, explain arguments)` of witnesses, for exact assertions.
    static func summary(_ ws: [DiffWitness]) -> [String] {
        ws.map { "\($0.domain.rawValue) | \($0.action) | \($0.explainArguments.joined(separator: " "))" }
    }

    /// Whether `warden explain` accepts the witness's arguments: the same parsers its
    /// options use (`Endpoint.parse` of one host and port, `HTTPURL.parse` and an uppercase
    /// method, `GitRepoPattern.parse` and `RefName.isValid`).
    static func explainParses(_ w: DiffWitness) -> Bool {
        let a = w.explainArguments
        guard a.count >= 3 else { return false }
        switch a[0] {
        case "--connect", "--bind":
            guard a.count == 3, NetProtocol(rawValue: a[1]) != nil, case .success(let e) = Endpoint.parse(a[2]) else { return false }
            return e.isConcrete
        case "--https":
            guard a.count == 3, a[1].utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }), case .success = HTTPURL.parse(a[2]) else { return false }
            return true
        case "--git-push":
            guard a.count == 3, case .success = GitRepoPattern.parse(a[1]) else { return false }
            return RefName.isValid(a[2])
        default:
            return false
        }
    }
}
