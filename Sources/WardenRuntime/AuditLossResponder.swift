import Synchronization
import WardenAudit

/// What a run does when its audit log stops taking records (disk full, I/O error, quota,
/// the log removed): records are never dropped (see `AuditRun`), and the agent may not go on
/// unrecorded.
public enum AuditFailureMode: String, Sendable, CaseIterable {
    /// Stop the agent: freeze its processes at once (nothing more happens unrecorded, however
    /// it treats SIGTERM), then SIGKILL its whole tree; the run exits with
    /// `RunOutcome.auditFailureExitCode`.
    case stop
    /// Freeze the agent's processes (SIGSTOP) until the log takes records again, then
    /// resume them (SIGCONT). Time limits keep running.
    case pause
}

/// Acts on `AuditRun`'s loss changes for one supervised run.
final class AuditLossResponder: Sendable {
    let mode: AuditFailureMode
    let stop: StopChannel
    let notice: (@Sendable (String) -> Void)?

    private struct State {
        var initPid: Int32?
        var stopped = false
        var paused = false
        var failure: AuditError?
        var ended = false
    }
    private let state = Mutex(State())

    init(mode: AuditFailureMode, stop: StopChannel, notice: (@Sendable (String) -> Void)?) {
        self.mode = mode
        self.stop = stop
        self.notice = notice
    }

    /// True once the agent was stopped because of the audit log.
    var stoppedForAudit: Bool { state.withLock { $0.stopped } }
    /// The first failure seen, if any.
    var firstFailure: AuditError? { state.withLock { $0.failure } }

    /// The sandbox's init exists (needed to pause).
    func attach(initPid: Int32) {
        let pauseNow = state.withLock { s -> Bool in
            s.initPid = initPid
            guard mode == .pause, s.failure != nil, !s.paused else { return false }
            s.paused = true
            return true
        }
        if pauseNow { ProcessTree.freeze(initPid: initPid) }
    }

    /// The agent is gone: later changes (the final records) need no action on it.
    func detach() { state.withLock { $0.ended = true } }

    func handle(_ change: AuditRun.LossChange) {
        if state.withLock({ $0.ended }) { return }
        switch change {
        case .failed(let error):
            let action = state.withLock { s -> (stop: Bool, freeze: Int32?) in
                if s.failure == nil { s.failure = error }
                switch mode {
                case .stop:
                    guard !s.stopped else { return (false, nil) }
                    s.stopped = true
                    return (true, s.initPid)
                case .pause:
                    guard !s.paused, let pid = s.initPid else { return (false, nil) }
                    s.paused = true
                    return (false, pid)
                }
            }
            if action.stop {
                notice?("warden: audit: the audit log cannot take records (\(error.description)); stopping the agent (--on-audit-failure stop)")
                // A grace period would let an agent that ignores SIGTERM act on, unrecorded.
                if let pid = action.freeze { ProcessTree.freeze(initPid: pid) }
                stop.requestKill()
            } else if let pid = action.freeze {
                notice?("warden: audit: the audit log cannot take records (\(error.description)); the agent is paused until it can (--on-audit-failure pause)")
                ProcessTree.freeze(initPid: pid)
            }
        case .recovered:
            let thaw = state.withLock { s -> Int32? in
                guard s.paused, let pid = s.initPid else { return nil }
                s.paused = false
                return pid
            }
            if let thaw {
                ProcessTree.thaw(initPid: thaw)
                notice?("warden: audit: the audit log takes records again; the agent resumes")
            }
        }
    }
}
