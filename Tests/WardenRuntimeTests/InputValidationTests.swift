import Glibc
import Testing
@testable import WardenRuntime

@Suite("Bad launch specs are refused before anything starts")
struct InputValidationTests {
    func failure(_ spec: LaunchSpec) -> LaunchFailure? {
        if case .launchFailed(let f) = Supervisor.run(spec, timeout: .seconds(30)) { return f }
        return nil
    }

    @Test func emptyCommand() {
        #expect(failure(LaunchSpec(arguments: []))?.stage == .prepare)
        #expect(failure(LaunchSpec(arguments: [""]))?.stage == .prepare)
    }

    @Test func nulBytes() {
        #expect(failure(LaunchSpec(arguments: ["/bin/true"], environment: ["A=b\u{0}c"]))?.errno == EINVAL)
        #expect(failure(LaunchSpec(arguments: ["/bin/tr\u{0}ue"]))?.errno == EINVAL)
    }

    @Test func relativePaths() {
        var spec = isolated(["/bin/true"])
        spec.landlock = LandlockRuleset(handled: .read, rules: [.init(path: "usr", access: .read)])
        #expect(failure(spec)?.stage == .landlock)
        var m = isolated(["/bin/true"])
        m.mounts.append(.mask("etc/shadow"))
        #expect(failure(m)?.stage == .mount)
    }

    @Test func procWithoutPidNamespace() {
        var spec = isolated(["/bin/true"])
        spec.namespaces.remove(.pid)
        #expect(failure(spec)?.stage == .mount)
    }

    @Test func listenerWithoutFilter() {
        var spec = isolated(["/bin/true"])
        spec.seccompListener = true
        #expect(failure(spec)?.stage == .seccomp)
    }

    @Test func exitCodeMapping() {
        #expect(RunOutcome.exited(0).exitCode == 0)
        #expect(RunOutcome.signaled(9).exitCode == 137)
        #expect(RunOutcome.timedOut.exitCode == 124)
        #expect(RunOutcome.launchFailed(.init(stage: .landlock, errno: EACCES, message: "")).exitCode == 125)
        #expect(RunOutcome.launchFailed(.init(stage: .exec, errno: ENOENT, message: "")).exitCode == 127)
        #expect(RunOutcome.launchFailed(.init(stage: .exec, errno: EACCES, message: "")).exitCode == 126)
    }
}
