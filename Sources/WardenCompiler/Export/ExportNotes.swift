import WardenKernel
import WardenPolicy

/// Something an engine cannot express exactly. A `weaker` note means the export would let
/// the agent do something the policy forbids: the CLI refuses it unless `--allow-weaker`.
/// A `stricter` note means the export forbids something the policy allows (fail closed).
public struct ExportNote: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case weaker, stricter }
    public var kind: Kind
    /// `oci`, `k8s` or `systemd`.
    public var engine: String
    public var message: String
    /// `file:line:col` of the rule concerned, or `built-in`/`policy`.
    public var location: String

    public init(_ kind: Kind, engine: String, _ message: String, at location: String = "policy") {
        self.kind = kind
        self.engine = engine
        self.message = message
        self.location = location
    }

    /// One line: `weaker (systemd): file:3:5: …`.
    public var description: String { "\(kind.rawValue) (\(engine)): \(location): \(message)" }
}

/// What the policy variables stand for where the exported artifact runs.
public struct ExportBindings: Sendable, Hashable {
    public var workspace: String
    public var home: String
    public var tmp: String

    public init(workspace: String, home: String, tmp: String) {
        self.workspace = workspace
        self.home = home
        self.tmp = tmp
    }

    public func expand(_ path: PolicyPath) -> String {
        path.expanded { variable in
            switch variable {
            case .workspace: return workspace
            case .home: return home
            case .tmp: return tmp
            }
        }
    }
}

/// Why an export cannot be produced at all (as opposed to an `ExportNote`).
public enum ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    case seccomp(String)
    case invalidName(String, reason: String)

    public var description: String {
        switch self {
        case .seccomp(let m): return "seccomp: \(m)"
        case .invalidName(let n, let r): return "`\(n)` \(r)"
        }
    }
}
