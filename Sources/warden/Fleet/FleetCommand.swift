import ArgumentParser
import WardenAudit
import WardenKernel
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `warden fleet`: one task over many repositories, each in a fresh workspace under the
/// same policy, with a concurrency cap, resumable, with an aggregated result.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Run one command over many repositories, each in a fresh workspace under the policy.",
        discussion: """
        Example:
          warden fleet --policy default --repos repos.txt --concurrency 8 -- make test

        The list has one repository per line: a local path (a git repository is cloned, a \
        plain directory copied) or a git URL (https, ssh, git, file, or user@host:path); blank \
        lines and # comments are skipped. Each repository gets a fresh workspace in the fleet's \
        directory and one `warden run`, whose audit records carry the fleet id (`warden audit \
        show --fleet ID`). Workspaces are kept for review; nothing is pushed or merged.

        Exit status: 0 when every run exited 0; 1 when any failed, could not run, or the fleet \
        was interrupted (`--resume ID` runs what is left); 2 usage or setup error.
        """
    )

    @Option(help: "The policy file, or a stock policy's name.", transform: StockPolicies.resolve(policyArgument:))
    var policy: String?

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

    @Option(help: "The repository list: one local path or git URL per line (`-` for standard input).")
    var repos: String?

    @Option(help: "Runs at a time (1-\(FleetLimits.maxConcurrency)).")
    var concurrency: Int = 4

    @Option(help: "Each run's wall-clock limit, e.g. 90s, 30m, 1h30m.")
    var timeout: String?

    @Option(help: "The audit log every run writes to (default: as for `warden run`).")
    var auditLog: String?

    @Option(help: "Where fleets keep their state, workspaces and outputs (default: $WARDEN_FLEET_DIR, else fleets in $WARDEN_STATE_DIR, /var/lib/warden for root, $XDG_STATE_HOME/warden otherwise).")
    var stateDir: String?

    @Option(help: "Go on with an interrupted fleet: run the repositories that have no result yet.")
    var resume: String?

    @Option(help: "The result's format: text, json or markdown.")
    var format: FleetReport.Format = .text

    @Flag(name: .shortAndLong, help: "No progress lines on standard error.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
    var command: [String] = []

    func validate() throws {
        guard (1...FleetLimits.maxConcurrency).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and \(FleetLimits.maxConcurrency)")
        }
        if let resume {
            guard FleetMembership.isValidID(resume) else { throw ValidationError("--resume: a fleet id is 16 lowercase hex digits") }
            if policy != nil || repos != nil || identity != nil || !command.isEmpty || timeout != nil || auditLog != nil {
                throw ValidationError("--resume takes the fleet's own policy, list, command and options; give only --concurrency, --format, --state-dir, --quiet")
            }
            return
        }
        guard policy != nil else { throw ValidationError("give the policy: --policy FILE") }
        guard repos != nil else { throw ValidationError("give the repository list: --repos FILE") }
        if command.isEmpty { throw ValidationError("give the command to run after `--`") }
        if policy == "-" { throw ValidationError("--policy: standard input cannot be the policy here; give a file") }
        if repos == "" { throw ValidationError("--repos: the path is empty") }
        if stateDir == "" { throw ValidationError("--state-dir: the path is empty") }
        if auditLog == "" { throw ValidationError("--audit-log: the path is empty") }
        if let timeout { _ = try RunOptions.duration(timeout, flag: "--timeout") }
    }

    func run() throws {
        let root = stateDir.map(HostFacts.absolute) ?? FleetState.defaultRoot()
        do {
            let (state, repositories) = try resume.map { try resumed($0, root: root) } ?? created(root: root)
            let directory = FleetState.directory(stateRoot: root, id: state.id)
            guard let warden = StockPolicies.currentExecutable() else { throw FleetError("cannot find Warden's own binary (/proc/self/exe)") }
            setenv("GIT_TERMINAL_PROMPT", "0", 1)
            let runner = FleetRunner(directory: directory, state: state, repositories: repositories, wardenPath: warden,
                                     progress: FleetProgress(fleetID: state.id, quiet: quiet))
            let (final, signal) = try runner.run()
            print(FleetReport.render(final, directory: directory, format: format), terminator: "")
            if signal != 0 { printError("interrupted; `warden fleet --resume \(final.id)` runs what is left", prefix: false) }
            throw ExitCode(final.runs.allSatisfy(\.succeeded) ? 0 : 1)
        } catch let error as FleetError {
            printError(error.description)
            throw ExitCode(2)
        }
    }

    /// A new fleet: the policy checked, the list read, the state created.
    private func created(root: String) throws -> (FleetState, [FleetRepository]) {
        guard let policy, let repos else { throw FleetError("missing --policy or --repos") }
        let checked = try PolicyInput.load(policy, failureCode: 2, standardInput: false)
        let effective = try PolicyInput.effective(checked, identity: identity, failureCode: 2)
        let text: [UInt8]
        do { text = try repos == "-" ? BoundedFileReader.readAll(0, limit: FleetRepositoryList.maxBytes) : BoundedFileReader.read(repos, limit: FleetRepositoryList.maxBytes) } catch {
            throw FleetError("--repos \(shown(repos)): \(error)")
        }
        let repositories: [FleetRepository]
        do { repositories = try FleetRepositoryList.parse(String(decoding: text, as: UTF8.self), baseDirectory: HostFacts.currentDirectory()) } catch {
            throw FleetError("--repos \(shown(repos)): \(error.description)")
        }
        let state = FleetState(id: AuditRun.newRunID(), policy: HostFacts.absolute(policy), identity: effective.identity, command: command,
                               timeout: timeout, auditLog: auditLog.map(HostFacts.absolute), concurrency: concurrency,
                               runs: repositories.map { FleetRunRecord(repository: $0.name, source: $0.location) })
        let directory = FleetState.directory(stateRoot: root, id: state.id)
        try WardenState.makeDirectories(root)
        guard mkdir(directory, 0o700) == 0, mkdir(directory + "/runs", 0o700) == 0 else {
            throw FleetError("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        try state.save(directory: directory)
        return (state, repositories)
    }

    /// An interrupted fleet, from its state.
    private func resumed(_ id: String, root: String) throws(FleetError) -> (FleetState, [FleetRepository]) {
        let directory = FleetState.directory(stateRoot: root, id: id)
        var state = try FleetState.load(directory: directory)
        guard state.id == id else { throw FleetError("\(directory)/fleet.json names another fleet") }
        state.concurrency = concurrency
        var repositories: [FleetRepository] = []
        for (i, record) in state.runs.enumerated() {
            do {
                let parsed = try FleetRepositoryList.parse(record.source, baseDirectory: "/")
                repositories.append(FleetRepository(name: record.repository, source: parsed[0].source, line: i + 1))
            } catch {
                throw FleetError("\(directory)/fleet.json: run \(i + 1): \(error.description)")
            }
        }
        return (state, repositories)
    }
}

extension FleetReport.Format: ExpressibleByArgument {}
