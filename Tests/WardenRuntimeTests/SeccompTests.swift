import Foundation
import Testing
@testable import WardenRuntime

/// Hand-built classic BPF for x86_64 (the tests' machine).
enum BPF {
    static func insn(_ code: UInt16, _ jt: UInt8, _ jf: UInt8, _ k: UInt32) -> [UInt8] {
        withUnsafeBytes(of: code.littleEndian, Array.init) + [jt, jf] + withUnsafeBytes(of: k.littleEndian, Array.init)
    }
    static let ldArch = insn(0x20, 0, 0, 4)
    static let ldNr = insn(0x20, 0, 0, 0)
    static func ret(_ k: UInt32) -> [UInt8] { insn(0x06, 0, 0, k) }
    static let allow: UInt32 = 0x7fff_0000
    static let kill: UInt32 = 0x8000_0000
    static let userNotif: UInt32 = 0x7fc0_0000
    static func errno(_ e: Int32) -> UInt32 { 0x0005_0000 | UInt32(e) }

    /// x86_64 only; each listed syscall gets `action`, everything else is allowed.
    static func filter(_ rules: [(nr: UInt32, action: UInt32)]) -> [UInt8] {
        var p = ldArch + insn(0x15, 1, 0, 0xC000_003E) + ret(kill) + ldNr
        for r in rules { p += insn(0x15, 0, 1, r.nr) + ret(r.action) }
        return p + ret(allow)
    }
}

@Suite("seccomp")
struct SeccompTests {
    @Test func filterIsAppliedLastAndWorks() throws {
        let probe = try #require(Fixture.probe)
        #if arch(x86_64)
        // The filter denies syscalls the launcher itself needs (prctl, setrlimit, capset,
        // landlock_restrict_self): the launch still succeeds only because seccomp comes last.
        let denied: [UInt32] = [110, 157, 160, 126, 446] // getppid prctl setrlimit capset landlock_restrict_self
        var spec = isolated([probe, "seccomp"])
        spec.seccompFilter = BPF.filter(denied.map { ($0, BPF.errno(EPERM)) })
        spec.resourceLimits = [.openFiles(64)]
        spec.capabilities = CapabilitySets.none
        spec.landlock = LandlockRuleset(handled: [.writeFile], rules: [.init(path: "/", access: [.writeFile])])
        let (report, kv, text) = try runCapturing(spec)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["getppid"] == "errno:\(EPERM)", "\(text)")
        #expect(kv["prctl"] == "errno:\(EPERM)", "\(text)")
        #else
        print("skip: hand-built filter is x86_64 only")
        #endif
    }

    @Test func malformedFilterIsRejected() {
        var spec = isolated(["/bin/true"])
        spec.seccompFilter = [1, 2, 3]
        let out = Supervisor.run(spec, timeout: .seconds(60))
        guard case .launchFailed(let f) = out else { Issue.record("expected failure, got \(out)"); return }
        #expect(f.stage == .seccomp)
        #expect(out.exitCode == 125)
    }

    @Test func userNotificationReachesTheHandler() throws {
        let probe = try #require(Fixture.probe)
        #if arch(x86_64)
        if warden_probe_user_notif_available() == false { print("skip: no seccomp user notification"); return }
        final class Seen: @unchecked Sendable {
            var lock = NSLock(); var calls: [SeccompNotification] = []
        }
        let seen = Seen()
        var spec = isolated([probe, "seccomp"])
        spec.seccompFilter = BPF.filter([(110, BPF.userNotif)])
        spec.seccompListener = true
        let sup = Supervisor(timeout: .seconds(60), notificationHandler: ClosureNotificationHandler { n in
            seen.lock.lock(); seen.calls.append(n); seen.lock.unlock()
            return .fail(errno: EXDEV)
        })
        let (report, kv, text) = try runCapturing(spec, supervisor: sup)
        #expect(report.outcome == .exited(0), "\(report.outcome)")
        #expect(kv["getppid"] == "errno:\(EXDEV)", "\(text)")
        #expect(kv["prctl"] == "ok:1", "\(text)")
        seen.lock.lock(); defer { seen.lock.unlock() }
        #expect(seen.calls.count == 1)
        #expect(seen.calls.first?.syscall == 110)
        #expect(seen.calls.first?.arch == 0xC000_003E)
        #else
        print("skip: x86_64 only")
        #endif
    }

    @Test func userNotificationCanReturnAValue() throws {
        let probe = try #require(Fixture.probe)
        #if arch(x86_64)
        if warden_probe_user_notif_available() == false { print("skip: no seccomp user notification"); return }
        var spec = isolated([probe, "seccomp"])
        spec.seccompFilter = BPF.filter([(110, BPF.userNotif)])
        spec.seccompListener = true
        let sup = Supervisor(timeout: .seconds(60), notificationHandler: ClosureNotificationHandler { _ in .returnValue(4242) })
        let (_, kv, text) = try runCapturing(spec, supervisor: sup)
        #expect(kv["getppid"] == "ok:4242", "\(text)")
        #endif
    }
}

func warden_probe_user_notif_available() -> Bool { KernelSupport.detect().userNotification }
