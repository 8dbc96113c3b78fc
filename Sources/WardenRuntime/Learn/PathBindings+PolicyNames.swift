import WardenCompiler

extension PathBindings {
    /// `path` (the agent's view, absolute) written as a policy names it: `${workspace}/…`,
    /// `${home}/…`, `${tmp}/…` when under one of the bindings (the longest wins), else
    /// unchanged. Shared by the denial digest and `warden learn`'s proposals.
    public func policyName(of path: String) -> String {
        let roots = [("${workspace}", workspace), ("${home}", home), ("${tmp}", tmp)]
            .filter { $0.1.hasPrefix("/") && $0.1.count > 1 }
            .sorted { $0.1.count > $1.1.count }
        for (name, root) in roots {
            if path == root { return name }
            if path.hasPrefix(root + "/") { return name + path.dropFirst(root.count) }
        }
        return path
    }
}
