import WardenCompiler

extension PathBindings {
    /// The agent's view of `${workspace}`, `${home}` and `${tmp}` in a run with `workspace`
    /// (nil: the current directory) on `host`, as `Run` binds them: the real workspace
    /// directory, the resolved home, and the agent's private `/tmp`. Nil when the workspace
    /// is not an existing directory.
    public static func agentView(workspace: String?, host: HostFacts) -> PathBindings? {
        guard let ws = HostFacts.realDirectory(workspace ?? host.currentDirectory) else { return nil }
        return PathBindings(workspace: ws, home: AgentLaunchPlan.resolve(host.home) ?? host.home, tmp: AgentWorld.agentTmp)
    }
}
