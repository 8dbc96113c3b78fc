import WardenPolicy

/// One everyday agent workload of the workload matrix: what it runs, which tools it needs
/// on the operator's PATH, and which accesses it needs from a policy to pass.
///
/// The catalog (`WorkloadCatalog.all`) is the one source of truth for the matrix test
/// suite, `warden doctor`'s "workloads" section and `make bench`. The workload's shell
/// scripts live in `Tests/WardenCLITests/Workloads/NAME/` (`prepare.sh` builds the scratch
/// git repository outside the sandbox, `run.sh` is the work inside it).
public struct Workload: Sendable, Hashable {
    /// Short name: the fixture directory and the matrix row.
    public var name: String
    /// What it does, in a few words.
    public var title: String
    /// Commands that must be found on the operator's PATH (a missing one skips the workload).
    public var tools: [String]
    /// The accesses the workload needs beyond running its tools, each with why.
    public var requirements: [WorkloadRequirement]
    /// Whether the workload writes the workspace (then read-only policies such as
    /// ci-migration do not fit it).
    public var writesWorkspace: Bool

    public init(name: String, title: String, tools: [String], requirements: [WorkloadRequirement], writesWorkspace: Bool) {
        self.name = name
        self.title = title
        self.tools = tools
        self.requirements = requirements
        self.writesWorkspace = writesWorkspace
    }

    /// Whether the stock policy (identity) named `policy` fits this workload: every stock
    /// policy that writes and runs the workspace fits every workload; a read-only one
    /// (ci-migration) fits only workloads that leave the workspace alone.
    public func fits(_ policy: String) -> Bool {
        if WorkloadCatalog.readOnlyPolicies.contains(policy) { return !writesWorkspace }
        return WorkloadCatalog.workspacePolicies.contains(policy)
    }
}

/// One access a workload needs, written as `warden explain` takes it.
public struct WorkloadRequirement: Sendable, Hashable, CustomStringConvertible {
    /// The action, decided by `EffectivePolicy.decide` (the code behind `warden explain`).
    public var action: TestAction
    /// Why the workload needs it (which tool, which file).
    public var why: String

    /// A file access on a policy path such as `${home}/.cache/go-build`.
    /// - Precondition: `path` is a valid policy path (the catalog is static; a typo traps in tests).
    public static func fs(_ access: FsAccess, _ path: String, _ why: String) -> WorkloadRequirement {
        guard case .success(let p) = PolicyPath.parse(path) else { preconditionFailure("bad catalog path \(path)") }
        return WorkloadRequirement(action: .fs(access, p), why: why)
    }

    /// A syscall with its argument values.
    public static func syscall(_ name: String, _ arguments: [UInt64], _ why: String) -> WorkloadRequirement {
        WorkloadRequirement(action: .syscall(name, arguments: arguments), why: why)
    }

    /// The `warden explain` arguments that show this decision.
    public var explainArguments: String {
        switch action {
        case .fs(let access, let path): return "--fs \(access.rawValue) '\(path)'"
        case .syscall(let name, let args):
            guard let args, !args.isEmpty else { return "--syscall \(name)" }
            return "--syscall \(name):" + args.map { String($0) }.joined(separator: ",")
        case .net(let d, let p, let e): return "--\(d.rawValue) \(p.rawValue) \(e)"
        case .capability(let c): return "--capability \(c)"
        case .http(let method, let url): return "--https \(method) '\(url)'"
        case .gitPush(let host, let port, let repo, let ref): return "--git-push '\(host)\(port == 443 ? "" : ":\(port)")/\(repo)' '\(ref)'"
        case .trigger(let e): return "--trigger \(e.words)"
        }
    }

    public var description: String {
        switch action {
        case .fs(let access, let path): return "\(access.rawValue) \(path)"
        case .syscall(let name, let args): return "syscall \(name)" + (args.map { "(" + $0.map { String($0) }.joined(separator: ", ") + ")" } ?? "")
        case .net(let d, let p, let e): return "net \(d.rawValue) \(p.rawValue) \(e)"
        case .capability(let c): return "capability \(c)"
        case .http(let method, let url): return "\(url.scheme.rawValue) \(method) \(url)"
        case .gitPush(let host, let port, let repo, let ref): return "git push \(host)\(port == 443 ? "" : ":\(port)")/\(repo) ref \(ref)"
        case .trigger(let e): return "trigger \(e.words)"
        }
    }
}
