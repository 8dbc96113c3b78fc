import CLauncher
import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// One `warden run`: launches the agent under its plan, answers and records every denial
/// the filter hands over, enforces the wall-time limit, and writes `run.start`, the
/// aggregated denials, `run.exit` and a checkpoint to the audit trail. When the trail
/// cannot take records, the agent is stopped or paused (`auditFailureMode`).
public struct AgentSession: Sendable {
    public var plan: AgentLaunchPlan
    public var audit: AuditRun
    /// Facts for `run.start` that the CLI knows (policy hash, argv, user, ...).
    public var start: RunStartInfo
    /// Records written right after `run.start`, made durable with it (the run's `identity.token`).
    public var afterStart: [AuditEvent] = []
    public var timeout: Duration?
    public var gracePeriod: Duration
    public var bestEffort: Bool
    public var auditFailureMode: AuditFailureMode
    /// Told about events the operator should see while the run goes on (audit loss).
    public var notice: (@Sendable (String) -> Void)?
    /// `warden explain POLICY --identity ID`, the prefix of the commands the failure digest
    /// prints; nil: a placeholder for the policy path.
    public var explainPrefix: String?
    /// Whether Landlock's filesystem denials are read from kernel audit (as root, Landlock
    /// ABI 7). Kernel audit is host-wide: it is used when already enabled, and switched on
    /// (and back off after the run) only for `.enableKernelAudit` (`--observe-filesystem`).
    public var observeFilesystem: FilesystemObservation = .ifKernelAuditEnabled
    /// The values of the secrets the identity's HTTP rules use, for its credential broker.
    public var secrets: [String: [UInt8]] = [:]
    /// A PEM file the broker trusts for upstream servers instead of the host's store
    /// (`WARDEN_BROKER_UPSTREAM_CA`; tests with local servers).
    public var brokerUpstreamTrust: String?
    /// Keeps cgroup migration warm until init has joined the run's cgroup.
    public var primer: CgroupMigrationPrimer?
    /// Observing mode (`warden learn`): record `learn.fs` and `learn.dns` (the plan must be
    /// built with `observePaths` for file accesses to reach the supervisor).
    public var learn = false

    public enum FilesystemObservation: Sendable {
        case off, ifKernelAuditEnabled, enableKernelAudit
    }

    public init(plan: AgentLaunchPlan, audit: AuditRun, start: RunStartInfo, timeout: Duration?,
                gracePeriod: Duration = .seconds(5), bestEffort: Bool, auditFailureMode: AuditFailureMode = .stop,
                notice: (@Sendable (String) -> Void)? = nil) {
        self.plan = plan
        self.audit = audit
        self.start = start
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.bestEffort = bestEffort
        self.auditFailureMode = auditFailureMode
        self.notice = notice
    }

    /// What happened, for the CLI to report.
    public struct Result: Sendable {
        public var outcome: RunOutcome
        public var skippedLayers: [String]
        /// Protected paths the agent created although no mount could protect them.
        public var createdProtectedPaths: [String]
        /// What in the workspace's git control plane changed so that a later git command on
        /// the host could run code or read configuration from elsewhere.
        public var gitFindings: [GitControlPlane.Finding]
        /// Events durably recorded in the log, by kind.
        public var denials: [String: Int64]
        /// A problem writing the audit trail after the run started (the run still ended).
        public var auditError: String?
        /// The agent was stopped because the audit log could not take records.
        public var stoppedForAudit: Bool
        /// Records the log did not take by the end (kept in the spill file or listed).
        public var unsaved: AuditRun.Unsaved?
        /// Processes the kernel killed for the run's memory limit (`limit memory`).
        public var oomKills: UInt64 = 0
        /// Per layer: denials recorded, or why they were not observed.
        public var layers: [LayerDenials] = []
        /// The ranked digest of the denials, when the command failed (also recorded).
        public var digest: DenialDigest?
    }

    /// Whether the run's end counts as a failure that gets a denial digest: a non-zero exit,
    /// a signal or the time limit (a launch failure has its own message).
    static func failed(_ outcome: RunOutcome) -> Bool {
        switch outcome {
        case .exited(let code): return code != 0
        case .signaled, .timedOut: return true
        case .launchFailed: return false
        }
    }

    /// Runs the agent to the end. Throws only when the audit trail cannot record the start
    /// (then the agent is not launched: no unrecorded runs).
    public func run() throws(AuditError) -> Result {
        let effective = plan.effective
        let audit = self.audit
        let existedBefore = plan.unprotectedPaths.filter { access($0, F_OK) == 0 }

        var spec = plan.spec
        // Filesystem denials through kernel audit, when it is on (or asked to be).
        let fsObserver = FilesystemObserver.start(observeFilesystem, audit: audit, effective: effective,
                                                  bindings: plan.bindings, notice: notice)
        fsObserver?.prepare(&spec)
        var startInfo = start
        startInfo.skippedLayers = plan.skipped
        if let fsObserver { startInfo.unobservedLayers.removeAll { fsObserver.observedLayers.contains($0) } }
        // From here a stop signal is held for the agent (see `Run.holdStopSignalsDuringSetup`).
        warden_setup_started()
        do {
            try audit.start(startInfo, along: afterStart)
        } catch {
            _ = fsObserver?.finish()
            throw error
        }
        LaunchTimings.shared.mark("run.start durable")

        // Network mediation, with Warden's resolver when rules name domains.
        let names = ResolvedNames()
        let learnRecorder = learn ? LearnRecorder() : nil
        let learned = learnRecorder.map { LearnedLookups(recorder: $0, names: ResolvedNames()) }
        var dns: DNSProxy?
        var dnsDir: String?
        var setupFailure: String?
        if plan.mediatesNetwork && (effective.hasDomainRules || learned != nil) {
            if let hosts = readSmallFile("/etc/hosts", limit: 1 << 20) {
                names.addHostsFile(hosts) { effective.decideLookup($0).effect == .allow }
            }
            do {
                let proxy = try DNSProxy(effective: effective, names: names, audit: audit, learn: learned)
                if !effective.brokeredEndpoints.isEmpty { proxy.learnBrokeredAddresses(effective, into: names) }
                if let (mount, dir) = proxy.resolvConfMount() {
                    spec.mounts.append(mount)
                    dnsDir = dir
                    dns = proxy
                } else {
                    proxy.shutdown()
                    setupFailure = "warden: DNS resolver: cannot show the agent its resolv.conf (is /etc/resolv.conf missing?)"
                }
            } catch {
                setupFailure = "warden: \(error.description)"
            }
        }
        defer {
            dns?.shutdown()
            if let dnsDir { DNSProxy.removeResolvConf(dnsDir) }
        }
        // The credential broker, for an identity with HTTP rules (nothing starts otherwise).
        var broker: RunBroker?
        if plan.mediatesNetwork && !effective.brokeredEndpoints.isEmpty && setupFailure == nil {
            do {
                let started = try RunBroker(effective: effective, plan: plan, audit: audit, secrets: secrets,
                                            upstreamTrustFile: brokerUpstreamTrust)
                spec.mounts.append(contentsOf: started.trust.mounts)
                spec.environment = Self.setting(started.environment, in: spec.environment)
                broker = started
            } catch {
                setupFailure = error.description
            }
        }
        defer { broker?.shutdown() }
        let mediator = plan.mediatesNetwork
            ? NetworkMediator(effective: effective, audit: audit, names: names, dns: dns?.endpoints, broker: broker?.redirect,
                              learnedNames: learned?.names) : nil
        // Observing mode: without the normal filter to decide with, path calls stay denied.
        let observer = learnRecorder.flatMap { recorder in
            plan.baselineFilter.flatMap { try? LearnObserver(baseline: $0.program, effective: effective, bindings: plan.bindings, recorder: recorder) }
        }
        let denials = DenialDecisions(effective: effective)
        let handler = AgentNotificationHandler(mediator: mediator, effective: effective, learn: observer) { n in
            let answer = denials.answer(n.syscall, arguments: n.arguments)
            try? audit.denySyscall(nr: n.syscall, name: answer.name, args: n.arguments, pid: Int32(bitPattern: n.pid),
                                   errno: answer.errno, rule: answer.rule)
            return .fail(errno: answer.errno)
        }
        // The workspace's git control plane as it is before the agent (and before the
        // placeholders, which are gone again when it is inspected).
        let gitBefore = try? GitControlPlane.snapshot(workspace: plan.bindings.workspace)
        var placeholders = Placeholders()
        if setupFailure == nil {
            do {
                try placeholders.create(plan.mountPoints, directories: true)
                try placeholders.create(plan.placeholders)
            } catch { setupFailure = "warden: \(error.description)" }
        }

        let timeLimit = [timeout, plan.wallTime].compactMap { $0 }.min()
        let stop = StopChannel()
        let responder = AuditLossResponder(mode: auditFailureMode, stop: stop, notice: notice)
        audit.setLossHandler { responder.handle($0) }
        var supervisor = Supervisor(timeout: timeLimit, gracePeriod: gracePeriod, bestEffort: bestEffort,
                                    forwardSignals: true, notificationHandler: handler,
                                    onStart: { responder.attach(initPid: $0); fsObserver?.attach(initPid: $0) }, stop: stop)
        supervisor.primer = primer
        let launchSpec = spec
        LaunchTimings.shared.mark("supervisor ready")
        let report = setupFailure.map {
            RunReport(outcome: .launchFailed(LaunchFailure(stage: .setup, errno: EIO, message: $0)), skippedLayers: [])
        } ?? withPeriodicFlush(audit) { supervisor.run(launchSpec) }
        responder.detach()
        let (kernelLost, fsOverflows) = fsObserver?.finish() ?? (0, 0)
        LaunchTimings.shared.mark("agent ran and exited (launcher, namespaces, exec)")
        // Observing mode's records, after every call was answered and before `run.exit`.
        for event in learnRecorder?.events() ?? [] { try? audit.record(event) }
        // Only when no other run uses the workspace: its mounts may sit on our placeholders.
        if plan.workspaceLock?.isAlone() == true { placeholders.remove() }
        let gitFindings = gitBefore?.inspect() ?? []
        if !gitFindings.isEmpty { try? audit.record(GitControlPlane.auditEvent(gitFindings, workspace: plan.bindings.workspace)) }

        let created = plan.unprotectedPaths.filter { !existedBefore.contains($0) && access($0, F_OK) == 0 }
        var exit = RunExitInfo(timedOut: report.outcome == .timedOut)
        switch report.outcome {
        case .exited(let code): exit.status = code
        case .signaled(let sig): exit.signal = sig
        case .timedOut: break
        case .launchFailed(let failure): exit.extra["launch_failure"] = .string(failure.message)
        }
        exit.extra["exit_code"] = .int(Int64(report.outcome.exitCode))
        if report.oomKills > 0 {
            exit.extra["oom_kills"] = .int(Int64(clamping: report.oomKills))
            exit.extra["killed_by"] = .string("memory limit")
        }
        if !created.isEmpty { exit.extra["created_protected_paths"] = .strings(created) }
        if fsOverflows > 0 { exit.extra["filesystem_records_lost"] = .int(fsOverflows) }
        if kernelLost > 0 { exit.extra["kernel_audit_records_lost"] = .int(kernelLost) }
        if !gitFindings.isEmpty { exit.extra["git_control_findings"] = .int(Int64(gitFindings.count)) }
        let skipped = plan.skipped + report.skippedLayers.map(\.description)
        if !report.skippedLayers.isEmpty { exit.extra["skipped_layers"] = .strings(report.skippedLayers.map(\.description)) }
        if let failure = responder.firstFailure { exit.extra["audit_failure"] = .string(failure.description) }
        if responder.stoppedForAudit { exit.extra["stopped_by"] = .string("audit failure") }
        // The digest counts what the log took: write the pending aggregates first.
        let syscallsObserved = plan.spec.seccompListener && plan.spec.seccompFilter != nil
            && !skipped.contains { $0.hasPrefix("seccomp") }
        let prefix = explainPrefix ?? ShellWord.explainPrefix(policyPath: "POLICY", identity: effective.identity)
        func layers() -> [LayerDenials] {
            var report = LayerDenials.report(syscallsObserved: syscallsObserved, networkMediated: plan.mediatesNetwork,
                                             filesystemObserved: fsObserver != nil, mountObserved: fsObserver?.mountWorldObserved ?? false,
                                             recorded: audit.recordedTotals, explain: prefix)
            if fsOverflows > 0 || kernelLost > 0, let i = report.firstIndex(where: { $0.layer == .filesystem }) {
                report[i].partlyBecause = (report[i].partlyBecause ?? "")
                    + "; kernel audit dropped records during the run (\(kernelLost) lost host-wide, \(fsOverflows) socket overflows), so the count is a lower bound"
            }
            return report
        }
        var digest: DenialDigest?
        if Self.failed(report.outcome) {
            try? audit.flush()
            let made = DenialDigest(tally: audit.recordedDenials, effective: effective, explain: prefix, layers: layers(),
                                    bindings: plan.bindings)
            try? audit.record(made.auditEvent)
            digest = made
        }
        var auditError: String?
        do { try audit.finish(exit) } catch { auditError = error.description }
        LaunchTimings.shared.mark("run.exit durable")
        return Result(outcome: report.outcome, skippedLayers: skipped, createdProtectedPaths: created,
                      gitFindings: gitFindings, denials: audit.recordedTotals, auditError: auditError,
                      stoppedForAudit: responder.stoppedForAudit, unsaved: audit.unsaved, oomKills: report.oomKills,
                      layers: layers(), digest: digest)
    }
}

extension AgentSession {
    /// `entries` (`NAME=VALUE`) set in `environment`, replacing any entry of the same name.
    static func setting(_ entries: [String], in environment: [String]) -> [String] {
        let names = Set(entries.map { $0.prefix { $0 != "=" } })
        return environment.filter { !names.contains($0.prefix { $0 != "=" }) } + entries
    }
}

/// Sends the socket calls that network mediation handles to the mediator (when the policy
/// allows the syscall itself), everything else to the denial handler.
struct AgentNotificationHandler: NotificationHandler {
    let mediator: NetworkMediator?
    let effective: EffectivePolicy
    /// Observing mode: decides and records the path syscalls (see `LearnObserver`).
    var learn: LearnObserver? = nil
    let deny: @Sendable (SeccompNotification) -> NotificationResponse

    func handle(_ n: SeccompNotification) -> NotificationResponse { deny(n) }

    func handle(_ n: SeccompNotification, listener: NotificationListener) -> NotificationResponse? {
        if let learn, let name = SyscallTable.name(of: n.syscall, arch: Architecture.native), PathSyscalls.operands[name] != nil {
            return learn.handle(n, name: name, listener: listener, deny: deny)
        }
        // SO_REUSEADDR depends on the socket's kind, which the registers do not tell: the
        // mediator decides it on a duplicate of the socket and performs it there.
        if let mediator, let name = SyscallTable.name(of: n.syscall, arch: Architecture.native), name == "setsockopt",
           NetworkMediator.setsReuseAddress(n.arguments),
           effective.decideSyscall(name, arguments: n.arguments).effect == .allow {
            return mediator.setReuseAddress(n, listener: listener)
        }
        // Decided on register arguments only, so letting an allowed call continue is safe.
        if mediator != nil, let name = SyscallTable.name(of: n.syscall, arch: Architecture.native),
           EffectivePolicy.supervisorDecidedSyscalls.contains(name),
           effective.decideSyscall(name, arguments: n.arguments).effect == .allow {
            return .allow
        }
        if let mediator, let name = SyscallTable.name(of: n.syscall, arch: Architecture.native),
           let kind = NetworkMediator.Kind(syscall: name),
           effective.decideSyscall(name, arguments: n.arguments).effect == .allow {
            return mediator.handle(n, kind: kind, listener: listener)
        }
        return deny(n)
    }
}

/// Runs `body` while a helper thread writes due audit batches (and retries a failing log)
/// when they are due: with the aggregation window of 0.75 s, denials reach the log within a
/// second of the first one in a window. While nothing is pending the thread sleeps without a
/// timeout, so a quiet agent costs the supervisor no wake-ups: the first pending record
/// wakes it (`AuditRun.setPendingHandler`) and it then sleeps until that record is due.
func withPeriodicFlush<T>(_ audit: AuditRun, _ body: () -> T) -> T {
    var end: [Int32] = [-1, -1]
    var kick: [Int32] = [-1, -1]
    guard pipe(&end) == 0 else { return body() }
    guard pipe(&kick) == 0 else { close(end[0]); close(end[1]); return body() }
    for fd in end + kick { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    // Never block a recording thread: one byte is enough to wake the flusher.
    _ = fcntl(kick[1], F_SETFL, fcntl(kick[1], F_GETFL) | O_NONBLOCK)
    _ = fcntl(kick[0], F_SETFL, fcntl(kick[0], F_GETFL) | O_NONBLOCK)
    let (wake, signalEnd, kickRead, kickWrite) = (end[0], end[1], kick[0], kick[1])
    defer { close(wake); close(signalEnd); close(kickRead); close(kickWrite) }
    audit.setPendingHandler {
        var one: UInt8 = 1
        _ = write(kickWrite, &one, 1)
    }
    defer { audit.setPendingHandler {} }
    let thread = JoinableThread {
        var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0), pollfd(fd: kickRead, events: Int16(POLLIN), revents: 0)]
        var drain = [UInt8](repeating: 0, count: 64)
        while true {
            let due = audit.nanosecondsUntilDue()
            let timeout = due.map { Int32(clamping: ($0 + 999_999) / 1_000_000) } ?? -1
            fds[0].revents = 0; fds[1].revents = 0
            let r = poll(&fds, 2, timeout)
            if r < 0 && errno != EINTR { return }
            if fds[0].revents != 0 { return }
            if fds[1].revents != 0 { while read(kickRead, &drain, drain.count) > 0 {} }
            try? audit.flushIfDue()
        }
    }
    let result = body()
    var one: UInt8 = 1
    _ = write(signalEnd, &one, 1)
    thread?.join()
    return result
}
