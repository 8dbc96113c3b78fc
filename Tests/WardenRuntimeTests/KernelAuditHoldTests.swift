import Testing
@testable import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The host-wide kernel audit switch shared by overlapping runs: the first that needs it
/// switches it on, a run finishing while another holds it leaves it on, and the last one
/// switches off what Warden switched on. Two holds in this process stand for two runs
/// (file locks belong to each open file). Other tests may hold the switch meanwhile: only
/// what holds whatever they do is asserted.
@Suite struct KernelAuditHoldTests {
    @Test func theLastRunSwitchesOffAndNoneSwitchesOffUnderAnother() throws {
        guard geteuid() == 0 else { print("skip: switching kernel audit needs root"); return }
        guard case .disabled = KernelAuditState.current() else {
            print("skip: kernel audit is not a switch Warden owns here (state \(KernelAuditState.current()))"); return
        }
        let first = KernelAuditHold.acquire(enable: true)
        guard let a = first.hold else {
            print("skip: kernel audit cannot be switched on here (lock files usable: \(!first.lockFailed))"); return
        }
        #expect(KernelAuditState.current() == .enabled)
        #expect(first.switched)
        let second = KernelAuditHold.acquire(enable: true)
        let b = try #require(second.hold)
        #expect(!second.switched, "already on: the second run does not switch it")
        #expect(KernelAuditHold.othersHold())
        #expect(!a.release(), "another run holds it: not switched off")
        #expect(KernelAuditState.current() == .enabled)
        let off = b.release()
        if off {
            #expect(KernelAuditState.current() == .disabled)
            #expect(access(KernelAuditHold.path("kernel-audit.switched"), F_OK) != 0)
        } else {
            // Another test's run holds it now; the last of them switches it off.
            #expect(KernelAuditHold.othersHold())
        }
    }

    /// A lock held forever (an agent whose world includes /run/warden) makes the wait give
    /// up after about 2 s instead of hanging the launch.
    @Test func aLockHeldForeverIsNotWaitedForForever() throws {
        let path = try Fixture.tempDir("kah") + "/lock"
        defer { unlink(path) }
        let holder = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        let waiter = open(path, O_RDWR | O_CLOEXEC)
        defer { close(holder); close(waiter) }
        #expect(flock(holder, LOCK_EX) == 0)
        let start = ContinuousClock.now
        #expect(!KernelAuditHold.flockRetrying(waiter, LOCK_SH))
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(1500) && waited < .seconds(10), "\(waited)")
        flock(holder, LOCK_UN)
        #expect(KernelAuditHold.flockRetrying(waiter, LOCK_SH))
    }

    @Test func aHoldOfAnAuditTheAdministratorSwitchedOnNeverSwitchesItOff() throws {
        guard geteuid() == 0 else { print("skip: needs root"); return }
        // Without `enable`, a disabled audit is not switched on and no hold is taken.
        if KernelAuditState.current() == .disabled, !KernelAuditHold.othersHold() {
            let r = KernelAuditHold.acquire(enable: false)
            #expect(r.hold == nil && !r.switched)
            #expect(KernelAuditState.current() == .disabled)
        }
    }
}
