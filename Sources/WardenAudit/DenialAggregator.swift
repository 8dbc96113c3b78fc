/// Folds repeated denials into counted records.
///
/// Repeats of the same key within a window become one record with `count`, `first` and
/// `last`. Syscall denials are keyed by syscall number; network events by (allowed/denied,
/// destination, port, protocol). A window closes when `windowNanos` of event time has passed
/// since it opened, when `maxKeys` distinct keys are pending or when `maxEvents` events were
/// counted in it; `drain()` then yields the records. So N identical denials produce at most one record per window, with the true total.
/// Cost per event: one dictionary lookup; no allocation for a repeat. Not thread-safe.
public struct DenialAggregator: Sendable {
    public let windowNanos: Int64
    public let maxKeys: Int
    public let maxEvents: Int

    struct SyscallEntry {
        var name: String
        var args: [UInt64]
        var pid: Int32
        var errno: Int32?
        var rule: String?
        var count: Int64
        var first: AuditTime
        var last: AuditTime
    }

    struct NetKey: Hashable {
        var denied: Bool
        var destination: String
        var port: Int32
        var proto: String
        var detail: NetworkDetail?
    }

    struct NetEntry {
        var domain: String?
        var pid: Int32
        var rule: String?
        var count: Int64
        var first: AuditTime
        var last: AuditTime
    }

    /// Pending syscall denials by number and deciding rule (one call refused by different
    /// rules, e.g. setsockopt for SO_REUSEPORT and for SO_REUSEADDR, stays apart).
    private var syscalls: [SyscallKey: SyscallEntry] = [:]
    private var syscallOrder: [SyscallKey] = []

    struct SyscallKey: Hashable {
        var nr: Int32
        var rule: String?
    }
    private var nets: [NetKey: NetEntry] = [:]
    private var netOrder: [NetKey] = []
    struct FsKey: Hashable {
        var path: String
        var operation: String
        var errno: Int32?
    }

    struct FsEntry {
        var access: String?
        var pid: Int32
        var rule: String?
        var source: String
        var count: Int64
        var first: AuditTime
        var last: AuditTime
    }

    private var fsDenials: [FsKey: FsEntry] = [:]
    private var fsOrder: [FsKey] = []
    private var windowStart: AuditTime?
    private var windowEvents = 0
    /// Total events seen per record kind over the aggregator's life.
    public private(set) var totals: [String: Int64] = [:]

    public init(windowNanos: Int64 = 5_000_000_000, maxKeys: Int = 1024, maxEvents: Int = .max) {
        self.windowNanos = max(windowNanos, 0)
        self.maxKeys = max(maxKeys, 1)
        self.maxEvents = max(maxEvents, 1)
    }

    /// When the open window started (its first event); nil when nothing is pending.
    public var pendingSince: AuditTime? { windowStart }

    /// Number of pending keys.
    public var pendingKeys: Int { syscalls.count + nets.count + fsDenials.count }

    /// True when the window should be drained (time passed, table full or event limit).
    public func isDue(at now: AuditTime) -> Bool {
        guard let start = windowStart else { return false }
        return pendingKeys >= maxKeys || windowEvents >= maxEvents || start.nanoseconds(until: now) >= windowNanos
    }

    /// Counts a denied syscall. Returns true when `drain()` is due.
    public mutating func addSyscall(
        nr: Int32, name: String, args: [UInt64], pid: Int32, errno: Int32? = nil, rule: String? = nil, at: AuditTime
    ) -> Bool {
        totals[AuditKind.denySyscall, default: 0] &+= 1
        windowEvents &+= 1
        if windowStart == nil { windowStart = at }
        let key = SyscallKey(nr: nr, rule: rule)
        if syscalls[key] != nil {
            syscalls[key]!.count &+= 1
            syscalls[key]!.last = at
        } else {
            syscalls[key] = SyscallEntry(
                name: name, args: args, pid: pid, errno: errno, rule: rule, count: 1, first: at, last: at)
            syscallOrder.append(key)
        }
        return isDue(at: at)
    }

    /// Counts a network event (allowed `net.connect` or `deny.net`). Returns true when due.
    public mutating func addNetwork(
        denied: Bool, destination: String, port: Int32, proto: String, domain: String?, pid: Int32, rule: String?,
        detail: NetworkDetail? = nil, at: AuditTime
    ) -> Bool {
        totals[denied ? AuditKind.denyNet : AuditKind.netConnect, default: 0] &+= 1
        windowEvents &+= 1
        if windowStart == nil { windowStart = at }
        let key = NetKey(denied: denied, destination: destination, port: port, proto: proto, detail: detail)
        if nets[key] != nil {
            nets[key]!.count &+= 1
            nets[key]!.last = at
        } else {
            nets[key] = NetEntry(domain: domain, pid: pid, rule: rule, count: 1, first: at, last: at)
            netOrder.append(key)
        }
        return isDue(at: at)
    }

    /// Counts a filesystem denial (`deny.fs`), keyed by path, operation and errno. Returns
    /// true when due.
    public mutating func addFs(
        path: String, operation: String, access: String?, errno: Int32?, pid: Int32, rule: String?, source: String,
        at: AuditTime
    ) -> Bool {
        totals[AuditKind.denyFs, default: 0] &+= 1
        windowEvents &+= 1
        if windowStart == nil { windowStart = at }
        let key = FsKey(path: path, operation: operation, errno: errno)
        if fsDenials[key] != nil {
            fsDenials[key]!.count &+= 1
            fsDenials[key]!.last = at
        } else {
            fsDenials[key] = FsEntry(access: access, pid: pid, rule: rule, source: source, count: 1, first: at, last: at)
            fsOrder.append(key)
        }
        return isDue(at: at)
    }

    /// The pending aggregated records, in first-seen order; starts a new window.
    public mutating func drain() -> [AuditEvent] {
        var out: [AuditEvent] = []
        out.reserveCapacity(pendingKeys)
        for key in syscallOrder {
            guard let e = syscalls[key] else { continue }
            out.append(
                .denySyscall(
                    name: e.name, nr: key.nr, args: e.args, pid: e.pid, count: e.count, first: e.first, last: e.last,
                    errno: e.errno, rule: e.rule))
        }
        for key in netOrder {
            guard let e = nets[key] else { continue }
            out.append(
                .network(
                    denied: key.denied, destination: key.destination, port: key.port, proto: key.proto,
                    domain: e.domain, pid: e.pid, rule: e.rule, count: e.count, first: e.first, last: e.last,
                    detail: key.detail))
        }
        for key in fsOrder {
            guard let e = fsDenials[key] else { continue }
            out.append(
                .denyFs(
                    path: key.path, operation: key.operation, access: e.access, errno: key.errno, pid: e.pid,
                    rule: e.rule, source: e.source, count: e.count, first: e.first, last: e.last))
        }
        fsDenials.removeAll(keepingCapacity: true)
        fsOrder.removeAll(keepingCapacity: true)
        syscalls.removeAll(keepingCapacity: true)
        syscallOrder.removeAll(keepingCapacity: true)
        nets.removeAll(keepingCapacity: true)
        netOrder.removeAll(keepingCapacity: true)
        windowStart = nil
        windowEvents = 0
        return out
    }
}
