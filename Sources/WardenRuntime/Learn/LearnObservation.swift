import WardenAudit
import WardenPolicy

/// One thing a run in observing mode did that its policy would not allow, read from the
/// run's audit records (`learn.fs`, `learn.dns`, `deny.fs`, `deny.net`, `deny.syscall`).
/// Every text in it comes from the agent: it is shown escaped and written into a policy
/// only after `PolicyText` accepts it.
public enum LearnObservation: Sendable, Hashable {
    /// A file access: the agent's absolute path, the policy path when the record gives it
    /// (`policy_path`), the access kind, the syscall and program first seen, how many times.
    case fs(FsObservation)
    /// A network operation no rule allowed.
    case net(NetObservation)
    /// A DNS lookup of a name no rule allows (answered in observing mode).
    case lookup(name: String, count: Int64)
    /// A syscall no rule allowed, with its first arguments.
    case syscall(name: String, arguments: [UInt64], count: Int64)
    /// Distinct file accesses the runtime could not keep (its table was full).
    case overflow(count: Int64)
}

public struct FsObservation: Sendable, Hashable {
    public var path: String
    public var policyPath: String?
    public var access: FsAccess
    public var count: Int64
    public var program: String?
    public var syscall: String?

    public init(path: String, policyPath: String? = nil, access: FsAccess, count: Int64 = 1, program: String? = nil, syscall: String? = nil) {
        self.path = path
        self.policyPath = policyPath
        self.access = access
        self.count = count
        self.program = program
        self.syscall = syscall
    }
}

public struct NetObservation: Sendable, Hashable {
    public var direction: NetDirection
    public var proto: NetProtocol
    /// The address as recorded (`10.0.0.8`, `2001:db8::1`).
    public var address: String
    public var port: Int64
    /// The name the agent looked up for the address, when known.
    public var name: String?
    /// How the denial was decided (`default`, `rule`, `built-in`, `own-loopback`); only a
    /// default deny can be lifted by adding a rule.
    public var decidedBy: String
    public var count: Int64

    public init(direction: NetDirection, proto: NetProtocol, address: String, port: Int64, name: String? = nil,
                decidedBy: String = "default", count: Int64 = 1) {
        self.direction = direction
        self.proto = proto
        self.address = address
        self.port = port
        self.name = name
        self.decidedBy = decidedBy
        self.count = count
    }
}

/// Record kinds of observing mode (written by the runtime, read here).
public enum LearnKind {
    public static let fs = "learn.fs"
    public static let dns = "learn.dns"
    public static let overflow = "learn.overflow"
}

extension LearnObservation {
    /// The observations in a run's records, in record order; records of other kinds (and
    /// malformed ones: a missing path, an unknown access) are skipped.
    public static func from(records: [AuditRecord]) -> [LearnObservation] {
        records.compactMap { from(kind: $0.kind, fields: $0.fields) }
    }

    /// One record's observation, or nil when the record is of another kind or malformed.
    public static func from(kind: String, fields f: [String: AuditValue]) -> LearnObservation? {
        func s(_ k: String) -> String? { f[k]?.stringValue }
        let count = max(1, f["count"]?.intValue ?? 1)
        switch kind {
        case LearnKind.fs, AuditKind.denyFs:
            // Landlock's deny.fs records name the access when it is known; without it the
            // record cannot say what to grant.
            guard let path = s("path"), path.hasPrefix("/"), let access = s("access").flatMap(FsAccess.init(rawValue:)) else { return nil }
            return .fs(FsObservation(path: path, policyPath: s("policy_path"), access: access, count: count,
                                     program: s("program") ?? s("comm"), syscall: s("syscall") ?? s("operation")))
        case LearnKind.dns:
            guard let name = s("name"), !name.isEmpty else { return nil }
            return .lookup(name: name, count: count)
        case LearnKind.overflow:
            return .overflow(count: count)
        case AuditKind.denyNet:
            guard let address = s("destination"), let port = f["port"]?.intValue,
                  let proto = NetProtocol(rawValue: s("protocol") ?? "tcp") else { return nil }
            let operation = s("operation") ?? s("direction") ?? "connect"
            let direction: NetDirection = (operation == "bind" || operation == "listen") ? .bind : .connect
            let decided = s("decided_by") ?? (s("rule") == nil ? "default" : "rule")
            return .net(NetObservation(direction: direction, proto: proto, address: address, port: port,
                                       name: s("domain") ?? s("name"), decidedBy: decided, count: count))
        case AuditKind.denySyscall:
            guard let name = s("name") else { return nil }
            let args = (f["args"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Self.parseArgument) }
            return .syscall(name: name, arguments: args, count: count)
        default:
            return nil
        }
    }

    static func parseArgument(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}
