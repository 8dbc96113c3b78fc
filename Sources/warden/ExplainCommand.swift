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
        Network answers are the ones the run gives: with `net` rules, loopback addresses are
        the agent's own (bind and listen need no rule; a loopback connect no rule decides is
        "DENY, except allowed to the agent's own listeners only").
        Exit status: 0 allowed, 1 denied (or allowed only to the agent's own listeners), 2
        usage or I/O error (or a policy with errors).
        """
    )

    @Argument(help: "The policy file.")
    var path: String

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

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

    func validate() throws {
        let given = [syscall != nil, !fs.isEmpty, !connect.isEmpty, !bind.isEmpty, capability != nil].filter { $0 }.count
        guard given == 1 else {
            throw ValidationError("give exactly one of --syscall, --fs, --connect, --bind, --capability")
        }
    }

    func run() throws {
        let action = try parseAction()
        let policy = try PolicyInput.load(path, failureCode: 2)
        let effective = try PolicyInput.effective(policy, identity: identity, failureCode: 2)
        let decision = effective.decide(action)
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
        printText("\(verdict): \(ExplainFormat.action(action)) for identity \(shown(effective.identity))")
        for line in ExplainFormat.reasons(decision) { printText("  " + line) }
        for line in world { printText("  " + line) }
        if !allowed { throw ExitCode(1) }
    }

    private func parseAction() throws -> TestAction {
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
