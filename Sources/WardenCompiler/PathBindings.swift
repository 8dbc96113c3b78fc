import WardenPolicy

/// What the policy variables (`${workspace}`, `${home}`, `${tmp}`) stand for in one run or
/// wherever an exported artifact runs.
public struct PathBindings: Sendable, Hashable {
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

    /// An `env set` value with its `${workspace}`, `${home}` and `${tmp}` bound (see
    /// `EnvTemplate`); a value the checker rejected is returned as written.
    public func expand(envValue value: String) -> String {
        guard case .success(let template) = EnvTemplate.parse(value) else { return value }
        return template.expanded { variable in
            switch variable {
            case .workspace: return workspace
            case .home: return home
            case .tmp: return tmp
            }
        }
    }
}
