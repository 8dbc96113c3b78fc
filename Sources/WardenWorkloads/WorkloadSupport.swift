import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Whether one identity supports one workload on this machine: its tools are on the PATH,
/// and the identity's static decisions (`EffectivePolicy.decide`, the code behind `warden
/// explain`) allow running them and every access the workload requires.
public struct WorkloadSupport: Sendable, Hashable {
    public enum Verdict: String, Sendable {
        /// Tools present and every requirement allowed.
        case supported
        /// Tools present, some requirement denied.
        case denied
        /// Some tool is not on the PATH: the workload cannot run here at all.
        case missingTool = "missing-tool"
    }

    /// One requirement the identity denies, with the rule that decided (or "default deny").
    public struct Denial: Sendable, Hashable {
        public var requirement: WorkloadRequirement
        public var decidedBy: String
    }

    public var workload: String
    public var verdict: Verdict
    /// Tools not found on the PATH.
    public var missingTools: [String]
    public var denials: [Denial]

    /// A one-line reason (empty when supported).
    public var reason: String {
        switch verdict {
        case .supported: return ""
        case .missingTool: return "not on PATH: " + missingTools.joined(separator: ", ")
        case .denied: return denials.map { "\($0.requirement) (\($0.decidedBy))" }.joined(separator: "; ")
        }
    }

    /// Judges `workload` for `policy`: tools are looked up in `path` (a PATH value), and a
    /// tool found under `home` is checked as `${home}/...` (as the policy names it).
    public static func assess(_ workload: Workload, policy: EffectivePolicy, path: String, home: String) -> WorkloadSupport {
        var missing: [String] = []
        var requirements: [WorkloadRequirement] = []
        var unexpressible: [Denial] = []
        for tool in workload.tools {
            guard let found = which(tool, path: path) else { missing.append(tool); continue }
            // Landlock decides on the file really run, so a link (/usr/bin/cc → gcc-12) is
            // judged at its target.
            let path = policyPath(resolved(found), home: resolved(home))
            guard case .success(let p) = PolicyPath.parse(path) else {
                unexpressible.append(Denial(requirement: WorkloadRequirement(action: .syscall("execve", arguments: nil), why: "runs \(tool)"),
                                            decidedBy: "\(path) cannot be written as a policy path"))
                continue
            }
            // Two tools behind one proxy (rustup's cargo and rustc) are one requirement.
            if !requirements.contains(where: { $0.action == .fs(.exec, p) }) {
                requirements.append(WorkloadRequirement(action: .fs(.exec, p), why: "runs \(tool)"))
            }
        }
        if !missing.isEmpty {
            return WorkloadSupport(workload: workload.name, verdict: .missingTool, missingTools: missing, denials: [])
        }
        var denials = unexpressible
        for r in requirements + workload.requirements {
            guard let by = deniedBy(r.action, policy) else { continue }
            denials.append(Denial(requirement: r, decidedBy: by))
        }
        return WorkloadSupport(workload: workload.name, verdict: denials.isEmpty ? .supported : .denied,
                               missingTools: [], denials: denials)
    }

    /// nil when `warden explain` allows `action`, else what refuses it. The verdict is
    /// explain's: the rule decision, and for a file access what the agent's world answers
    /// (`worldAnswer`, which the mounts decide where a deeper grant is stricter).
    static func deniedBy(_ action: TestAction, _ policy: EffectivePolicy) -> String? {
        let d = policy.decide(action)
        let rules = d.rules.isEmpty ? "default deny" : d.rules.map { "\($0)" }.joined(separator: ", ")
        guard case .fs(let access, let path) = action else { return d.effect == .deny ? rules : nil }
        let world = policy.worldAnswer(access, path)
        if world.allowed { return nil }
        return d.effect == .deny ? rules : "\(rules) allow it, but \(world.mechanism) refuses it"
    }

    /// The first executable `name` in the directories of `path`, as found (not resolved).
    public static func which(_ name: String, path: String) -> String? {
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) where dir.hasPrefix("/") {
            let candidate = dir.hasSuffix("/") ? "\(dir)\(name)" : "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// `path` with every symbolic link resolved (unchanged when it cannot be resolved).
    static func resolved(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return path }
        defer { free(r) }
        return String(cString: r)
    }

    /// `absolute` as a policy path: `${home}/rest` when under `home` (and home is not `/`).
    static func policyPath(_ absolute: String, home: String) -> String {
        let h = home.hasSuffix("/") ? String(home.dropLast()) : home
        if !h.isEmpty, absolute.hasPrefix(h + "/") { return "${home}" + absolute.dropFirst(h.count) }
        return absolute
    }
}
