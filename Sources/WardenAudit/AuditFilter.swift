/// Which records `warden audit show` and `warden audit export` select.
///
/// `identity` selects the records of runs whose `run.start` names that identity, `fleet`
/// those whose `run.start` carries that fleet id (`warden fleet`); a run's `run.start`
/// precedes its other records, so one pass suffices; `since`/`until` compare
/// the record's `ts` (the writer's clock), inclusive. Checkpoint records are left out unless
/// `kind` asks for them or `includeCheckpoints` is set.
public struct AuditFilter: Sendable {
    public var run: String?
    public var kind: String?
    public var identity: String?
    public var fleet: String?
    public var since: AuditTime?
    public var until: AuditTime?
    public var includeCheckpoints = false

    /// Runs of `identity`/`fleet` tracked at most; older ones are forgotten (bounded memory).
    public static let maxTrackedRuns = 1 << 16

    private var selectedRuns: Set<String> = []
    private var selectsRuns: Bool { identity != nil || fleet != nil }
    /// True once a record of `run` has been seen (whatever the other filters).
    public private(set) var runSeen = false

    public init(
        run: String? = nil, kind: String? = nil, identity: String? = nil, fleet: String? = nil, since: AuditTime? = nil,
        until: AuditTime? = nil, includeCheckpoints: Bool = false
    ) {
        self.run = run
        self.kind = kind
        self.identity = identity
        self.fleet = fleet
        self.since = since
        self.until = until
        self.includeCheckpoints = includeCheckpoints
    }

    /// Decides `rec` and remembers what later records need (runs of the identity).
    public mutating func matches(_ rec: AuditRecord) -> Bool {
        if selectsRuns, rec.kind == AuditKind.runStart, identity == nil || rec.fields["identity"]?.stringValue == identity,
           fleet == nil || rec.fields["fleet"]?.stringValue == fleet {
            if selectedRuns.count >= Self.maxTrackedRuns { selectedRuns.removeAll(keepingCapacity: true) }
            selectedRuns.insert(rec.run)
        }
        if let run {
            guard rec.run == run else { return false }
            runSeen = true
        }
        if let kind { if rec.kind != kind { return false } } else if rec.kind == AuditKind.checkpoint, !includeCheckpoints {
            return false
        }
        if selectsRuns, !selectedRuns.contains(rec.run) { return false }
        if since != nil || until != nil {
            guard let t = AuditTime(rfc3339: rec.ts) else { return false }
            if let since, t < since { return false }
            if let until, until < t { return false }
        }
        return true
    }

    /// True when a record with this header could match (a cheap pre-check before decoding):
    /// false only for records that can neither match nor matter for the identity filter.
    func mayMatch(kind k: String, run r: String) -> Bool {
        if let run, r != run { return false }
        if selectsRuns && k == AuditKind.runStart { return true }
        if let kind { return k == kind }
        return k != AuditKind.checkpoint || includeCheckpoints
    }

    mutating func noteRun(_ r: String) { if r == run { runSeen = true } }
}

/// Parses the time arguments of `--since`/`--until`.
public enum AuditTimeArgument {
    /// Why a time argument was refused.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid time \(text.debugDescription): expected an RFC 3339 timestamp (2026-12-07T10:00:00Z, "
                + "2026-12-07T11:00:00.5+01:00) or a duration before now (30s, 10m, 2h, 1d)"
        }
    }

    /// RFC 3339 (`T` or `t`, `Z` or `±HH:MM`, optional fraction) or `N` followed by s, m,
    /// h or d meaning that long before `now`.
    public static func parse(_ text: String, now: AuditTime = .now()) throws(Invalid) -> AuditTime {
        let b = Array(text.utf8)
        if let unit = b.last, let scale = ["s": 1, "m": 60, "h": 3600, "d": 86_400][String(UnicodeScalar(unit))],
            b.count >= 2, b.count <= 12, b.dropLast().allSatisfy({ $0 &- 48 < 10 })
        {
            let n = b.dropLast().reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
            let (secs, overflow) = n.multipliedReportingOverflow(by: Int64(scale))
            let t = AuditTime(seconds: now.seconds - (overflow ? Int64.max / 2 : secs), nanoseconds: now.nanoseconds)
            guard !overflow, t.isRepresentable else { throw Invalid(text: text) }
            return t
        }
        guard let t = rfc3339(b) else { throw Invalid(text: text) }
        return t
    }

    static func rfc3339(_ b: [UInt8]) -> AuditTime? {
        guard b.count >= 20, b.count <= 40 else { return nil }
        func digits(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                guard b[i] &- 48 < 10 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard let y = digits(0..<4), b[4] == 45, let mo = digits(5..<7), b[7] == 45, let d = digits(8..<10),
            b[10] == 84 || b[10] == 116, let h = digits(11..<13), b[13] == 58, let mi = digits(14..<16), b[16] == 58,
            let s = digits(17..<19), y >= 1, (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s <= 60
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if b[i] == 46 {
            i += 1
            var n = 0
            while i < b.count, b[i] &- 48 < 10 {
                if n < 9 { nanos = nanos * 10 + Int64(b[i] - 48) }
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in min(n, 9)..<9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        if i == b.count - 1, b[i] == 90 || b[i] == 122 {
            offset = 0
        } else if i == b.count - 6, b[i] == 43 || b[i] == 45, let oh = digits((i + 1)..<(i + 3)), b[i + 3] == 58,
            let om = digits((i + 4)..<(i + 6)), oh < 24, om < 60
        {
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        } else {
            return nil
        }
        let text = String(format4(y)) + "-" + two(mo) + "-" + two(d) + "T" + two(h) + ":" + two(mi) + ":" + two(s) + ".000000Z"
        guard var t = AuditTime(rfc3339: text) else { return nil }
        t.seconds -= offset
        t.nanoseconds = Int32(nanos)
        return t.isRepresentable ? t : nil
    }

    private static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func format4(_ v: Int64) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }
}
