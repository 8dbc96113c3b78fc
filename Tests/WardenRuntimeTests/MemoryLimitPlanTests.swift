import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// How `limit memory` and `limit address-space` become a launch, with the host's cgroup
/// facts injected (a host without a memory controller is simulated, not made).
@Suite struct MemoryLimitPlanTests {
    func effective(_ limits: String) throws -> EffectivePolicy {
        let text = "warden 1\nidentity agent {\n  allow fs read \"/usr\"\n\(limits)\n}\n"
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
        #expect(!analysis.hasErrors, "\(analysis.diagnostics.map(\.message))")
        return try EffectivePolicy(policy: analysis.policy, identity: "agent")
    }

    func plan(_ limits: String, v2: Bool, v1Memory: Bool, bestEffort: Bool) throws -> AgentLaunchPlan {
        try AgentLaunchPlan(effective: try effective(limits), command: ["/bin/true"],
                            bindings: PathBindings(workspace: "/usr", home: "/nonexistent", tmp: "/tmp"),
                            environment: [:], notify: true, cgroupUsable: v2, memoryV1Usable: v1Memory, bestEffort: bestEffort)
    }

    static let addressSpace: Int32 = 9 // RLIMIT_AS

    @Test func withoutAMemoryControllerTheLaunchIsRefusedWithTheChoices() throws {
        #expect {
            _ = try plan("  limit memory 1GiB", v2: false, v1Memory: false, bestEffort: false)
        } throws: { error in
            let text = "\(error)"
            return text.contains("limit memory 1GiB cannot be enforced here") && text.contains("limit address-space")
                && text.contains("--best-effort") && text.contains("cgroup v2")
        }
    }

    @Test func bestEffortSkipsTheLimitAndRecordsItNeverAnAddressSpaceLimit() throws {
        let p = try plan("  limit memory 1GiB", v2: false, v1Memory: false, bestEffort: true)
        #expect(p.skipped.contains { $0.hasPrefix("limits: limit memory 1GiB cannot be enforced") }, "\(p.skipped)")
        #expect(!p.spec.resourceLimits.contains { $0.resource == Self.addressSpace })
        #expect(p.spec.cgroupLimits == nil)
    }

    @Test func cgroupV2OrTheV1ControllerAsRootCarryTheLimit() throws {
        let v2 = try plan("  limit memory 1GiB", v2: true, v1Memory: false, bestEffort: false)
        #expect(v2.spec.cgroupLimits?.memoryMax == 1 << 30)
        #expect(!v2.spec.resourceLimits.contains { $0.resource == Self.addressSpace })
        guard geteuid() == 0 else { print("skip: the v1 memory controller is used only as root"); return }
        let v1 = try plan("  limit memory 1GiB", v2: false, v1Memory: true, bestEffort: false)
        #expect(v1.spec.cgroupLimits?.memoryMax == 1 << 30)
        #expect(v1.skipped.isEmpty)
    }

    @Test func addressSpaceIsRlimitAS() throws {
        let p = try plan("  limit address-space 2GiB", v2: false, v1Memory: false, bestEffort: false)
        #expect(p.spec.resourceLimits.contains { $0.resource == Self.addressSpace && $0.soft == 2 << 30 && $0.hard == 2 << 30 })
        #expect(p.spec.cgroupLimits == nil)
    }

    @Test func aRunOnAHostWithoutAMemoryControllerIsRefusedBeforeAnythingStarts() throws {
        let ws = try Fixture.tempDir("mem-run")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let path = ws + "/p.warden"
        try "warden 1\nidentity agent {\n  allow syscall @default\n  allow fs read, exec \"/usr\"\n  limit memory 1GiB\n}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let analysis = try PolicyLoader().analyze(path)
        let effective = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        let request = RunRequest(policyPath: path, policy: analysis.policy, effective: effective, command: ["/bin/true"],
                                 workspace: ws, auditLogPath: "/nonexistent-dir/audit.jsonl", wardenVersion: "test")
        let none = CgroupSupport(directory: nil, controllers: [], unusableReason: "simulated: no cgroup v2 hierarchy")
        #expect {
            _ = try Run(request, host: .current(), cgroups: none, memoryV1Usable: false)
        } throws: { error in
            (error as? RunSetupError)?.message.contains("limit memory 1GiB cannot be enforced here") == true
        }
    }

    @Test func mechanismChoiceFollowsTheFacts() {
        let usable = CgroupSupport(directory: "/sys/fs/cgroup/x", controllers: ["memory", "pids"], unusableReason: nil)
        let unusable = CgroupSupport(directory: nil, controllers: [], unusableReason: "no v2")
        #expect(MemoryLimitMechanism.choose(cgroup: usable, v1Memory: "/v1", root: true) == .cgroupV2("/sys/fs/cgroup/x"))
        #expect(MemoryLimitMechanism.choose(cgroup: unusable, v1Memory: "/v1", root: true) == .cgroupV1("/v1"))
        #expect(!MemoryLimitMechanism.choose(cgroup: unusable, v1Memory: "/v1", root: false).isAvailable)
        #expect(!MemoryLimitMechanism.choose(cgroup: unusable, v1Memory: nil, root: true).isAvailable)
    }
}
