import ArgumentParser
import WardenCompiler
import WardenKernel
import WardenPolicy

/// `warden explain`: which rule decides one action, and which mechanism enforces it.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say whether an action is allowed, which rule decides it, and what enforces it.",
        discussion: """
        Examples:
          warden explain policies/default.warden --syscall ptrace
          warden explain policies/default.warden --syscall socket:AF_INET,SOCK_STREAM
          warden explain policies/default.warden --fs write '${workspace}/.git/hooks/pre-commit'
          warden explain policies/default.warden --connect tcp example.com:443
          warden explain policies/default.warden --bind tcp 127.0.0.1:0
          warden explain policies/github-pr-author.warden --https POST https://api.github.com/repos/acme/app/pulls
          warden explain policies/github-pr-author.warden --git-push github.com/acme/app refs/heads/main
          warden explain policies/triggers.warden --trigger github pull_request opened acme/app by alice
          warden explain policies/triggers.warden --trigger manual audit-by-hand by alice group devs
        --trigger asks whether an event may start an agent (launch authorization): it takes
        the words of `expect allow trigger ...` without quotes, answers for every identity
        (or, with --identity, for that one) and names the deciding trigger and line.
        Network answers are the ones the run gives: with `net` rules, loopback addresses are
        the agent's own (bind and listen need no rule; a loopback connect no rule decides is
        "DENY, except allowed to the agent's own listeners only").
        --format json prints one JSON document (see docs/lint.md, "explain as JSON").
        A policy on standard input (`-`) has its includes resolved relative to the
        current directory. Exit status: 0 allowed, 1 denied (or allowed only to the agent's own listeners), 2
        usage or I/O error (or a policy with errors).
        """
    )

    @Argument(help: "The policy file (`-`: standard input; its includes resolve relative to the current directory).")
    var path: String

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

    @Option(help: "Output format: text, or json (one document: verdict, the decision with its rules' file:line, mechanism, note).")
    var format: Format = .text

    @Option(help: "A syscall, optionally with argument values: NAME or NAME:V0,V1,... (integers or constants).")
    var syscall: String?

    @Option(parsing: .upToNextOption, help: "A file access: read|write|exec PATH.")
    var fs: [String] = []

    @Option(parsing: .upToNextOption, help: "A connection: tcp|udp HOST:PORT.")
    var connect: [String] = []

    @Option(parsing: .upToNextOption, help: "A bind: tcp|udp HOST:PORT.")
    var bind: [String] = []

    @Option(help: "A capability, with or without CAP_.")
    var capability: String?

    @Option(parsing: .upToNextOption, help: "An HTTP request through the broker: METHOD URL (http:// or https://; the URL's scheme decides).")
    var https: [String] = []

    @Option(name: .customLong("git-push"), parsing: .upToNextOption, help: "A git push of one ref: HOST/REPO REF (github.com/acme/app refs/heads/main).")
    var gitPush: [String] = []

    @Option(parsing: .upToNextOption, help: "An event asking to start triggers: SOURCE ... as after `expect allow trigger` (github pull_request opened acme/app by alice).")
    var trigger: [String] = []

    func validate() throws {
        let given = [syscall != nil, !fs.isEmpty, !connect.isEmpty, !bind.isEmpty, capability != nil, !https.isEmpty, !gitPush.isEmpty, !trigger.isEmpty]
            .filter { $0 }.count
        guard given == 1 else {
            throw ValidationError("give exactly one of --syscall, --fs, --connect, --bind, --capability, --https, --git-push, --trigger")
        }
    }

    func run() throws {
        if !trigger.isEmpty { return try explainTrigger() }
        let action = try parseAction()
        let policy = try PolicyInput.load(path, failureCode: 2)
        let effective = try PolicyInput.effective(policy, identity: identity, failureCode: 2)
        var decision = effective.decide(action)
        var injected: [String] = []
        if case .http(let method, let url) = action {
            let http = effective.decideHTTP(HTTPTarget(method: method, url: url))
            decision = http.decision
            injected = ExplainFormat.injections(http)
        }
        // For a file access, the verdict is what the agent's world answers (the same as the
        // rules' except where a deeper grant's mount is stricter than a rule higher up).
        var allowed = decision.effect == .allow
        var world: [String] = []
        if case .fs(let access, let path) = action {
            let answer = effective.worldAnswer(access, path)
            allowed = answer.allowed
            world.append("agent's world: \(shown(answer.statement))")
            if !answer.allowed {
                let layer = answer.layer == .landlock ? "Landlock" : "the mount layer"
                world.append("refused by: \(layer)" + (answer.errno.map { ", the agent gets \($0)" } ?? ", the agent sees an empty stand-in"))
            }
            if answer.allowed != (decision.effect == .allow) {
                world.append("note: the rules alone would \(decision.effect == .allow ? "allow" : "deny") it; the run's mounts decide")
            }
            world += effective.worldNotes(path).map { "note: " + shown($0) }
        }
        let verdict = allowed ? "ALLOW" : decision.condition.map { "DENY, except \($0)" } ?? "DENY"
        if format == .json {
            print(ExplainJSON.render(action: action, identity: effective.identity, allowed: allowed, decision: decision,
                                     injected: injected, world: world))
            if !allowed { throw ExitCode(1) }
            return
        }
        printText("\(verdict): \(ExplainFormat.action(action)) for identity \(shown(effective.identity))")
        for line in ExplainFormat.reasons(decision) { printText("  " + line) }
        for line in injected { printText("  " + line) }
        for line in world { printText("  " + line) }
        if !allowed { throw ExitCode(1) }
    }

    private func parseAction() throws -> TestAction {
        if !https.isEmpty {
            guard https.count == 2 else { throw ValidationError("--https takes a method and a URL, e.g. --https GET https://api.github.com/user") }
            let method = https[0]
            guard !method.isEmpty, method.utf8.count <= 32, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw ValidationError("`\(shown(method))` is not an HTTP method (uppercase letters, such as GET)")
            }
            switch HTTPURL.parse(https[1]) {
            case .success(let url): return .http(method: method, url: url)
            case .failure(let e): throw ValidationError(shown(e.message))
            }
        }
        if !gitPush.isEmpty {
            guard gitPush.count == 2 else { throw ValidationError("--git-push takes a repository and a ref, e.g. --git-push github.com/acme/app refs/heads/main") }
            let repo: GitRepoPattern
            switch GitRepoPattern.parse(gitPush[0]) {
            case .success(let r): repo = r
            case .failure(let e): throw ValidationError(shown(e.message))
            }
            guard RefName.isValid(gitPush[1]) else { throw ValidationError("`\(shown(gitPush[1]))` is not a full ref name such as refs/heads/main") }
            let host: String
            if case .ipv6(let n) = repo.host { host = n.description } else { host = repo.host.description }
            return .gitPush(host: host, port: repo.effectivePort, repoPath: repo.path, ref: gitPush[1])
        }
        if let syscall {
            let parts = syscall.split(separator: ":", maxSplits: 1).map(String.init)
            let name = parts.first ?? ""
            guard SyscallTable.isKnown(name) else {
                throw ValidationError("unknown syscall `\(name)`")
            }
            var args: [UInt64]?
            if parts.count == 2 {
                args = try parts[1].split(separator: ",").map { try value(String($0)) }
                guard (args?.count ?? 0) <= 6 else { throw ValidationError("a syscall has at most 6 arguments") }
            }
            return .syscall(name, arguments: args)
        }
        if !fs.isEmpty {
            guard fs.count == 2, let access = FsAccess(rawValue: fs[0]) else {
                throw ValidationError("--fs takes an access kind (read, write or exec) and a path")
            }
            switch PolicyPath.parse(fs[1]) {
            case .success(let p): return .fs(access, p)
            case .failure(let e): throw ValidationError("\(e.message)\(e.help.map { "; \($0)" } ?? "")")
            }
        }
        if !connect.isEmpty || !bind.isEmpty {
            let words = connect.isEmpty ? bind : connect
            let direction: NetDirection = connect.isEmpty ? .bind : .connect
            guard words.count == 2, let proto = NetProtocol(rawValue: words[0]) else {
                throw ValidationError("--\(direction.rawValue) takes a protocol (tcp or udp) and HOST:PORT")
            }
            switch Endpoint.parse(words[1]) {
            case .success(let e) where e.isConcrete: return .net(direction, proto, e)
            case .success: throw ValidationError("give one host and one port, e.g. example.com:443")
            case .failure(let e): throw ValidationError("\(e.message)\(e.help.map { "; \($0)" } ?? "")")
            }
        }
        let cap = capability ?? ""
        guard let canonical = Capabilities.canonicalName(cap) else {
            throw ValidationError("unknown capability `\(cap)`")
        }
        return .capability(canonical)
    }

    /// An integer literal, a named constant, or several joined by `|`.
    private func value(_ text: String) throws -> UInt64 {
        var result: UInt64 = 0
        for term in text.split(separator: "|") {
            let t = String(term).trimmingCharacters(in: " ")
            if let c = NamedConstants.value(of: t) { result |= c; continue }
            switch IntegerLiteral.parse(t) {
            case .success(let v): result |= v
            case .failure: throw ValidationError("`\(t)` is neither a number nor a known constant")
            }
        }
        return result
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}

extension ExplainCommand {
    /// `--trigger WORDS...`: the launch-authorization decision for one event.
    func explainTrigger() throws {
        let words = trigger.flatMap { $0.split(separator: ",").map(String.init) }
        let event: TriggerEvent
        switch TriggerEventSyntax.parse(words) {
        case .success(let e): event = e
        case .failure(let p):
            throw ValidationError("--trigger: \(shown(p.message))" + (p.help.map { "; \(shown($0))" } ?? ""))
        }
        let policy = try PolicyInput.load(path, failureCode: 2)
        if let identity, policy.identities[identity] == nil {
            printError("unknown identity `\(shown(identity))`")
            throw ExitCode(2)
        }
        let authorizer = TriggerAuthorizer(policy: policy)
        let decision = authorizer.decision(event, identity: identity)
        let launches = authorizer.decide(event).launches.filter { identity == nil || $0.identity == identity }
        let allowed = decision.effect == .allow
        let action = TestAction.trigger(event)
        if format == .json {
            print(ExplainJSON.renderTrigger(action: action, identity: identity, allowed: allowed, decision: decision, launches: launches))
        } else {
            printText("\(allowed ? "ALLOW" : "DENY"): \(ExplainFormat.action(action))" + (identity.map { " for identity \(shown($0))" } ?? ""))
            for line in ExplainFormat.reasons(decision) { printText("  " + line) }
            for l in launches {
                printText("  launches: trigger \(shown(l.trigger)) as identity \(shown(l.identity)): run \(shown(l.run.map { "\"\($0)\"" }.joined(separator: " "))) in workspace \(shown(l.workspace.description))"
                          + (l.fleet.map { " of each repository of fleet list \(shown($0))" } ?? ""))
            }
        }
        if !allowed { throw ExitCode(1) }
    }
}
