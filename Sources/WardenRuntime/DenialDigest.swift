import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy

/// The short, ranked account of what was denied in a run that failed: for each of the most
/// frequent denials, the action, the rule that decided it (or that no rule allows it), the
/// `warden explain` command that shows the decision, and a rule that would allow it (a
/// suggestion to review, never applied). Layers whose denials were not observed are named,
/// with the command to check an action by hand.
///
/// Built from the denials the log durably took (`DenialTally`), so it never shows more than
/// was recorded; printed on stderr (escaped) and recorded as `run.digest` before `run.exit`.
public struct DenialDigest: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var layer: LayerDenials.Layer
        /// `syscall unshare`, `connect tcp 10.0.0.1:9`, `write /work/.git/config`.
        public var action: String
        public var count: Int64
        /// `file:line:col: rule text`, `built-in: …`, or `no rule allows …`.
        public var decidedBy: String
        /// The exact `warden explain` command for this action; nil when explain cannot ask it.
        public var explain: String?
        /// A rule that would allow the action, or why none can; to review, never applied.
        public var suggestion: String?
    }

    public var items: [Item]
    /// Distinct denials recorded but not shown.
    public var moreDistinct: Int
    /// Recorded denial events the tally could not tell apart (its table was full).
    public var overflowEvents: Int64
    /// Layers whose denials were not observed.
    public var unobserved: [LayerDenials]

    /// How many denials the digest shows.
    public static let defaultLimit = 5

    /// - Parameter bindings: the agent's view of `${workspace}`, `${home}` and `${tmp}`: a
    ///   recorded path under one of them is explained with the variable, as policies name it.
    public init(tally: DenialTally, effective: EffectivePolicy, explain prefix: String, layers: [LayerDenials],
                bindings: PathBindings? = nil, limit: Int = DenialDigest.defaultLimit) {
        let top = tally.top(limit)
        items = top.map { Self.item($0, effective: effective, explain: prefix, bindings: bindings) }
        moreDistinct = tally.distinct - top.count
        overflowEvents = tally.overflowEvents
        unobserved = layers.filter { $0.recorded == nil || $0.partlyBecause != nil }
    }

    // MARK: - Items

    static func item(_ e: DenialTally.Entry, effective: EffectivePolicy, explain prefix: String, bindings: PathBindings?) -> Item {
        let f = e.fields
        func s(_ k: String) -> String? { f[k]?.stringValue }
        switch e.kind {
        case AuditKind.denySyscall:
            return syscallItem(name: s("name") ?? "?", args: (f["args"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(parseHex) },
                               count: e.count, effective: effective, explain: prefix)
        case AuditKind.denyNet:
            return netItem(f, count: e.count, effective: effective, explain: prefix)
        default:
            return fsItem(f, count: e.count, effective: effective, explain: prefix, bindings: bindings)
        }
    }

    static func syscallItem(name: String, args: [UInt64], count: Int64, effective: EffectivePolicy, explain prefix: String) -> Item {
        // Only the arguments some rule for this syscall tests matter to the decision.
        let used = effective.syscalls.filter { $0.syscall == name }.flatMap(\.conditions).map { $0.argument + 1 }.max() ?? 0
        let shown = Array(args.prefix(used))
        let argText = shown.map { "0x" + String($0, radix: 16) }.joined(separator: ",")
        let decision = effective.decideSyscall(name, arguments: shown)
        let action = "syscall \(name)" + (shown.isEmpty ? "" : "(\(argText))")
        let explain = prefix + " --syscall " + ShellWord.quote(name + (shown.isEmpty ? "" : ":" + argText))
        return Item(layer: .syscall, action: action, count: count, decidedBy: decidedBy(decision, default: "no rule allows syscall \(name) (default deny)"),
                    explain: explain, suggestion: suggestion(decision, allow: "allow syscall \(name) because \"…\""))
    }

    static func netItem(_ f: [String: AuditValue], count: Int64, effective: EffectivePolicy, explain prefix: String) -> Item {
        let proto = f["protocol"]?.stringValue ?? "tcp"
        let destination = f["destination"]?.stringValue ?? "?"
        let port = f["port"]?.intValue ?? 0
        let operation = f["operation"]?.stringValue ?? "connect"
        let domain = f["domain"]?.stringValue
        // explain asks connect and bind; a datagram send is decided like a connect, a listen like its bind.
        let direction = (operation == "bind" || operation == "listen") ? "bind" : "connect"
        let rule = f["rule"]?.stringValue
        if proto == "unix" {
            return Item(layer: .network, action: "\(operation) unix \(destination)", count: count,
                        decidedBy: rule ?? "the filesystem rules of the agent's world",
                        explain: prefix + " --fs write " + ShellWord.quote(destination),
                        suggestion: "suggestion: a unix socket is reached through the filesystem; grant the socket's path (fs write) if the agent needs it")
        }
        let host = destination.contains(":") ? "[\(destination)]" : destination
        let endpoint = "\(domain ?? host):\(port)"
        // Records of network mediation say how the call was decided (`decided_by`: rule,
        // default, own-loopback, built-in) and the explain arguments that reproduce it;
        // older records (or none of these fields) fall back to the rule alone.
        let how = f["decided_by"]?.stringValue ?? (rule == nil ? "default" : "rule")
        let decided = how == "default" || rule == nil
            ? (rule ?? "no rule allows \(direction) \(proto) \(endpoint) (default deny)")
            : rule!
        let suggestion: String
        switch how {
        case "default": suggestion = "suggestion: allow net \(direction) \(proto) \"\(endpoint)\""
        case "built-in": suggestion = "none: a built-in safeguard decides"
        case "own-loopback": suggestion = "none: the agent's own loopback decides (only its own listeners are reachable)"
        default: suggestion = "suggestion: the rule above decides; only removing or narrowing it allows this"
        }
        let recorded = (f["explain"]?.arrayValue ?? []).compactMap(\.stringValue)
        let explain = recorded.isEmpty
            ? prefix + " --\(direction) \(proto) " + ShellWord.quote(endpoint)
            : ([prefix] + recorded.map(ShellWord.quote)).joined(separator: " ")
        return Item(layer: .network, action: "\(operation) \(proto) \(host):\(port)" + (domain.map { " (\($0))" } ?? ""),
                    count: count, decidedBy: decided, explain: explain, suggestion: suggestion)
    }

    /// `path` written as a policy names it (see `PathBindings.policyName(of:)`).
    static func policyPath(_ path: String, bindings: PathBindings?) -> String {
        bindings?.policyName(of: path) ?? path
    }

    static func fsItem(_ f: [String: AuditValue], count: Int64, effective: EffectivePolicy, explain prefix: String,
                       bindings: PathBindings?) -> Item {
        let path = policyPath(f["path"]?.stringValue ?? "?", bindings: bindings)
        let operation = f["operation"]?.stringValue ?? "access"
        let access = f["access"]?.stringValue.flatMap(FsAccess.init(rawValue:))
        var action = "\(operation) \(path)"
        if let e = f["errno"]?.intValue { action += " (\(errnoName(Int32(truncatingIfNeeded: e))))" }
        guard let access, case .success(let policyPath) = PolicyPath.parse(path) else {
            return Item(layer: .filesystem, action: action, count: count, decidedBy: f["rule"]?.stringValue ?? "the filesystem layers",
                        explain: prefix + " --fs read|write|exec " + ShellWord.quote(path), suggestion: nil)
        }
        let decision = effective.decideFs(access, policyPath)
        var advice = suggestion(decision, allow: "allow fs \(access.rawValue) \"\(path)\"")
        // A directory on the way to granted paths (`/`, `/home`): a grant on it would cover
        // everything below it, so none is suggested.
        if decision.isDefaultDeny, effective.fs.contains(where: { $0.effect == .allow && $0.path.isWithin(policyPath) && $0.path != policyPath }) {
            advice = "none advised: \(path) is only the way to granted paths; a grant on it would cover everything below it"
        }
        return Item(layer: .filesystem, action: action, count: count,
                    decidedBy: decidedBy(decision, default: "no rule allows \(access.rawValue) \(path) (default deny)"),
                    explain: prefix + " --fs \(access.rawValue) " + ShellWord.quote(path), suggestion: advice)
    }

    static func decidedBy(_ d: Decision, default text: String) -> String {
        if d.effect == .allow {
            let rule = d.rules.first.map { $0.file == nil ? "built-in: \($0.rule)" : "\($0.location): \($0.rule)" } ?? "a rule"
            return "allowed by \(rule); refused by the kernel all the same"
        }
        guard let rule = d.rules.first else { return text }
        return rule.file == nil ? "built-in: \(rule.rule)" : "\(rule.location): \(rule.rule)"
    }

    static func suggestion(_ d: Decision, allow: String) -> String {
        if d.effect == .allow {
            return "none: the policy allows this; the kernel refused it for another reason (a rename onto a protected path, which is a read-only bind, answers EBUSY; file permissions)"
        }
        guard let rule = d.rules.first else { return "suggestion: \(allow)" }
        if rule.file == nil { return "none: a built-in safeguard decides" + (rule.because.map { " (\($0))" } ?? "") }
        return "suggestion: the deny at \(rule.location) decides; only removing or narrowing it allows this"
    }

    static func parseHex(_ s: String) -> UInt64? {
        s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
    }

    // MARK: - Output

    /// Lines for stderr, escaped for the terminal.
    public func lines(logPath: String, runID: String) -> [String] {
        var out: [String] = []
        if items.isEmpty {
            out.append("warden: the run failed; no denial was recorded")
        } else {
            out.append("warden: the run failed; denials recorded, most frequent first:")
        }
        for (i, item) in items.enumerated() {
            out.append("  \(i + 1). \(esc(item.action)) ×\(item.count): \(esc(item.decidedBy))")
            if let explain = item.explain { out.append("     explain: \(esc(explain))") }
            if let suggestion = item.suggestion { out.append("     \(esc(suggestion))") }
        }
        if moreDistinct > 0 || overflowEvents > 0 {
            var more = "  … \(moreDistinct) more distinct denial\(moreDistinct == 1 ? "" : "s")"
            if overflowEvents > 0 { more += " and \(overflowEvents) events not told apart" }
            out.append(more + ": warden audit show \(esc(ShellWord.quote(logPath))) --run \(esc(runID))")
        }
        for layer in unobserved {
            let how = layer.recorded == nil ? "not observed: \(layer.unobservedBecause ?? "")" : "partly observed: \(layer.partlyBecause ?? "")"
            out.append("  \(layer.layer.rawValue): \(esc(how)); check an action with `\(esc(layer.explainTemplate))`")
        }
        return out
    }

    private func esc(_ s: String) -> String { TerminalText.escape(s, maxScalars: 400) }

    /// The `run.digest` record.
    public var auditEvent: AuditEvent {
        let list: [AuditValue] = items.map { item in
            var o: [String: AuditValue] = [
                "layer": .string(item.layer.rawValue), "action": .string(item.action), "count": .int(item.count),
                "decided_by": .string(item.decidedBy),
            ]
            if let e = item.explain { o["explain"] = .string(e) }
            if let s = item.suggestion { o["suggestion"] = .string(s) }
            return .object(o)
        }
        var unobservedFields: [String: AuditValue] = [:]
        for layer in unobserved {
            unobservedFields[layer.layer.rawValue] = .object([
                "reason": .string(layer.unobservedBecause ?? layer.partlyBecause ?? ""), "explain": .string(layer.explainTemplate),
                "partly": .bool(layer.recorded != nil),
            ])
        }
        return AuditEvent(kind: AuditKind.runDigest, fields: [
            "denials": .array(list), "more_distinct": .int(Int64(moreDistinct)), "overflow_events": .int(overflowEvents),
            "unobserved": .object(unobservedFields),
        ])
    }
}
