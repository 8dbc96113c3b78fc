import CLauncher
import Synchronization
import WardenAudit
import WardenCompiler
#if canImport(Glibc)
import Glibc
#endif

/// A run's observation of filesystem denials through kernel audit (as root): Landlock's
/// records and, through `MountAuditRules`, the mount world's refusals, read by a
/// `KernelAuditReader` and recorded as `deny.fs`.
///
/// Kernel audit is host-wide: it is used when already enabled, and switched on only for
/// `.enableKernelAudit` (`--observe-filesystem`, `warden learn`); the last run using it
/// switches it back off (`KernelAuditHold`).
final class FilesystemObserver: Sendable {
    let reader: KernelAuditReader
    let rules: MountAuditRules?
    /// This run's share of the host-wide switch (`KernelAuditHold`).
    private let hold: KernelAuditHold?
    /// No shared switch was available and this run switched audit on: it switches it off.
    private let restoreAlone: Bool
    private let kernelLostBefore: Int64
    /// init took the run's login uid (else the mount rules match nothing).
    private let mountObserved = Atomic<Bool>(false)

    /// Starts observing; nil when not root, kernel audit is off (and not to be switched on)
    /// or the audit socket cannot be opened. `notice` hears about the host-wide switch.
    static func start(_ mode: AgentSession.FilesystemObservation, audit: AuditRun, effective: EffectivePolicy,
                      bindings: PathBindings, notice: (@Sendable (String) -> Void)?) -> FilesystemObserver? {
        guard mode != .off, geteuid() == 0 else { return nil }
        let enable = mode == .enableKernelAudit
        let joined = KernelAuditHold.acquire(enable: enable)
        var hold = joined.hold
        var switched = joined.switched
        var state = hold == nil ? KernelAuditState.current() : .enabled
        if joined.lockFailed, state == .disabled, enable {
            // No shared switch (no /run/warden): switch it for this run alone, as before.
            let r = warden_kaudit_set_enabled(1)
            if r == 0 { switched = true; state = .enabled } else {
                notice?("warden: --observe-filesystem: cannot enable kernel audit: \(errnoName(-r)); filesystem denials are not observed")
            }
        } else if hold == nil, state == .disabled, enable {
            notice?("warden: --observe-filesystem: cannot enable kernel audit; filesystem denials are not observed")
        }
        if switched {
            notice?("warden: kernel audit enabled (host-wide) for --observe-filesystem; switched off again when the last run using it ends")
        }
        guard state == .enabled else { return nil }
        let alone = joined.lockFailed && switched
        func undo() {
            if let h = hold { h.release(); hold = nil } else if alone { _ = warden_kaudit_set_enabled(0) }
        }
        let rules = MountAuditRules.install()
        guard let reader = KernelAuditReader(audit: audit, effective: effective, bindings: bindings, rules: rules) else {
            rules?.remove()
            undo()
            return nil
        }
        return FilesystemObserver(reader: reader, rules: rules, hold: hold, restoreAlone: alone)
    }

    private init(reader: KernelAuditReader, rules: MountAuditRules?, hold: KernelAuditHold?, restoreAlone: Bool) {
        self.reader = reader
        self.rules = rules
        self.hold = hold
        self.restoreAlone = restoreAlone
        self.kernelLostBefore = warden_kernel_audit_lost()
    }

    /// What the launch must carry: Landlock logging after exec (ABI 7; the launcher checks)
    /// and the run's audit login uid.
    func prepare(_ spec: inout LaunchSpec) {
        spec.landlock?.logAfterExec = true
        if let rules { spec.auditLoginUID = rules.auid }
    }

    /// The layers `run.start` no longer lists as unobserved.
    var observedLayers: [String] { ["landlock"] + (rules == nil ? [] : ["mounts"]) }

    /// Called with the run's init (host pid): the reader learns the run's PID namespace, and
    /// the login uid is checked (init writes it first thing; up to 200 ms).
    func attach(initPid pid: Int32) {
        reader.attach(initPid: pid)
        guard let rules else { return }
        for _ in 0..<200 {
            if rules.carried(by: pid) { mountObserved.store(true, ordering: .relaxed); return }
            usleep(1000)
        }
    }

    var mountWorldObserved: Bool { mountObserved.load(ordering: .relaxed) }

    /// Stops reading, removes the rules, restores kernel audit; returns the records kernel
    /// audit dropped host-wide meanwhile and the reader's socket overflows.
    func finish() -> (kernelLost: Int64, overflows: Int64) {
        reader.stop()
        rules?.remove()
        let after = warden_kernel_audit_lost()
        if let hold { hold.release() } else if restoreAlone { _ = warden_kaudit_set_enabled(0) }
        let lost = kernelLostBefore >= 0 && after >= kernelLostBefore ? after - kernelLostBefore : 0
        return (Int64(lost), reader.overflows.load(ordering: .relaxed))
    }
}
