import Foundation
import Testing
@testable import WardenRuntime

@Suite("Launch outcomes and exit codes")
struct LaunchOutcomeTests {
    @Test func exitStatusPropagates() {
        let out = Supervisor.run(isolated(["/bin/sh", "-c", "exit 42"]), timeout: .seconds(60))
        #expect(out == .exited(42))
        #expect(out.exitCode == 42)
    }

    @Test func commandNotFoundIs127() {
        let out = Supervisor.run(isolated(["warden-no-such-command-xyz"]), timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected a launch failure, got \(out)"); return }
        #expect(f.stage == .exec)
        #expect(f.errno == ENOENT)
        #expect(out.exitCode == 127)
        #expect(f.message.contains("warden-no-such-command-xyz"))
    }

    @Test func notExecutableIs126() throws {
        let dir = try Fixture.tempDir()
        let file = dir + "/not-exec"
        _ = FileManager.default.createFile(atPath: file, contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                       attributes: [.posixPermissions: 0o644])
        // Found through the search path but not executable: 126, like a shell.
        var spec = isolated(["not-exec"])
        spec.searchPath = dir
        let out = Supervisor.run(spec, timeout: .seconds(60))
        #expect(out.exitCode == 126, "\(out)")
        // And by path.
        let direct = Supervisor.run(isolated([file]), timeout: .seconds(60))
        #expect(direct.exitCode == 126, "\(direct)")
    }

    @Test func killedBySignalIs128PlusN() {
        let out = Supervisor.run(isolated(["/bin/sh", "-c", "kill -TERM $$; sleep 5"]), timeout: .seconds(60))
        #expect(out == .signaled(SIGTERM))
        #expect(out.exitCode == 128 + 15)
    }

    @Test func timeoutKillsTheWholeTree() {
        let token = "warden-timeout-\(UUID().uuidString.prefix(8))"
        // The agent ignores SIGTERM and so does its grandchild: only SIGKILL of the PID
        // namespace ends them.
        let script = "trap '' TERM; /bin/sh -c 'trap \"\" TERM; while :; do sleep 1; done' \(token) & while :; do sleep 1; done"
        let sup = Supervisor(timeout: .milliseconds(700), gracePeriod: .milliseconds(300))
        let report = sup.run(isolated(["/bin/sh", "-c", script, token]))
        #expect(report.outcome == .timedOut)
        #expect(report.outcome.exitCode == 124)
        #expect(processes(containing: token).isEmpty, "processes survived the timeout")
    }

    @Test func agentExitEndsItsBackgroundChildren() {
        let token = "warden-bg-\(UUID().uuidString.prefix(8))"
        let out = Supervisor.run(isolated(["/bin/sh", "-c", "/bin/sh -c 'sleep 1000' \(token) & exit 3"]), timeout: .seconds(60))
        #expect(out == .exited(3))
        #expect(processes(containing: token).isEmpty)
    }

    @Test func mountFailureNamesStepAndPath() throws {
        let dir = try Fixture.tempDir()
        let file = dir + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        var spec = isolated(["/bin/true"])
        spec.mounts.append(.tmpfs(file)) // tmpfs over a regular file: ENOTDIR from the kernel
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected failure, got \(out)"); return }
        #expect(f.stage == .mount)
        #expect(f.index == 1)
        #expect(f.message.contains(file))
        #expect(out.exitCode == 125)
    }

    @Test func symlinkedMountTargetIsRefused() throws {
        let dir = try Fixture.tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "/etc")
        var spec = isolated(["/bin/true"])
        spec.mounts.append(.mask(dir + "/link"))
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected failure, got \(out)"); return }
        #expect(f.errno == ELOOP)
        #expect(out.exitCode == 125)
    }

    @Test func badWorkingDirectoryFailsBeforeExec() {
        var spec = isolated(["/bin/true"])
        spec.workingDirectory = "/warden/no/such/dir"
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected failure, got \(out)"); return }
        #expect(f.stage == .workingDirectory)
        #expect(f.errno == ENOENT)
        #expect(out.exitCode == 125)
    }

    @Test func initForwardsSignalsToTheAgent() throws {
        let dir = try Fixture.tempDir("sig")
        let ready = dir + "/ready"
        let script = "trap 'exit 9' TERM; : > \(ready); while :; do sleep 0.05; done"
        let sup = Supervisor(timeout: .seconds(60), onStart: { initPid in
            // Plays the supervisor's forwarding: SIGTERM to init, which relays it.
            Thread.detachNewThread {
                if eventually({ FileManager.default.fileExists(atPath: ready) }) { kill(initPid, SIGTERM) }
            }
        })
        let report = sup.run(isolated(["/bin/sh", "-c", script]))
        #expect(report.outcome == .exited(9))
    }

    @Test func withoutNamespacesTheAgentStillRunsAndItsGroupIsCleanedUp() {
        let token = "warden-nons-\(UUID().uuidString.prefix(8))"
        let spec = LaunchSpec(arguments: ["/bin/sh", "-c", "/bin/sh -c 'sleep 1000' \(token) & exit 5"],
                              environment: ["PATH=/usr/bin:/bin"])
        let out = Supervisor.run(spec, timeout: .seconds(60))
        #expect(out == .exited(5))
        #expect(eventually { processes(containing: token).isEmpty })
    }

    @Test func unusableCgroupLimitsAreAnErrorUnlessBestEffort() {
        var spec = isolated(["/bin/true"])
        // A memory and a pids limit: cgroup v2, or (hybrid systems) the v1 memory and pids controllers.
        spec.cgroupLimits = CgroupLimits(memoryMax: 1 << 30, pidsMax: 64)
        if CgroupSupport.detect().unusableReason != nil, CgroupSupport.v1MemoryDirectory() != nil, CgroupSupport.v1PidsDirectory() != nil {
            // Usable through cgroup v1 here: the limits must really apply (MemoryLimitCLITests
            // checks the OOM kill; a pids limit of 3 stops a pipeline).
            var s = isolated(["/bin/sh", "-c", "/bin/true | /bin/true | /bin/true | /bin/true"])
            s.cgroupLimits = CgroupLimits(memoryMax: 1 << 30, pidsMax: 3)
            #expect(Supervisor.run(s, timeout: .seconds(60)) != .exited(0))
            #expect(Supervisor.run(spec, timeout: .seconds(60)) == .exited(0))
            return
        }
        guard let reason = CgroupSupport.detect().unusableReason else {
            // Usable here: the limit must really apply.
            var s = isolated(["/bin/sh", "-c", "grep -q '^0::' /proc/self/cgroup"])
            s.cgroupLimits = CgroupLimits(pidsMax: 64)
            #expect(Supervisor.run(s, timeout: .seconds(60)) == .exited(0))
            return
        }
        let strict = Supervisor(timeout: .seconds(60)).run(spec)
        guard case .launchFailed(let f) = strict.outcome else { Issue.record("expected failure: \(strict.outcome)"); return }
        #expect(f.stage == .cgroup)
        #expect(f.message.contains(reason))
        #expect(strict.outcome.exitCode == 125)
        let lenient = Supervisor(timeout: .seconds(60), bestEffort: true).run(spec)
        #expect(lenient.outcome == .exited(0))
        #expect(lenient.skippedLayers.map(\.layer) == ["cgroup"])
    }

    @Test func pidsLimitUsesCgroupV1OnHybridSystems() {
        guard CgroupSupport.detect().unusableReason != nil, CgroupSupport.v1PidsDirectory() != nil else {
            print("skip: cgroup v2 is usable here, or there is no writable cgroup v1 pids controller"); return
        }
        // init, sh and a four-process pipeline cannot fit in 3 pids: sh fails to fork.
        let script = "/bin/true | /bin/true | /bin/true | /bin/true"
        var limited = isolated(["/bin/sh", "-c", script])
        limited.cgroupLimits = CgroupLimits(pidsMax: 3)
        let out = Supervisor.run(limited, timeout: .seconds(60))
        #expect(out != .exited(0), "\(out)")
        #expect(Supervisor.run(isolated(["/bin/sh", "-c", script]), timeout: .seconds(60)) == .exited(0))
    }

    @Test func supervisorForwardsItsOwnSignals() throws {
        // With forwardSignals, a SIGHUP to the supervisor process reaches the agent (through
        // init) instead of killing the supervisor.
        let dir = try Fixture.tempDir("fwd")
        let ready = dir + "/ready"
        let script = "trap 'exit 11' HUP; : > \(ready); while :; do sleep 0.05; done"
        let sup = Supervisor(timeout: .seconds(60), forwardSignals: true, onStart: { _ in
            Thread.detachNewThread {
                if eventually({ FileManager.default.fileExists(atPath: ready) }) { kill(getpid(), SIGHUP) }
            }
        })
        let report = sup.run(isolated(["/bin/sh", "-c", script]))
        #expect(report.outcome == .exited(11))
    }

    @Test func hostnameIsSetInTheUTSNamespace() throws {
        var spec = isolated(["/bin/sh", "-c", "test \"$(cat /proc/sys/kernel/hostname)\" = warden-box"])
        spec.hostname = "warden-box"
        #expect(Supervisor.run(spec, timeout: .seconds(60)) == .exited(0))
        #expect(gethostname_string() != "warden-box")
    }
}

func gethostname_string() -> String {
    var buf = [CChar](repeating: 0, count: 256)
    gethostname(&buf, buf.count)
    return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
