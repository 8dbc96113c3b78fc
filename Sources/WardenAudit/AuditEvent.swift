/// Well-known record kinds.
public enum AuditKind {
    public static let runStart = "run.start"
    public static let runExit = "run.exit"
    public static let denySyscall = "deny.syscall"
    public static let netConnect = "net.connect"
    public static let denyNet = "deny.net"
    /// A filesystem denial the supervisor observed (Landlock's kernel audit records).
    public static let denyFs = "deny.fs"
    /// The ranked digest of a failed run's denials, written before `run.exit`.
    public static let runDigest = "run.digest"
    /// A request the credential broker forwarded (its status, bytes, the secret names used).
    public static let httpRequest = "http.request"
    /// A request or connection the credential broker refused, with the reason.
    public static let httpRefused = "http.refused"
    /// A secret's placeholder sent where the secret is not bound (refused).
    public static let httpExfiltration = "http.exfiltration"
    /// The run's identity token was issued (never the token itself).
    public static let identityToken = "identity.token"
    /// A trigger's launch decision (`warden trigger`, `warden serve`): allowed or refused.
    public static let triggerAllow = "trigger.allow"
    public static let triggerRefuse = "trigger.refuse"
    /// `warden serve`'s teams file changed: the edit put in force, or refused (the previous
    /// version stays in force).
    public static let serveTeamsFile = "serve.teams_file"
    /// An operator set or cleared `warden serve`'s switch for an identity (or `*`: all).
    public static let serveKillSwitch = "serve.kill_switch"
    /// `warden serve` deleted the queue rows and directories of runs that ended long ago.
    public static let servePrune = "serve.prune"
    public static let checkpoint = "checkpoint"
    public static let recovery = "recovery"
    /// Written by the next writer for a run that ended without `run.exit`.
    public static let interrupted = "interrupted"
    /// Written when the wall clock stepped backwards since the previous record.
    public static let clock = "clock"

    /// Kinds only the writer itself produces.
    public static let reserved: Set<String> = [checkpoint, recovery, interrupted, clock]
}

/// A record before it is placed in the log. The writer assigns seq, prev and ts (the time
/// of writing, never earlier than the record before it unless a `clock` record says why);
/// when something happened belongs in the fields (e.g. `first`, `last`).
public struct AuditEvent: Sendable, Equatable {
    public var kind: String
    public var fields: [String: AuditValue]

    /// A record of any kind. `kind` must be 1–64 of `a-z 0-9 . _ -`; the kinds in
    /// `AuditKind.reserved` are the writer's own.
    public init(kind: String, fields: [String: AuditValue]) {
        self.kind = kind
        self.fields = fields
    }
}

/// What `run.start` records.
public struct RunStartInfo: Sendable, Equatable {
    public var identity: String
    public var policySHA256: String
    public var planSHA256: String
    public var argv: [String]
    public var workspace: String
    public var user: String
    public var uid: Int64
    public var host: String
    public var wardenVersion: String
    /// Layers applied (e.g. "seccomp", "landlock", "capabilities", "namespaces", "rlimits").
    public var enforcedLayers: [String]
    /// Layers skipped because of `--best-effort` (empty otherwise).
    public var skippedLayers: [String]
    /// Layers whose denials the supervisor cannot observe (e.g. "landlock", "capabilities").
    public var unobservedLayers: [String]
    /// Anything else worth keeping (policy path, best-effort flag, limits...).
    public var extra: [String: AuditValue]

    public init(
        identity: String, policySHA256: String, planSHA256: String, argv: [String], workspace: String,
        user: String, uid: Int64, host: String, wardenVersion: String, enforcedLayers: [String],
        skippedLayers: [String] = [], unobservedLayers: [String] = [], extra: [String: AuditValue] = [:]
    ) {
        self.identity = identity
        self.policySHA256 = policySHA256
        self.planSHA256 = planSHA256
        self.argv = argv
        self.workspace = workspace
        self.user = user
        self.uid = uid
        self.host = host
        self.wardenVersion = wardenVersion
        self.enforcedLayers = enforcedLayers
        self.skippedLayers = skippedLayers
        self.unobservedLayers = unobservedLayers
        self.extra = extra
    }
}

/// What `run.exit` records.
public struct RunExitInfo: Sendable, Equatable {
    /// Exit status when the agent exited normally.
    public var status: Int32?
    /// Terminating signal number when it was killed.
    public var signal: Int32?
    /// Wall time of the run in milliseconds; nil lets `AuditRun` measure it.
    public var durationMilliseconds: Int64?
    public var timedOut: Bool
    /// Denial counts by kind; nil lets `AuditRun` fill in what its aggregator saw.
    public var denials: [String: Int64]?
    public var extra: [String: AuditValue]

    public init(
        status: Int32? = nil, signal: Int32? = nil, durationMilliseconds: Int64? = nil, timedOut: Bool = false,
        denials: [String: Int64]? = nil, extra: [String: AuditValue] = [:]
    ) {
        self.status = status
        self.signal = signal
        self.durationMilliseconds = durationMilliseconds
        self.timedOut = timedOut
        self.denials = denials
        self.extra = extra
    }
}

extension AuditEvent {
    /// `run.start`.
    public static func runStart(_ i: RunStartInfo) -> AuditEvent {
        var f = i.extra
        f["identity"] = .string(i.identity)
        f["policy_sha256"] = .string(i.policySHA256)
        f["plan_sha256"] = .string(i.planSHA256)
        f["argv"] = .strings(i.argv)
        f["workspace"] = .string(i.workspace)
        f["user"] = .string(i.user)
        f["uid"] = .int(i.uid)
        f["host"] = .string(i.host)
        f["warden_version"] = .string(i.wardenVersion)
        f["layers_enforced"] = .strings(i.enforcedLayers)
        f["layers_skipped"] = .strings(i.skippedLayers)
        f["layers_unobserved"] = .strings(i.unobservedLayers)
        return AuditEvent(kind: AuditKind.runStart, fields: f)
    }

    /// `run.exit`.
    public static func runExit(_ i: RunExitInfo) -> AuditEvent {
        var f = i.extra
        if let s = i.status { f["status"] = .int(Int64(s)) }
        if let s = i.signal {
            f["signal"] = .int(Int64(s))
            if let name = SignalNames.name(s) { f["signal_name"] = .string(name) }
        }
        if let d = i.durationMilliseconds { f["duration_ms"] = .int(d) }
        f["timed_out"] = .bool(i.timedOut)
        var counts: [String: AuditValue] = [:]
        for (k, v) in i.denials ?? [:] { counts[k] = .int(v) }
        f["denials"] = .object(counts)
        return AuditEvent(kind: AuditKind.runExit, fields: f)
    }

    /// One (possibly aggregated) `deny.syscall` record. Arguments are hex strings because
    /// raw 64-bit register values do not fit JSON integers safely.
    public static func denySyscall(
        name: String, nr: Int32, args: [UInt64], pid: Int32, count: Int64 = 1, first: AuditTime, last: AuditTime,
        errno: Int32? = nil, rule: String? = nil
    ) -> AuditEvent {
        var f: [String: AuditValue] = [
            "name": .string(name), "nr": .int(Int64(nr)), "args": .array(args.map { .string(hexArg($0)) }),
            "pid": .int(Int64(pid)), "count": .int(count), "first": .string(first.rfc3339),
            "last": .string(last.rfc3339),
        ]
        if let e = errno { f["errno"] = .int(Int64(e)) }
        if let r = rule { f["rule"] = .string(r) }
        return AuditEvent(kind: AuditKind.denySyscall, fields: f)
    }

    /// `net.connect` (allowed) or `deny.net` (denied) with aggregation count.
    public static func network(
        denied: Bool, destination: String, port: Int32, proto: String, domain: String?, pid: Int32,
        rule: String?, count: Int64 = 1, first: AuditTime, last: AuditTime, detail: NetworkDetail? = nil
    ) -> AuditEvent {
        var f: [String: AuditValue] = [
            "destination": .string(destination), "port": .int(Int64(port)), "protocol": .string(proto),
            "pid": .int(Int64(pid)), "count": .int(count), "first": .string(first.rfc3339),
            "last": .string(last.rfc3339),
        ]
        if let d = domain { f["domain"] = .string(d) }
        if let r = rule { f["rule"] = .string(r) }
        detail?.apply(to: &f)
        return AuditEvent(kind: denied ? AuditKind.denyNet : AuditKind.netConnect, fields: f)
    }

    /// One (possibly aggregated) `deny.fs` record: `operation` is what the kernel refused
    /// (Landlock's blocker, e.g. `fs.write_file`, or a syscall name), `access` the policy's
    /// access kind (read, write, exec) when known.
    public static func denyFs(
        path: String, operation: String, access: String?, errno: Int32?, pid: Int32, rule: String?, source: String,
        count: Int64 = 1, first: AuditTime, last: AuditTime
    ) -> AuditEvent {
        var f: [String: AuditValue] = [
            "path": .string(path), "operation": .string(operation), "pid": .int(Int64(pid)), "count": .int(count),
            "first": .string(first.rfc3339), "last": .string(last.rfc3339), "source": .string(source),
        ]
        if let access { f["access"] = .string(access) }
        if let errno { f["errno"] = .int(Int64(errno)) }
        if let rule { f["rule"] = .string(rule) }
        return AuditEvent(kind: AuditKind.denyFs, fields: f)
    }

    static func hexArg(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}

enum SignalNames {
    static func name(_ s: Int32) -> String? {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
            24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
        ]
        return names[s]
    }
}
