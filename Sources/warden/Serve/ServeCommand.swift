import ArgumentParser
import WardenAudit
import WardenForgeAPI
import WardenKernel
import WardenPolicy
import WardenRuntime
import WardenServe
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden serve`: the daemon that receives triggers (webhooks, schedules), decides them,
/// queues the allowed launches durably and runs them under the limits (docs/serve.md).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive webhooks and fire schedules: decide, record, queue and run the policy's triggers.",
        discussion: """
        Example:
          warden serve --policy /etc/warden/agents.warden --listen 127.0.0.1:8420 --concurrency 4

        Deliveries go to POST /hooks/github, /hooks/gitlab and /hooks/webhook/NAME; GET / shows \
        the runs, /api/runs lists them as JSON, /metrics has Prometheus counters, /healthz answers \
        ok. The queue lives in STATE/queue.sqlite3: a restart resumes queued runs and records runs \
        that were going as interrupted. While STATE/paused exists nothing new starts; while \
        STATE/kill-switch/IDENTITY exists that identity's runs are stopped and its launches refused \
        (recorded as serve.kill_switch). SIGHUP \
        reloads the policy and its secrets (a policy that fails to load leaves the old one in \
        force); SIGTERM or SIGINT stops: no new deliveries, running agents get SIGTERM and record \
        their end. Exit status: 0 after a stop, 2 for bad input or a policy the server cannot take.
        """
    )

    @Option(help: "The policy file, or a stock policy's name.", transform: StockPolicies.resolve(policyArgument:))
    var policy: String

    @Option(help: "Address and port to listen on (HOST:PORT; port 0 picks a free one).")
    var listen = "127.0.0.1:8420"

    @Option(help: "The server's state directory: queue, run workspaces and logs (default: $WARDEN_STATE_DIR/serve).")
    var stateDir: String?

    @Option(help: "The audit log (default: as for `warden run`).")
    var auditLog: String?

    @Option(help: "Runs going at once on this host.")
    var concurrency = 4

    @Option(help: "Runs going at once per identity (default: no limit beyond --concurrency).")
    var perIdentity: Int?

    @Option(help: "Runs going at once per repository (default: no limit beyond --concurrency).")
    var perRepository: Int?

    @Option(help: "Wall-clock limit for each run, e.g. 30m (the shorter of this and `limit wall-time` applies).")
    var timeout: String?

    @Option(help: "A file holding the token that GET /, /api/* and /metrics require (Authorization: Bearer).")
    var apiTokenFile: String?

    @Option(help: "Clone `workspace clone` repositories from DIR/OWNER/NAME.git (a local mirror) instead of the event's URL.")
    var cloneMirror: String?

    @Option(help: "Team membership for `by team`: lines `github ORG/SLUG LOGIN...` or `gitlab GROUP/PATH LOGIN...` (docs/serve.md); not writable by group or others; read again when it changes.")
    var teams: String?

    @Option(help: "A file holding a GitHub token that may read the organizations' teams (read:org); `team` entries of github triggers are then looked up in the GitHub API. Readable by the server's user only.")
    var githubTokenFile: String?

    @Option(help: "The GitHub API's base URL (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3).")
    var githubApiUrl: String?

    @Option(help: "A file of API tokens with scopes, one per line: NAME SCOPES TOKEN (scopes: read, control, launch:TRIGGER, launch:*); readable by the server's user only.")
    var apiTokens: String?

    @Option(help: "How long to keep what is left of an ended run (its queue row and STATE/runs/ID: workspace, review branch and patch, output), e.g. 720h; at least 24h.")
    var keepRuns = "720h"

    @OptionGroup(title: "Executor")
    var executorOptions: ServeExecutorOptions

    func validate() throws {
        if policy == "-" { throw ValidationError("--policy: standard input cannot be the policy here; give a file") }
        guard ServeAddress.parse(listen) != nil else { throw ValidationError("--listen: expected HOST:PORT, e.g. 127.0.0.1:8420") }
        guard concurrency >= 1, concurrency <= 1024 else { throw ValidationError("--concurrency: 1 to 1024") }
        if let perIdentity, perIdentity < 1 { throw ValidationError("--per-identity: at least 1") }
        if let perRepository, perRepository < 1 { throw ValidationError("--per-repository: at least 1") }
        if let timeout { _ = try RunOptions.duration(timeout, flag: "--timeout") }
        guard try RunOptions.duration(keepRuns, flag: "--keep-runs") >= .seconds(24 * 3600) else {
            throw ValidationError("--keep-runs: at least 24h (trigger budgets count the runs of the last day)")
        }
        if stateDir == "" || auditLog == "" || apiTokenFile == "" || cloneMirror == "" || apiTokens == "" { throw ValidationError("a path option is empty") }
        if executorOptions.executor == .kubernetes, cloneMirror != nil {
            throw ValidationError("--clone-mirror is a local directory, which the Kubernetes executor's pods do not have")
        }
        if teams == "" || githubTokenFile == "" { throw ValidationError("a path option is empty") }
        if githubApiUrl != nil, githubTokenFile == nil { throw ValidationError("--github-api-url goes with --github-token-file") }
    }

    func run() throws {
        do {
            try serve()
        } catch let error as FleetError {
            printError(error.description)
            throw ExitCode(2)
        }
    }

    private func serve() throws {
        guard let (host, port) = ServeAddress.parse(listen) else { throw ExitCode(2) }
        guard let warden = StockPolicies.currentExecutable() else { throw FleetError("cannot find Warden's own binary (/proc/self/exe)") }
        let policyPath = HostFacts.absolute(policy)
        let state = HostFacts.absolute(stateDir ?? WardenState.directory() + "/serve")
        try WardenState.makeDirectories(state + "/runs")
        let token = try apiTokenFile.map { path throws(FleetError) -> [UInt8] in
            do {
                var bytes = try BoundedFileReader.read(path, limit: 4096)
                while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                guard bytes.count >= 16 else { throw FleetError("--api-token-file: the token is shorter than 16 bytes") }
                return bytes
            } catch let error as FleetError { throw error } catch { throw FleetError("--api-token-file \(TerminalText.escape(path)): \(error)") }
        }
        let tokens = try apiTokens.map(Self.loadTokens) ?? ServeTokens()
        let logPath = AuditLocation.resolve(explicit: auditLog)
        let recorder = DecisionRecorder(logPath: HostFacts.absolute(logPath), signingKeyPath: AuditLocation.signingKeyPath(explicit: nil))
        let report: @Sendable (String) -> Void = { printError($0, prefix: false) }
        let teamSources = try teamSources(recorder: recorder, report: report)
        let initial = try Self.load(policyPath, teams: teamSources)
        let store: ServeStore
        do { store = try ServeStore(path: state + "/queue.sqlite3") } catch { throw FleetError("\(error)") }
        let recovered: [ServeStore.Recovered]
        do {
            // The serving lock first: the runs found `running` are then surely the dead server's.
            try store.acquireServingLock()
            let killed = ServeRecovery.waitForPreviousRuns(try store.runningRuns(), stateDirectory: state) { printError($0, prefix: false) }
            for id in killed {
                printError("warden serve: queued run \(id) of the previous server did not stop within \(ServeRecovery.patience): killed", prefix: false)
            }
            recovered = try store.recoverInterrupted(now: ServeClock.milliseconds()) { run in
                ServeLauncher.settled(run, stateDirectory: state)
            }
        } catch { throw FleetError("\(error)") }
        for r in recovered {
            let run = r.run
            if run.state == .finished {
                printError("warden serve: queued run \(run.id) (trigger \(run.trigger)) ended while the server was down: recorded as finished (exit \(run.exitCode.map(String.init) ?? "?"))", prefix: false)
                continue
            }
            printError("warden serve: queued run \(run.id) (trigger \(run.trigger)) was going when the server stopped: recorded as interrupted"
                       + (r.requeued.map { "; fleet \(run.fleetID ?? "?") repository \(TerminalText.escape(run.repository ?? "?")) queued again as run \($0.id) (attempt \($0.attempt))" } ?? ""),
                       prefix: false)
        }
        // Everything below runs on threads of its own; this thread only waits for signals.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        setenv("GIT_TERMINAL_PROMPT", "0", 1)

        let killSwitch = KillSwitch(stateDirectory: state)
        let feed = AuditFeed(path: recorder.logPath)
        let application = ServeApplication(policy: initial, store: store, recorder: recorder, apiToken: token, feed: feed,
                                           localHosts: ServeApplication.localHostNames(listening: host), paused: { killSwitch.paused },
                                           stoppedIdentities: { killSwitch.stoppedIdentities() }, tokens: tokens, killSwitch: killSwitch,
                                           teams: teamSources)
        let launcher = ServeLauncher(wardenPath: warden, stateDirectory: state, auditLog: auditLog.map(HostFacts.absolute),
                                     timeout: timeout, cloneMirror: cloneMirror.map(HostFacts.absolute), recorder: recorder,
                                     policy: { application.policy })
        let kubernetes = try executorOptions.kubernetes(state: state, timeout: timeout, logPath: recorder.logPath,
                                                        signingKeyPath: AuditLocation.signingKeyPath(explicit: nil),
                                                        policy: { application.policy })
        if kubernetes != nil, let fleet = initial.triggers.first(where: { $0.fleet != nil }) {
            throw FleetError("trigger \(fleet.name) runs a fleet, which clones each repository on this host: use the local executor")
        }
        let workers = RunWorkers(store: store, limits: ConcurrencyLimits(host: concurrency, perIdentity: perIdentity, perRepository: perRepository),
                                 pausePath: killSwitch.pausePath, stoppedIdentities: { killSwitch.stoppedIdentities() },
                                 triggerConcurrency: { application.policy.concurrency },
                                 report: report, launch: { run in
                                     guard let kubernetes else { return launcher.launch(run) }
                                     // A fleet clones each repository on this host: local executor only.
                                     if run.fleetID != nil { return LaunchOutcome(error: "fleet runs need the local executor, not Kubernetes") }
                                     return kubernetes.launch(run)
                                 })
        let switches = KillSwitchWatcher(killSwitch: killSwitch, recorder: recorder, report: report) { kubernetes?.stop(identity: $0) ?? launcher.stop(identity: $0) }
        application.onQueued { workers.wake() }
        let server: HTTPServer
        do { server = try HTTPServer(host: host, port: port, handler: application) } catch { throw FleetError(error.description) }
        let ticker = application.makeScheduleTicker(report: report)
        let keep = try RunOptions.duration(keepRuns, flag: "--keep-runs").components.seconds
        let pruner = RunPruner(store: store, runsDirectory: state + "/runs", keepMilliseconds: keep * 1000, recorder: recorder, report: report)
        switches.look()
        workers.start()
        switches.start()
        ticker.start()
        pruner.start()
        feed.start()
        do { try AtomicFile.store(state + "/listening", text: "\(host):\(server.port)\n", mode: 0o644) } catch {
            printError("warden serve: cannot write \(state)/listening: \(error)", prefix: false)
        }
        printError("warden serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(server.port); state in \(TerminalText.escape(state))"
                   + (kubernetes.map { "; runs go to Kubernetes namespace \($0.settings.namespace)" } ?? "")
                   + Self.describe(teamSources), prefix: false)

        while true {
            var signal: Int32 = 0
            guard sigwait(&signals, &signal) == 0 else { continue }
            if signal == SIGHUP {
                // The teams file is looked at too (an edit is otherwise noticed at the next
                // decision that needs it).
                (teamSources.gitlab as? TeamsFileSource).map { _ = $0.current() }
                do {
                    application.replace(try Self.load(policyPath, teams: teamSources))
                    printError("warden serve: policy reloaded", prefix: false)
                } catch let error as FleetError {
                    printError("warden serve: reload refused, the previous policy stays in force: \(error.description)", prefix: false)
                } catch {
                    printError("warden serve: reload refused, the previous policy stays in force", prefix: false)
                }
                continue
            }
            break
        }
        printError("warden serve: stopping: no new deliveries; running agents get SIGTERM", prefix: false)
        feed.stop()
        server.stop()
        ticker.stopAndJoin()
        pruner.stopAndJoin()
        switches.stopAndJoin()
        launcher.stopAll()
        kubernetes?.stopAll()
        workers.stopAndJoin()
        unlink(state + "/listening")
        printError("warden serve: stopped", prefix: false)
    }

    /// The membership source of each forge: GitHub's API with `--github-token-file`, else the
    /// teams file; GitLab's the teams file. Each is checked now (exit 2 with the reason).
    private func teamSources(recorder: DecisionRecorder, report: @escaping @Sendable (String) -> Void) throws(FleetError) -> TeamSources {
        var sources = TeamSources()
        if let githubTokenFile {
            do {
                var settings = GitHubTeamsClient.Settings(tokenFile: HostFacts.absolute(githubTokenFile))
                if let githubApiUrl { settings.address = try GitHubAPIAddress(githubApiUrl) }
                sources.github = try GitHubTeamsClient(settings: settings)
            } catch {
                throw FleetError(error.description)
            }
        }
        if let teams {
            let forges: Set<TriggerSourceKind> = sources.github == nil ? [.github, .gitlab] : [.gitlab]
            do {
                let file = try TeamsFileSource(path: HostFacts.absolute(teams), forges: forges) { recorder.recordTeamsFile($0, report: report) }
                if sources.github == nil { sources.github = file }
                sources.gitlab = file
            } catch {
                throw FleetError(error.description)
            }
        }
        return sources
    }

    /// `; teams: github from ..., gitlab from ...` for the start-up line (empty without sources).
    static func describe(_ sources: TeamSources) -> String {
        func from(_ source: (any TeamMembershipSource)?) -> String? {
            if let api = source as? GitHubTeamsClient { return "the GitHub API at \(api.settings.address.base)" }
            if let file = source as? TeamsFileSource { return TerminalText.escape(file.path) }
            return nil
        }
        let parts = [("github", from(sources.github)), ("gitlab", from(sources.gitlab))].compactMap { f, s in s.map { "\(f) from \($0)" } }
        return parts.isEmpty ? "" : "; teams: " + parts.joined(separator: ", ")
    }

    /// Reads `--api-tokens`: a regular file of this user that no one else may read or write.
    static func loadTokens(_ path: String) throws(FleetError) -> ServeTokens {
        let what = "--api-tokens \(TerminalText.escape(path))"
        var st = stat()
        guard lstat(path, &st) == 0 else { throw FleetError("\(what): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
            throw FleetError("\(what): must be a regular file of this user that no one else can read or write (chmod 600)")
        }
        let bytes: [UInt8]
        do { bytes = try BoundedFileReader.read(path, limit: 1 << 20) } catch { throw FleetError("\(what): \(error)") }
        do { return try ServeTokens.parse(String(decoding: bytes, as: UTF8.self)) } catch { throw FleetError("\(what): \(error.description)") }
    }

    /// Loads the policy and the values of the secrets its webhook triggers name; refuses a
    /// policy whose deliveries could not be authenticated, or with a `team` entry that `teams`
    /// cannot decide (no source for its forge; a pattern for the GitHub API).
    static func load(_ path: String, teams: TeamSources) throws -> ServePolicy {
        let checked = try PolicyInput.load(path, failureCode: 2, standardInput: false)
        var secrets: [String: [UInt8]] = [:]
        for name in Set(checked.triggers.compactMap(\.secret)) {
            guard let declaration = checked.secrets[name] else { continue }
            do {
                secrets[name] = try SecretSource.resolve(SecretSourceSpec(declaration.source), secret: name, environment: HostFacts.environment())
            } catch {
                throw FleetError(error.description)
            }
        }
        let policy = ServePolicy(path: path, triggers: checked.triggers, secrets: secrets)
        let problems = policy.problems() + teams.problems(policy.triggers)
        guard problems.isEmpty else { throw FleetError(problems.joined(separator: "; ")) }
        return policy
    }
}

/// `HOST:PORT` or `[IPv6]:PORT`.
enum ServeAddress {
    static func parse(_ text: String) -> (host: String, port: Int)? {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let p = Int(port), (0...65535).contains(p), port.allSatisfy(\.isNumber) else { return nil }
        return (String(host), p)
    }
}
