/// Maps audit records to OCSF 1.3 events (one JSON object per record).
///
/// | record | class | activity |
/// |---|---|---|
/// | `run.start` | Process Activity 1007 | 1 Launch |
/// | `run.exit` | Process Activity 1007 | 2 Terminate |
/// | `deny.syscall` | Process Activity 1007 | 99 Other (`Syscall Denied`) |
/// | `net.connect` | Network Activity 4001 | 1 Open (7 Listen for `listen`) |
/// | `deny.net` | Network Activity 4001 | 5 Refuse |
/// | `deny.fs` | File System Activity 1001 | 2 Read, 3 Update, 14 Open (exec) |
/// | anything else | Base Event 0 | 99 Other |
///
/// Every event carries the record's chain position and hash (`metadata.sequence`,
/// `metadata.uid`, `unmapped.warden.hash`) and all its fields under `unmapped.warden.fields`.
public struct OCSFMapper: Sendable {
    /// The OCSF schema version the events follow.
    public static let schemaVersion = "1.3.0"
    public static let productName = "Warden"
    public static let vendorName = "Warden project"

    /// What `run.start` said about a run, for the records after it.
    struct RunContext: Sendable {
        var identity: String?
        var user: String?
        var uid: Int64?
        var host: String?
        var version: String?
    }

    private var runs: [String: RunContext] = [:]
    /// Runs remembered at most (bounded memory; older runs lose their actor/device).
    static let maxRuns = 1 << 14
    /// Host name for records whose run start was not seen.
    public var defaultHost: String?

    public init(defaultHost: String? = nil) { self.defaultHost = defaultHost }

    /// Remembers what `rec` tells about its run (call for every record, selected or not).
    public mutating func observe(_ rec: AuditRecord) {
        guard rec.kind == AuditKind.runStart else { return }
        if runs.count >= Self.maxRuns { runs.removeAll(keepingCapacity: true) }
        let f = rec.fields
        runs[rec.run] = RunContext(
            identity: f["identity"]?.stringValue, user: f["user"]?.stringValue, uid: f["uid"]?.intValue,
            host: f["host"]?.stringValue, version: f["warden_version"]?.stringValue)
    }

    /// The identity named by the run's `run.start`, when it was seen.
    public func identity(ofRun run: String) -> String? { runs[run]?.identity }

    /// The OCSF event for `rec` (whose line hashes to `hash`).
    public func event(_ rec: AuditRecord, hash: String) -> AuditValue {
        let f = rec.fields
        let ctx = runs[rec.run] ?? RunContext()
        var e: [String: AuditValue] = [:]
        var classUID: Int64 = 0
        var category: Int64 = 0
        var className = "Base Event"
        var categoryName = "Uncategorized"
        var activity: Int64 = 99
        var activityName = "Other"
        var status: Int64 = 1  // Success
        var severity: Int64 = 1  // Informational
        var message = rec.kind
        let denial = rec.kind.hasPrefix("deny.")
        if denial {
            status = 2  // Failure
            severity = 3  // Medium
            e["disposition_id"] = 2
            e["disposition"] = "Blocked"
            e["action_id"] = 2
            e["action"] = "Denied"
        }
        func str(_ k: String) -> String? { f[k]?.stringValue }
        switch rec.kind {
        case AuditKind.runStart, AuditKind.runExit, AuditKind.denySyscall:
            (classUID, category, className, categoryName) = (1007, 1, "Process Activity", "System Activity")
            var process: [String: AuditValue] = [:]
            if let pid = f["pid"]?.intValue { process["pid"] = .int(pid) }
            if rec.kind == AuditKind.runStart {
                (activity, activityName) = (1, "Launch")
                let argv = f["argv"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if let first = argv.first {
                    process["name"] = .string(String(first.split(separator: "/").last ?? Substring(first)))
                    process["file"] = ["path": .string(first), "name": .string(String(first.split(separator: "/").last ?? "")), "type_id": 1]
                }
                process["cmd_line"] = .string(argv.joined(separator: " "))
                if let w = str("workspace") { process["cwd"] = .string(w) }
                message = "agent launched as identity \(str("identity") ?? "?")"
            } else if rec.kind == AuditKind.runExit {
                (activity, activityName) = (2, "Terminate")
                if let s = f["status"]?.intValue {
                    e["exit_code"] = .int(s)
                    if s != 0 { (status, severity) = (2, 2) }
                }
                if f["signal"] != nil || f["timed_out"]?.boolValue == true { (status, severity) = (2, 2) }
                message = "agent exited" + (f["status"]?.intValue.map { " with status \($0)" } ?? "")
                    + (str("signal_name").map { " on \($0)" } ?? "")
            } else {
                (activity, activityName) = (99, "Syscall Denied")
                message = "syscall \(str("name") ?? "?") denied"
            }
            if !process.isEmpty { e["process"] = .object(process) }
        case AuditKind.netConnect, AuditKind.denyNet:
            (classUID, category, className, categoryName) = (4001, 4, "Network Activity", "Network Activity")
            if denial {
                (activity, activityName) = (5, "Refuse")
            } else {
                e["disposition_id"] = 1
                e["disposition"] = "Allowed"
                e["action_id"] = 1
                e["action"] = "Allowed"
                (activity, activityName) = str("operation") == "listen" ? (7, "Listen") : (1, "Open")
            }
            var dst: [String: AuditValue] = [:]
            if let d = str("destination") {
                if Self.looksLikeIP(d) { dst["ip"] = .string(d) } else { dst["hostname"] = .string(d) }
            }
            if let p = f["port"]?.intValue { dst["port"] = .int(p) }
            if let d = str("domain") { dst["domain"] = .string(d) }
            e["dst_endpoint"] = .object(dst)
            if let p = str("protocol") { e["connection_info"] = ["protocol_name": .string(p), "direction_id": 2, "direction": "Outbound"] }
            if let c = f["count"]?.intValue { e["count"] = .int(c) }
            message = "\(str("operation") ?? "connect") \(str("protocol") ?? "") \(str("destination") ?? "?"):\(f["port"]?.intValue.map(String.init) ?? "?") \(denial ? "denied" : "allowed")"
        case AuditKind.denyFs:
            (classUID, category, className, categoryName) = (1001, 1, "File System Activity", "System Activity")
            switch str("access") {
            case "read": (activity, activityName) = (2, "Read")
            case "write": (activity, activityName) = (3, "Update")
            case "exec": (activity, activityName) = (14, "Open")
            default: (activity, activityName) = (99, "Other")
            }
            if let p = str("path") {
                e["file"] = ["path": .string(p), "name": .string(String(p.split(separator: "/").last ?? Substring(p))), "type_id": 0]
            }
            if let c = f["count"]?.intValue { e["count"] = .int(c) }
            message = "\(str("access") ?? "access") of \(str("path") ?? "?") denied"
        default:
            break
        }
        if let c = f["count"]?.intValue, e["count"] == nil, denial { e["count"] = .int(c) }
        if let first = str("first"), let t = AuditTime(rfc3339: first) { e["start_time"] = .int(Self.millis(t)) }
        if let last = str("last"), let t = AuditTime(rfc3339: last) { e["end_time"] = .int(Self.millis(t)) }
        if let rule = str("rule") { e["status_detail"] = .string(rule) }

        e["class_uid"] = .int(classUID)
        e["class_name"] = .string(className)
        e["category_uid"] = .int(category)
        e["category_name"] = .string(categoryName)
        e["activity_id"] = .int(activity)
        e["activity_name"] = .string(activityName)
        e["type_uid"] = .int(classUID * 100 + activity)
        e["type_name"] = .string("\(className): \(activityName)")
        e["status_id"] = .int(status)
        e["status"] = .string(status == 1 ? "Success" : "Failure")
        e["severity_id"] = .int(severity)
        e["severity"] = .string(["Unknown", "Informational", "Low", "Medium", "High", "Critical"][Int(severity)])
        e["time"] = .int(AuditTime(rfc3339: rec.ts).map(Self.millis) ?? 0)
        e["message"] = .string(message)
        var product: [String: AuditValue] = ["name": .string(Self.productName), "vendor_name": .string(Self.vendorName)]
        if let v = ctx.version { product["version"] = .string(v) }
        e["metadata"] = [
            "version": .string(Self.schemaVersion),
            "product": .object(product),
            "uid": .string(hash),
            "sequence": .int(rec.seq),
            "correlation_uid": .string(rec.run),
            "original_time": .string(rec.ts),
            "log_name": "warden-audit",
        ]
        var actor: [String: AuditValue] = ["app_name": .string(Self.productName)]
        if ctx.user != nil || ctx.uid != nil {
            var user: [String: AuditValue] = [:]
            if let u = ctx.user { user["name"] = .string(u) }
            if let u = ctx.uid { user["uid"] = .string(String(u)) }
            actor["user"] = .object(user)
        }
        e["actor"] = .object(actor)
        e["device"] = ["hostname": .string(ctx.host ?? defaultHost ?? "unknown"), "type_id": 0, "type": "Unknown"]
        e["unmapped"] = [
            "warden": [
                "kind": .string(rec.kind), "run": .string(rec.run), "seq": .int(rec.seq), "hash": .string(hash),
                "prev": .string(rec.prev), "identity": ctx.identity.map(AuditValue.string) ?? .null, "fields": .object(f),
            ]
        ]
        return .object(e)
    }

    static func millis(_ t: AuditTime) -> Int64 { t.seconds * 1000 + Int64(t.nanoseconds / 1_000_000) }

    /// An IPv4 address (digits and dots) or an IPv6 one (hex digits, colons, dots).
    static func looksLikeIP(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty else { return false }
        if u.contains(UInt8(ascii: ":")) {
            return u.allSatisfy { Hex.value($0 | 0x20) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        }
        return u.allSatisfy { $0 == UInt8(ascii: ".") || $0 &- 48 < 10 }
    }
}
