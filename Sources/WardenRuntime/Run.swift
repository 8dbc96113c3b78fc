import CLauncher
import WardenAudit
import WardenIdentity
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// One `warden run`, set up and ready to launch: the launch plan, the audit trail (checked
/// to be out of the agent's reach), the run's private `${tmp}` and the `run.start` facts.
///
/// `init` does every check that must pass before an agent may start; `execute()` launches,
/// supervises and records the run to its end. The run directory is removed when the value
/// goes away. Every front end gets the same guarantees by going through this type.
public final class Run {
    public let runID: String
    /// The audit log this run appends to.
    public let logPath: String
    public let plan: AgentLaunchPlan
    /// What `run.start` records.
    public let startInfo: RunStartInfo
    /// Things the operator should know before the agent starts (print them on stderr).
    public let warnings: [String]
    public let request: RunRequest
    let audit: AuditRun
    /// `identity.token`, recorded right after `run.start`.
    let identityEvent: AuditEvent
    /// The values of the secrets the identity's HTTP rules inject (held by the supervisor
    /// for the broker; never shown to the agent).
    let secrets: [String: [UInt8]]
    /// `WARDEN_BROKER_UPSTREAM_CA` from Warden's environment, if set.
    let brokerUpstreamTrust: String?
    /// The run directory (the agent's `/tmp` and home live in it).
    private let tmp: String
    /// Keeps cgroup migration warm until init has joined the run's cgroup.
    let primer: CgroupMigrationPrimer?

    /// The layers every run applies, and those whose denials the supervisor cannot observe.
    public static let enforcedLayers = ["namespaces", "mounts", "rlimits", "landlock", "capabilities", "no_new_privs", "seccomp"]
    public static func unobservedLayers(userNotification: Bool) -> [String] {
        ["landlock", "mounts", "capabilities", "rlimits"] + (userNotification ? [] : ["seccomp"])
    }

    /// Checks and prepares the run; throws (and leaves nothing behind) when the agent must
    /// not start: no workspace, no run directory, a plan this host cannot enforce, an audit
    /// trail or signing key the agent could reach, or an audit log that cannot be opened.
    ///
    /// `cgroups` and `memoryV1Usable` stand for this host's cgroup facts (detected when
    /// nil); tests pass them to simulate a host without a memory controller.
    public init(_ request: RunRequest, host: HostFacts, cgroups: CgroupSupport? = nil,
                memoryV1Usable: Bool? = nil) throws(RunSetupError) {
        let effective = request.effective
        if request.learn && effective.enforceOnly {
            throw RunSetupError.learnRefused(identity: effective.identity, policyPath: request.policyPath)
        }
        guard let workspacePath = HostFacts.realDirectory(request.workspace ?? host.currentDirectory) else {
            throw RunSetupError("workspace \(request.workspace ?? "."): not an existing directory")
        }
        let runID = AuditRun.newRunID()
        guard let runDirectory = RunDirectory.create(runID: runID) else {
            throw RunSetupError("cannot create the run's temporary directory under /tmp: \(String(cString: strerror(errno)))")
        }
        var keep = false
        defer { if !keep { RunDirectory.remove(runDirectory) } }
        // The run directory holds the agent's /tmp (`${tmp}`) and its fresh home, side by side.
        let tmp = runDirectory + "/tmp"
        guard mkdir(tmp, 0o700) == 0 else {
            throw RunSetupError("cannot create the run's temporary directory \(tmp): \(String(cString: strerror(errno)))")
        }
        let homePath = AgentLaunchPlan.resolve(host.home) ?? host.home
        let bindings = PathBindings(workspace: workspacePath, home: homePath, tmp: tmp)
        var caches: [String: String] = [:]
        let store = CacheStore.base(identity: effective.identity, uid: host.uid, environment: host.environment, home: homePath)
        for cache in effective.caches {
            let path = bindings.expand(cache)
            caches[path] = try CacheStore.prepare(path: path, home: homePath, base: store, identity: effective.identity)
        }
        let home = try AgentHome.create(in: runDirectory, home: homePath, environment: host.environment, caches: caches)
        LaunchTimings.shared.mark("run directory, fresh home, caches")

        // `create` grants: their directories are made (no-follow, from the workspace's
        // descriptor) before the world is built, so the grants attach to them.
        let createdPaths: [String]
        do {
            createdPaths = try CreatedPaths.create(effective.createdPaths.map(bindings.expand), inside: workspacePath)
        } catch {
            throw RunSetupError("\(request.policyPath): identity \(effective.identity): \(error)")
        }

        // Only what the launch needs: `KernelSupport.detect()` also probes every namespace
        // in a child process, which `warden doctor` reports but a launch does not use.
        let userNotification = KernelSupport.userNotificationAvailable()
        if request.learn && !userNotification {
            throw RunSetupError("observing mode (warden learn) needs seccomp user notification, which this kernel does not offer (Linux 5.5 or later, 5.9 for CONTINUE); run `warden doctor`")
        }
        let cgroup = cgroups ?? CgroupSupport.detect()
        // The run's cgroup is joined much later; the kernel's wait for it starts now.
        primer = effective.limits[.memory] != nil || effective.limits[.processes] != nil
            ? CgroupMigrationPrimer.start(for: cgroup) : nil
        LaunchTimings.shared.mark("created paths, kernel facts, cgroups")
        let logPath = AuditLocation.resolve(explicit: request.auditLogPath)
        let filterCache = SeccompFilterCache(directory: SeccompFilterCache.beside(logPath: host.absolute(logPath)),
                                             policyFiles: request.policy.files.map(\.source.bytes),
                                             wardenVersion: request.wardenVersion)
        var plan: AgentLaunchPlan
        do {
            plan = try AgentLaunchPlan(effective: effective, command: request.command, bindings: bindings,
                                       environment: host.environment, notify: userNotification,
                                       cgroupUsable: cgroup.unusableReason == nil,
                                       pidsV1Usable: CgroupSupport.v1PidsDirectory() != nil,
                                       memoryV1Usable: memoryV1Usable ?? (CgroupSupport.v1MemoryDirectory() != nil),
                                       bestEffort: request.bestEffort, home: home, observePaths: request.learn,
                                       filterCache: filterCache)
        } catch {
            throw RunSetupError("\(request.policyPath): identity \(effective.identity): \(error)")
        }

        LaunchTimings.shared.mark(plan.filterFromCache ? "launch plan (seccomp filter from the cache)"
                                  : "launch plan (seccomp filter compiled and verified)")

        // A policy that grants the real `${home}/.gitconfig` gets it (also through a link,
        // recreated in the fresh home): the generated one must not stand in its place.
        if let generated = home.gitConfig, plan.home?.gitConfig == nil { unlink(generated) }

        // The audit trail and its signing key must be out of the agent's reach.
        let keyPath = AuditLocation.signingKeyPath(explicit: request.signingKeyPath)
        let protectedPaths = AuditLocation.protectedPaths(logPath: host.absolute(logPath), signingKeyPath: keyPath.map(host.absolute))
            + [filterCache.directory]
        for protected in protectedPaths {
            if plan.agentCanWrite(protected) {
                throw RunSetupError("\(protected) (\(protected == filterCache.directory ? "filter cache" : "audit trail")) is writable by identity \(effective.identity); keep the audit log, its directory, its seccomp-cache and the signing key outside the paths the policy lets the agent write (use --audit-log or $WARDEN_AUDIT_LOG)")
            }
        }
        if let keyPath, plan.agentCanReach(host.absolute(keyPath)) {
            throw RunSetupError("the signing key \(keyPath) is readable by identity \(effective.identity); an agent holding it could forge checkpoints. Keep it outside the paths the policy grants (use --signing-key or $WARDEN_AUDIT_KEY)")
        }
        // The identity token issuer's keys: an agent reading any file of them (or a grant
        // inside the directory) could mint tokens for any identity.
        let issuerKeys = request.identityToken.keyDirectory ?? IssuerKeys.defaultDirectory(environment: host.environment, uid: host.uid)
        if plan.agentCanReach(host.absolute(issuerKeys)) {
            throw RunSetupError("the identity token issuer's key directory \(issuerKeys) is within the reach of identity \(effective.identity) (the policy grants it, a parent of it, or a path inside it); an agent holding its key could mint tokens for any identity. Keep it and everything in it outside the paths the policy grants (set $WARDEN_IDENTITY_KEYS)")
        }
        // The policy file and every file it includes: modifying any of them changes later runs.
        let policyPath = request.policyPath
        let policyFiles = [policyPath] + request.policy.files.map(\.path).filter { $0 != policyPath }
        let writableFiles = policyFiles.filter { plan.agentCanWrite(host.absolute($0)) }
        var warnings: [String] = []
        for cache in plan.skippedCaches {
            warnings.append("the cache \(TerminalText.escape(cache)) is not mounted: the policy grants the real home, where that directory does not exist, and Warden does not create it there; create it, or drop the grant of ${home} itself")
        }
        for entry in plan.missingPathEntries {
            warnings.append("PATH entry \(TerminalText.escape(entry)) does not exist in the agent's world, so the agent may run another program than you would (or none); grant it (`use toolchains`, or `allow fs read, exec \"\(TerminalText.escape(entry))\"`) or remove it from PATH")
        }
        if !writableFiles.isEmpty {
            warnings.append("the agent can modify its own policy (\(writableFiles.joined(separator: ", "))); later runs would use the modified policy (its plan hash is recorded)")
        }

        let audit: AuditRun
        do {
            let key = try keyPath.map { path throws(AuditError) in try AuditSigningKey.load(path: path) }
            audit = try AuditRun(log: AuditLog(path: logPath, signingKey: key), runID: runID)
        } catch {
            throw RunSetupError("audit: \(error.description)")
        }

        LaunchTimings.shared.mark("audit trail checked and opened")
        // Hash exactly the bytes that were compiled (the loader's copies), not a re-read file.
        let policyBytes = request.policy.files.last?.source.bytes ?? []
        var fileHashes: [String: AuditValue] = [:]
        for file in request.policy.files { fileHashes[file.path] = .string(Digest.sha256Hex(file.source.bytes)) }
        let planHash = filterCache.planSHA256(identity: effective.identity, policyPaths: request.policy.files.map(\.path),
                                              policy: plan.filter.policy) {
            Digest.sha256Hex(Array(effective.enforcementPlan(compiled: plan.filter).json().utf8))
        }
        startInfo = RunStartInfo(
            identity: effective.identity, policySHA256: Digest.sha256Hex(policyBytes),
            planSHA256: planHash.hash, argv: request.command, workspace: workspacePath,
            user: host.userName, uid: Int64(host.uid), host: host.hostName, wardenVersion: request.wardenVersion,
            enforcedLayers: Self.enforcedLayers, unobservedLayers: Self.unobservedLayers(userNotification: userNotification),
            extra: ["policy_path": .string(host.absolute(policyPath)), "best_effort": .bool(request.bestEffort),
                    "policy_writable_by_agent": .bool(!writableFiles.isEmpty), "policy_files": .object(fileHashes)]
                .merging(createdPaths.isEmpty ? [:] : ["created_paths": .strings(createdPaths)]) { a, _ in a }
                .merging(request.learn ? ["mode": .string("learn")] : [:]) { a, _ in a }
                .merging(request.fleet.map { ["fleet": .string($0.id), "repository": .string($0.repository)] } ?? [:]) { a, _ in a }
                .merging(request.trigger.map { ["trigger": .string($0.trigger), "trigger_decision": .string($0.decision)] } ?? [:]) { a, _ in a }
                .merging(request.trigger?.event.map { ["event_sha256": .string(Digest.sha256Hex($0))] } ?? [:]) { a, _ in a })
        LaunchTimings.shared.mark(planHash.hit ? "plan hash (from the cache), run.start facts" : "plan hashed, run.start facts")
        // The run's identity token: signed now, shown to the agent read-only (see RunIdentityToken).
        // Without an issuer key (none can be created here) the run goes on without a token:
        // the token proves the agent's identity to others, who then refuse it; it guards
        // nothing on this host. The warning and the audit record say so.
        do {
            let identity = try RunIdentityToken.issue(options: request.identityToken, host: host, start: startInfo, runID: runID,
                                                      lifetime: [request.timeout, plan.wallTime].compactMap { $0 }.min(),
                                                      now: Int64(AuditTime.now().seconds))
            if try identity.install(runDirectory: runDirectory, plan: &plan) == nil {
                warnings.append("the identity token is not shown to the agent: its world has neither a free /run/warden nor a private /tmp (grant ${tmp})")
            }
            if let created = identity.createdKeyDirectory {
                request.notice?("warden: created the first identity token issuer key in \(TerminalText.escape(created)); publish `warden identity jwks` where relying parties can fetch it (docs/identity.md)")
            }
            identityEvent = identity.auditEvent
        } catch {
            warnings.append("no identity token for this run (the agent gets no WARDEN_ID_TOKEN_FILE): \(error.description)")
            identityEvent = AuditEvent(kind: AuditKind.identityToken, fields: ["issued": .bool(false), "reason": .string(error.description)])
        }
        LaunchTimings.shared.mark("identity token signed")
        // A triggered run's event: the agent must see it, or it would work on nothing.
        if let event = request.trigger?.event {
            let file = RunFile(name: "event.json", bytes: event, environmentVariable: TriggerOrigin.eventVariable, what: "event document")
            guard try file.install(runDirectory: runDirectory, plan: &plan) != nil else {
                throw RunSetupError("\(request.policyPath): identity \(effective.identity): the event document has no place in the agent's world: a grant covers /run/warden and there is no private /tmp (grant ${tmp})")
            }
        }
        // Secrets are read before the agent exists: a missing one, or one whose source the
        // agent could read or rewrite, fails the launch (125).
        if let bypass = effective.wildcardBrokerBypasses.first {
            throw RunSetupError("\(request.policyPath): identity \(effective.identity): \(bypass)")
        }
        for secret in effective.secrets {
            if let why = RunBroker.exposure(of: secret, effective: effective, plan: plan) {
                throw RunSetupError("\(request.policyPath): identity \(effective.identity): secret \(secret.name) would be within the agent's reach: \(why)")
            }
        }
        do {
            secrets = try RunBroker.resolveSecrets(effective, environment: host.environment)
            brokerUpstreamTrust = host.environment[RunBroker.upstreamTrustVariable].flatMap { $0.isEmpty ? nil : $0 }
        } catch {
            throw RunSetupError("\(request.policyPath): identity \(effective.identity): \(error)")
        }
        LaunchTimings.shared.mark("secrets read, run set up")
        self.runID = runID
        self.logPath = logPath
        self.plan = plan
        self.warnings = warnings
        self.request = request
        self.audit = audit
        self.tmp = runDirectory
        keep = true
    }

    deinit { RunDirectory.remove(tmp) }

    /// For a front end that launches one run and forwards the operator's signals to it
    /// (`warden run`, `warden learn`): SIGINT, SIGTERM and SIGHUP end Warden as usual until
    /// `run.start` is being written; from then on the first one is held and passed to the
    /// agent as soon as it starts, so every recorded start gets its `run.exit`. Call it
    /// before anything else (threads inherit nothing from it; dispositions are per process).
    public static func holdStopSignalsDuringSetup() { warden_hold_stop_signals_during_setup() }

    /// Launches the agent and supervises it to the end. Throws only when `run.start` cannot
    /// be recorded (then the agent was not launched: no unrecorded runs).
    public func execute() throws(RunSetupError) -> RunSummary {
        var session = AgentSession(plan: plan, audit: audit, start: startInfo, timeout: request.timeout,
                                   gracePeriod: request.gracePeriod, bestEffort: request.bestEffort,
                                   auditFailureMode: request.auditFailureMode, notice: request.notice)
        session.observeFilesystem = request.observeFilesystem || request.learn ? .enableKernelAudit : .ifKernelAuditEnabled
        session.afterStart = [identityEvent]
        session.learn = request.learn
        session.secrets = secrets
        session.brokerUpstreamTrust = brokerUpstreamTrust
        session.primer = primer
        session.explainPrefix = ShellWord.explainPrefix(policyPath: request.policyPath, identity: plan.effective.identity)
        let terminal = request.restoreTerminal ? TerminalModes.save(fd: 0) : nil
        defer { terminal?.restore() }
        // Directories of supervisors that died without cleaning up (e.g. SIGKILL), removed
        // on another thread while the agent runs: the scan of /tmp is not on the launch's path.
        var cleanup = JoinableThread { RunDirectory.removeAbandoned() }
        defer { if let thread = cleanup.take() { thread.join() } }
        let result: AgentSession.Result
        do {
            result = try session.run()
        } catch {
            throw RunSetupError("audit: cannot record the run's start, so the agent was not launched: \(error.description)")
        }
        return RunSummary(runID: runID, logPath: logPath, outcome: result.outcome, skippedLayers: result.skippedLayers,
                          createdProtectedPaths: result.createdProtectedPaths, gitFindings: result.gitFindings,
                          denialsRecorded: result.denials.filter { $0.key.hasPrefix("deny") }.values.reduce(0, +),
                          auditError: result.auditError, stoppedForAudit: result.stoppedForAudit, unsaved: result.unsaved,
                          oomKills: result.oomKills, memoryLimit: plan.effective.limits[.memory]?.value.canonical,
                          layers: result.layers, digest: result.digest)
    }
}

/// How a run ended, for the front end to report.
public struct RunSummary: Sendable {
    public var runID: String
    public var logPath: String
    public var outcome: RunOutcome
    /// Layers not enforced (`--best-effort`), with the reason.
    public var skippedLayers: [String]
    /// Protected paths the agent created although no mount could protect them.
    public var createdProtectedPaths: [String]
    /// What in the workspace's git control plane changed so that a later git command on the
    /// host could run code (see `GitControlPlane`).
    public var gitFindings: [GitControlPlane.Finding]
    /// Denials written to the audit log (never more than were recorded).
    public var denialsRecorded: Int64
    /// A problem writing the audit trail after the run started.
    public var auditError: String?
    /// The agent was stopped because the audit log could not take records.
    public var stoppedForAudit: Bool
    /// Records of this run that are not in the log (in its spill file, or listed here).
    public var unsaved: AuditRun.Unsaved?
    /// Processes the kernel's OOM killer killed for `limit memory` (recorded in `run.exit`).
    public var oomKills: UInt64 = 0
    /// The identity's `limit memory`, as written canonically (`1GiB`), if any.
    public var memoryLimit: String?
    /// Per layer: denials recorded, or why they were not observed (see `LayerDenials`).
    public var layers: [LayerDenials] = []
    /// The ranked digest of the denials when the command failed (see `DenialDigest`).
    public var digest: DenialDigest?

    /// The process exit status: `RunOutcome.auditFailureExitCode` (122) when the agent was
    /// stopped for the audit log or records are missing from it; else
    /// `GitControlPlane.findingsExitStatus` (123) when the command exited but left findings
    /// in the workspace's git control plane (its own status stays in `run.exit`); else
    /// `outcome.exitCode`.
    public var exitCode: Int32 {
        if stoppedForAudit || unsaved != nil { return RunOutcome.auditFailureExitCode }
        if !gitFindings.isEmpty, case .exited = outcome { return GitControlPlane.findingsExitStatus }
        return outcome.exitCode
    }

    /// Warnings and errors for stderr, one line each, in order.
    public var messages: [String] {
        var lines = skippedLayers.map { "warning: layer not enforced (--best-effort): \($0)" }
        for path in createdProtectedPaths {
            lines.append("warning: the agent created \(TerminalText.escape(path)), which the policy protects but which did not exist at launch; review it before anything outside the sandbox uses it")
        }
        lines.append(contentsOf: GitControlPlane.render(gitFindings))
        if let auditError { lines.append("warden: error: audit: \(auditError)") }
        if stoppedForAudit {
            lines.append("warden: error: audit: the agent was stopped because the audit log could not take records (exit status \(RunOutcome.auditFailureExitCode))")
        }
        if let unsaved {
            if let spill = unsaved.spillPath {
                lines.append("warden: error: audit: \(unsaved.records) record\(unsaved.records == 1 ? "" : "s") of run \(runID) could not be written to \(logPath); kept in \(spill), appended by the next writer of the log once it has room")
            }
            for line in unsaved.unspilledLines {
                lines.append("warden: unsaved audit record: " + String(decoding: line, as: UTF8.self))
            }
        }
        if oomKills > 0 {
            lines.append("warden: the memory limit (limit memory \(memoryLimit ?? "?")) was reached: the kernel killed \(oomKills) process\(oomKills == 1 ? "" : "es") of the agent (out of memory; recorded in run.exit as oom_kills)")
        }
        if case .launchFailed(let failure) = outcome { lines.append(failure.message) }
        if let digest { lines.append(contentsOf: digest.lines(logPath: logPath, runID: runID)) }
        return lines
    }

    /// "warden: run <id> exited with status 0; 3 syscall denials, 0 network denials recorded
    /// in <log>; filesystem not observed (check an action with `warden explain …`)". A layer
    /// whose denials were not observed is said to be so, never counted as 0.
    public var summaryLine: String {
        let how: String
        switch outcome {
        case .exited(let c): how = "exited with status \(c)"
        case .signaled(let s): how = "killed by signal \(s)" + (oomKills > 0 && s == SIGKILL ? " (out of memory: limit memory \(memoryLimit ?? "?"))" : "")
        case .timedOut: how = "stopped by the time limit"
        case .launchFailed: how = "failed to start"
        }
        let audit = stoppedForAudit ? " (stopped: the audit log failed)" : ""
        guard !layers.isEmpty else {
            return "warden: run \(runID) \(how)\(audit); \(denialsRecorded) denial\(denialsRecorded == 1 ? "" : "s") recorded in \(logPath)"
        }
        return "warden: run \(runID) \(how)\(audit); \(layers.account(logPath: logPath))"
    }
}
