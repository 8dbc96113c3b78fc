import WardenCompiler
#if canImport(Glibc)
import Glibc
#endif

/// Whether one identity's layers can be enforced on this kernel, as this user — judged by
/// the same code `warden run` uses (`AgentLaunchPlan`, then `prepareLaunch`), plus the
/// kernel facts of `KernelSupport`. Nothing is launched.
public struct IdentityReadiness: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        /// `warden run` launches it with every layer.
        case ready
        /// It launches, but some grants have no effect here or denials go unrecorded.
        case limited
        /// `warden run` refuses it unless `--best-effort`, which skips (and records) layers.
        case bestEffortOnly = "best-effort"
        /// It cannot be launched here at all.
        case unrunnable = "cannot-run"
    }

    public var identity: String
    public var verdict: Verdict
    /// Why the verdict is not `ready`.
    public var reasons: [String]
    /// How some layer is enforced here, when it differs from the ideal (not a problem).
    public var notes: [String]

    public init(identity: String, verdict: Verdict, reasons: [String], notes: [String]) {
        self.identity = identity; self.verdict = verdict; self.reasons = reasons; self.notes = notes
    }

    /// Assesses `effective` against `support`; `bindings` stand for a typical run.
    /// `environment` is Warden's own, where `secret ... from env` values come from.
    public static func assess(_ effective: EffectivePolicy, support: KernelSupport,
                              bindings: PathBindings, environment: [String: String] = [:]) -> IdentityReadiness {
        var result = IdentityReadiness(identity: effective.identity, verdict: .ready, reasons: [], notes: [])
        // A secret that cannot be read fails every launch (125), best-effort or not.
        let missing = effective.secrets.compactMap { secret in
            SecretSource.unavailability(RunBroker.spec(secret.source), environment: environment).map { "secret \(secret.name): \($0)" }
        }
        if !missing.isEmpty {
            result.verdict = .unrunnable
            result.reasons = missing
            return result
        }
        func make(_ bestEffort: Bool) throws(AgentLaunchError) -> AgentLaunchPlan {
            try AgentLaunchPlan(effective: effective, command: ["/bin/true"], bindings: bindings, environment: [:],
                                notify: support.userNotification, cgroupUsable: support.cgroup.unusableReason == nil,
                                       pidsV1Usable: CgroupSupport.v1PidsDirectory() != nil,
                                memoryV1Usable: CgroupSupport.v1MemoryDirectory() != nil,
                                bestEffort: bestEffort)
        }
        let plan: AgentLaunchPlan
        do {
            plan = try make(false)
        } catch {
            guard let degraded = try? make(true) else {
                result.verdict = .unrunnable
                result.reasons.append(error.description)
                return result
            }
            result.verdict = .bestEffortOnly
            result.reasons.append(error.description)
            plan = degraded
        }

        var hard: [String] = []
        if !(support.seccompActions.contains("errno") && support.seccompActions.contains("kill_process")) {
            hard.append("seccomp filters are not available on this kernel")
        }
        let needed = plan.spec.namespaces.union(support.runningAsRoot ? [] : .user)
        for check in support.namespaces where !check.available && needed.contains(Self.namespace(check.name)) {
            hard.append("cannot create a \(check.name) namespace here (\(errnoName(check.errno)))")
        }
        if !hard.isEmpty {
            result.verdict = .unrunnable
            result.reasons += hard
            return result
        }
        do {
            _ = try prepareLaunch(plan.spec, bestEffort: false)
        } catch {
            if (try? prepareLaunch(plan.spec, bestEffort: true)) != nil {
                if result.verdict == .ready { result.verdict = .bestEffortOnly }
                result.reasons.append(error.message)
            } else {
                result.verdict = .unrunnable
                result.reasons.append(error.message)
                return result
            }
        }

        var limits: [String] = []
        let caps = effective.grantedCapabilities
        if !caps.isEmpty && !support.runningAsRoot {
            limits.append("capabilities \(caps.joined(separator: ", ")) are held only inside the agent's user namespace (uid \(support.uid) is not root), so they grant nothing over host resources")
        }
        if !support.userNotification {
            limits.append("denied syscalls are refused but not recorded (no seccomp user notification)")
        }
        if !limits.isEmpty {
            if result.verdict == .ready { result.verdict = .limited }
            result.reasons += limits
        }
        if support.cgroup.unusableReason != nil, effective.limits[.processes] != nil {
            result.notes.append(support.runningAsRoot && CgroupSupport.v1PidsDirectory() != nil
                ? "limit processes uses the cgroup v1 pids controller: no usable cgroup v2 here"
                : "limit processes uses RLIMIT_NPROC in a user namespace: no usable cgroup v2 here")
        }
        if effective.limits[.memory] != nil, case .cgroupV1 = MemoryLimitMechanism.detect() {
            result.notes.append("limit memory uses the cgroup v1 memory controller: no usable cgroup v2 here")
        }
        return result
    }

    static func namespace(_ name: String) -> Namespaces {
        switch name {
        case "user": return .user
        case "mount": return .mount
        case "pid": return .pid
        case "ipc": return .ipc
        case "uts": return .uts
        case "network": return .network
        case "cgroup": return .cgroup
        default: return []
        }
    }
}
