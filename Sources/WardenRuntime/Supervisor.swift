import CLauncher
#if canImport(Glibc)
import Glibc
#endif

/// The result of a supervised run: how it ended and which layers were skipped (best effort).
public struct RunReport: Sendable {
    public var outcome: RunOutcome
    public var skippedLayers: [SkippedLayer]
    /// Processes the kernel's OOM killer killed for the run's cgroup memory limit (0 when
    /// none, or when the run had no memory cgroup).
    public var oomKills: UInt64 = 0
}

/// Launches a `LaunchSpec` through the C launcher and supervises it to the end: forwards
/// signals, enforces the timeout (SIGTERM, grace period, SIGKILL of the whole tree),
/// answers seccomp user notifications and reaps everything.
///
/// Escalation: a forwarded SIGINT or SIGTERM starts the grace period; a second one, or the
/// end of the grace period, SIGKILLs the sandbox's init, which takes its whole PID namespace
/// with it. `stop` requests (e.g. on audit loss) do the same as a timeout.
public struct Supervisor: Sendable {
    /// Wall-clock limit from the start of the launch; nil for none.
    public var timeout: Duration?
    /// Time between SIGTERM and SIGKILL on timeout.
    public var gracePeriod: Duration
    /// Run even when some layers cannot be applied here (they are listed in the report).
    public var bestEffort: Bool
    /// Install process-wide handlers that forward SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/2 to
    /// the agent during the run (the CLI wants this; a library embedding usually not).
    public var forwardSignals: Bool
    /// Answers notifications when the spec asks for a listener; nil answers EPERM to all.
    public var notificationHandler: (any NotificationHandler)?
    /// Called with the PID of the sandbox's init (in our PID namespace) once it exists.
    public var onStart: (@Sendable (Int32) -> Void)?
    /// Lets other threads end the run early (SIGTERM, grace period, SIGKILL).
    public var stop: StopChannel
    /// Stopped once init has joined the run's cgroup (or the launch failed).
    public var primer: CgroupMigrationPrimer?

    public init(timeout: Duration? = nil, gracePeriod: Duration = .seconds(5), bestEffort: Bool = false,
                forwardSignals: Bool = false, notificationHandler: (any NotificationHandler)? = nil,
                onStart: (@Sendable (Int32) -> Void)? = nil, stop: StopChannel = StopChannel()) {
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.bestEffort = bestEffort
        self.forwardSignals = forwardSignals
        self.notificationHandler = notificationHandler
        self.onStart = onStart
        self.stop = stop
    }

    /// Convenience: run with a timeout and grace period, returning only the outcome.
    public static func run(_ spec: LaunchSpec, timeout: Duration? = nil, gracePeriod: Duration = .seconds(5)) -> RunOutcome {
        Supervisor(timeout: timeout, gracePeriod: gracePeriod).run(spec).outcome
    }

    /// Prepares and runs `spec`; blocks until the agent and all its descendants are gone.
    public func run(_ spec: LaunchSpec) -> RunReport {
        let prepared: PreparedLaunch
        do { prepared = try prepareLaunch(spec, bestEffort: bestEffort) } catch {
            return RunReport(outcome: .launchFailed(error), skippedLayers: [])
        }
        // The launching thread must live as long as the sandbox: PR_SET_PDEATHSIG fires
        // when the thread that created the child exits. A dedicated thread guarantees it.
        let slot = ResultSlot<RunOutcome>()
        let oomKills = ResultSlot<UInt64>()
        let me = self
        guard let thread = JoinableThread({ slot.set(me.supervise(prepared, oomKills: oomKills)) }) else {
            return RunReport(outcome: .launchFailed(LaunchFailure(stage: .setup, errno: EAGAIN,
                             message: "warden: setup: cannot start the supervisor thread")), skippedLayers: prepared.skippedLayers)
        }
        thread.join()
        let outcome = slot.get() ?? .launchFailed(LaunchFailure(stage: .wait, errno: EIO, message: "warden: supervisor thread ended without a result"))
        return RunReport(outcome: outcome, skippedLayers: prepared.skippedLayers, oomKills: oomKills.get() ?? 0)
    }

    private func supervise(_ prepared: PreparedLaunch, oomKills: ResultSlot<UInt64>) -> RunOutcome {
        let spec = prepared.spec
        let start = monotonicNow()
        let deadline: Int64? = timeout.map { start &+ max($0.nanoseconds, 0) }

        var cgroup: RunCgroup?
        if let limits = spec.cgroupLimits, limits.memoryMax != nil || limits.pidsMax != nil {
            do { cgroup = try RunCgroup(limits: limits, support: .detect()) } catch { return .launchFailed(error) }
        }
        defer {
            if let n = cgroup?.oomKills() { oomKills.set(n) }
            cgroup?.remove()
        }

        let procs = cgroup?.procsFds ?? []
        let c = CSpec(spec, landlockABI: prepared.landlockABI, cgroupProcsFd: procs.first ?? -1,
                      cgroupProcsFd2: procs.count > 1 ? procs[1] : -1,
                      uid: getuid(), gid: getgid())
        var handles = warden_launch_handles()
        var stage: Int32 = 0
        let rc = withExtendedLifetime(c) { warden_launch(&c.spec, &handles, &stage) }
        if rc < 0 {
            primer?.stop()
            let st = LaunchStage(rawValue: stage) ?? .setup
            return .launchFailed(LaunchFailure(stage: st, errno: -rc, message: "warden: \(st.name): \(errnoName(-rc))"))
        }
        let initPid = handles.init_pid
        defer {
            close(handles.status_fd); close(handles.result_fd); close(handles.life_fd)
            if handles.notify_fd >= 0 { close(handles.notify_fd) }
            if handles.unix_helper_fd >= 0 { close(handles.unix_helper_fd) }
        }
        if forwardSignals {
            warden_forward_signals_wake(stop.writeFD)
            warden_forward_signals(initPid)
            // A parent may have started Warden with these blocked (the mask survives exec);
            // this thread takes them, so the operator's signals always arrive.
            var forwarded = sigset_t()
            sigemptyset(&forwarded)
            for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&forwarded, sig) }
            pthread_sigmask(SIG_UNBLOCK, &forwarded, nil)
            // A stop that arrived between `run.start` and now was held for the agent.
            let held = warden_take_held_stop_signal()
            if held > 0 { raise(held) }
        }
        // Once the agent is gone, stop signals are ignored until Warden exits: one arriving
        // now (an operator's late Ctrl-C, a fleet's or server's death through the parent-death
        // signal) must not kill Warden before `run.exit` is written.
        defer { if forwardSignals { warden_absorb_signals(); warden_forward_signals_wake(-1) } }
        onStart?(initPid)

        // 1. Set-up: a record on the status pipe is a failure; EOF means the agent exec'd.
        var record = warden_error_record()
        let setup = readRecord(handles.status_fd, into: &record, deadline: deadline)
        primer?.stop()
        switch setup {
        case .timedOut:
            kill(initPid, SIGKILL)
            reap(initPid)
            return .timedOut
        case .record:
            reap(initPid)
            let st = LaunchStage(rawValue: record.stage) ?? .setup
            return .launchFailed(LaunchFailure(stage: st, errno: record.err, index: record.index,
                                               message: describeFailure(st, record.err, Int(record.index), spec)))
        case .eof:
            break
        }

        // 2. The user-notification listener, handed over by init before it closed the pipe.
        var notifyThread: JoinableThread?
        var stopPipe: [Int32] = [-1, -1]
        if spec.seccompListener, handles.notify_fd >= 0 {
            let listener = warden_recv_fd(handles.notify_fd)
            // Faster round trips where the kernel has it (6.6+); nothing changes without.
            if listener >= 0 { _ = warden_notif_sync_wakeup(listener) }
            if listener >= 0, pipe(&stopPipe) == 0 {
                _ = fcntl(stopPipe[0], F_SETFD, FD_CLOEXEC); _ = fcntl(stopPipe[1], F_SETFD, FD_CLOEXEC)
                let handler = notificationHandler ?? ClosureNotificationHandler { _ in .fail(errno: EPERM) }
                let stop = stopPipe[0]
                let helper = handles.unix_helper_fd
                notifyThread = JoinableThread {
                    runNotificationLoop(listener: listener, stopFd: stop, handler: handler, unixHelper: helper)
                    close(listener)
                }
            } else if listener >= 0 {
                close(listener)
            }
        }

        // 3. Wait for init (it exits when the agent does), enforcing the deadline.
        let (timedOut, killed) = waitForExit(initPid, deadline: deadline)
        if let t = notifyThread.take() {
            var one: UInt8 = 1
            _ = write(stopPipe[1], &one, 1)
            t.join()
        }
        if stopPipe[0] >= 0 { close(stopPipe[0]); close(stopPipe[1]) }

        var raw: Int32 = 0
        let n = read(handles.result_fd, &raw, MemoryLayout<Int32>.size)
        if timedOut { return .timedOut }
        // SIGKILLed init (second signal, end of the grace period) reports nothing: the agent
        // died with it.
        if killed && n != MemoryLayout<Int32>.size { return .signaled(SIGKILL) }
        guard n == MemoryLayout<Int32>.size else {
            return .launchFailed(LaunchFailure(stage: .wait, errno: EIO,
                                               message: "warden: wait: the sandbox's init ended without reporting the agent's status"))
        }
        if raw & 0x7f == 0 { return .exited((raw >> 8) & 0xff) }
        return .signaled(raw & 0x7f)
    }

    private enum PipeResult { case eof, record, timedOut }

    private func readRecord(_ fd: Int32, into rec: inout warden_error_record, deadline: Int64?) -> PipeResult {
        var got = 0
        let size = MemoryLayout<warden_error_record>.size
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = deadline.map { Int32(clamping: max(($0 - monotonicNow()) / 1_000_000, 0)) } ?? -1
            let r = poll(&p, 1, wait)
            if r < 0 { if errno == EINTR { continue }; return .eof }
            if r == 0 { return .timedOut }
            let n = withUnsafeMutableBytes(of: &rec) { buf in
                read(fd, buf.baseAddress! + got, size - got)
            }
            if n < 0 { if errno == EINTR { continue }; return got == size ? .record : .eof }
            if n == 0 { return got == size ? .record : .eof }
            got += n
            if got == size { return .record }
        }
    }

    /// Waits for `pid` (the sandbox's init) to exit, reaping it. On the deadline or a stop
    /// request: SIGTERM (init forwards it to the agent), then SIGKILL to init after the grace
    /// period, which takes its whole PID namespace with it. A forwarded SIGINT/SIGTERM (init
    /// got it already) starts the grace period; a second one SIGKILLs at once. Returns
    /// whether the deadline was hit and whether init was SIGKILLed.
    private func waitForExit(_ pid: Int32, deadline: Int64?) -> (timedOut: Bool, killed: Bool) {
        let pidfd = warden_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        let grace = max(gracePeriod.nanoseconds, 0)
        var timedOut = false
        var killAt: Int64?  // end of the grace period
        var killed = false
        var terminations = 0
        // Once the agent has run for a while, the launch's code is not needed again: its pages
        // are released from this process (`releaseCodePagesAfter`), once.
        var releaseAt: Int64? = monotonicNow() &+ Self.releaseCodePagesAfter
        func terminate(sendTERM: Bool) {
            if sendTERM { kill(pid, SIGTERM) }
            let at = monotonicNow() &+ grace
            killAt = min(killAt ?? at, at)
        }
        func killNow() {
            if !killed { kill(pid, SIGKILL) }
            killed = true
        }
        while true {
            let now = monotonicNow()
            if !timedOut, let d = deadline, now >= d {
                timedOut = true
                terminate(sendTERM: true)
            }
            if let k = killAt, now >= k { killNow() }
            if let r = releaseAt, now >= r {
                releaseAt = nil
                _ = warden_release_code_pages()
            }
            let wake = [timedOut ? nil : deadline, killed ? nil : killAt, releaseAt].compactMap { $0 }.min()
            var timeoutMs = wake.map { Int32(clamping: (max($0 - now, 0) + 999_999) / 1_000_000) } ?? -1
            if pidfd < 0 { timeoutMs = timeoutMs < 0 ? 5 : min(timeoutMs, 5) }  // old kernel: poll waitpid
            var fds = [pollfd(fd: stop.readFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, pidfd >= 0 ? 2 : 1, timeoutMs)
            if r < 0 && errno != EINTR { break }
            if pidfd >= 0 && fds[1].revents != 0 { break }
            if pidfd < 0 {
                var st: Int32 = 0
                if waitpid(pid, &st, WNOHANG | __WALL) == pid { break }
            }
            if fds[0].revents != 0 {
                for byte in stop.drain() {
                    switch Int32(byte) {
                    case Int32(StopChannel.stopRequest): terminate(sendTERM: true)
                    case Int32(StopChannel.killRequest): killNow()
                    case SIGINT, SIGTERM:
                        terminations += 1
                        if terminations >= 2 { killNow() } else { terminate(sendTERM: false) }
                    default: break
                    }
                }
            }
        }
        reap(pid)
        return (timedOut, killed)
    }

    /// How long the agent runs before the supervisor releases its mappings of Warden's code
    /// (a short run ends first and pays nothing; a long one keeps only what supervising uses
    /// resident: docs/performance.md).
    static let releaseCodePagesAfter: Int64 = 1_000_000_000

    private func reap(_ pid: Int32) {
        var st: Int32 = 0
        while waitpid(pid, &st, __WALL) < 0 && errno == EINTR {}
    }
}

/// "warden: landlock: cannot add rule for /usr: EACCES" style messages.
func describeFailure(_ stage: LaunchStage, _ err: Int32, _ index: Int, _ spec: LaunchSpec) -> String {
    let e = errnoName(err)
    switch stage {
    case .mount where spec.mounts.indices.contains(index):
        return "warden: mount: step \(index) (\(spec.mounts[index])) failed: \(e)"
    case .landlock where index >= 0 && (spec.landlock?.rules.indices.contains(index) ?? false):
        return "warden: landlock: cannot add rule for \(spec.landlock?.rules[index].path ?? "?"): \(e)"
    case .landlock:
        return "warden: landlock: cannot create or enforce the ruleset: \(e)"
    case .rlimit where spec.resourceLimits.indices.contains(index):
        return "warden: rlimit: cannot set resource \(spec.resourceLimits[index].resource): \(e)"
    case .capabilities where index >= 0:
        return "warden: capabilities: cannot drop capability \(index): \(e)"
    case .capabilityVerification:
        return "warden: capabilities: capability \(index) is still held after dropping (\(e))"
    case .exec:
        let cmd = spec.arguments.first ?? "?"
        if err == ENOENT || err == ENOTDIR { return "warden: exec: \(cmd): command not found (\(e))" }
        return "warden: exec: \(cmd): cannot execute (\(e))"
    case .workingDirectory:
        return "warden: working directory: cannot enter \(spec.workingDirectory ?? "?"): \(e)"
    default:
        return "warden: \(stage.name): \(e)"
    }
}
