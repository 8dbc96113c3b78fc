import WardenPolicy

/// The sizes the store accepts, so a hostile or broken caller cannot grow it without bound.
public enum StoreBounds {
    /// Trigger and identity names.
    public static let maxNameBytes = 256
    /// Repository, delivery id, decision, commit, clone URL, run id, workspace.
    public static let maxFieldBytes = 4096
    /// A run's error message (longer ones are cut, at a character boundary, when stored).
    public static let maxErrorBytes = 64 * 1024
    /// A fleet run's workspace changes (JSON).
    public static let maxChangesBytes = 64 * 1024
    /// A run's event document.
    public static let maxEventBytes = 8 * 1024 * 1024
    /// Runs returned by one `runs(limit:before:)` call without event documents.
    public static let maxPage = 1000
    /// Runs returned by one call that includes event documents (`runs(..., includeEvents:
    /// true)`, `queued(limit:)`): at most this many times `maxEventBytes` in memory.
    public static let maxEventPage = 16
    /// The longest budget period `usage` accepts, in seconds (a year).
    public static let maxPeriodSeconds = 366 * 24 * 3600
    /// Queued runs when `ServeStore` is not given another limit.
    public static let defaultMaxQueued = 10_000
    /// How long delivery ids are remembered when `ServeStore` is not told otherwise.
    public static let defaultDeliveryRetentionMilliseconds: Int64 = 7 * 24 * 3600 * 1000

    static func name(_ value: String, _ what: String) throws(ServeStoreError) {
        guard !value.isEmpty else { throw .invalidArgument("the \(what) is empty") }
        guard value.utf8.count <= maxNameBytes else {
            throw .invalidArgument("the \(what) is \(value.utf8.count) bytes, more than \(maxNameBytes)")
        }
    }

    static func field(_ value: String?, _ what: String) throws(ServeStoreError) {
        guard let value else { return }
        guard value.utf8.count <= maxFieldBytes else {
            throw .invalidArgument("the \(what) is \(value.utf8.count) bytes, more than \(maxFieldBytes)")
        }
    }

    static func source(_ value: String) throws(ServeStoreError) {
        guard TriggerSourceKind(rawValue: value) != nil else {
            let known = TriggerSourceKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidArgument("the source '\(value.prefix(64))' is not one of \(known)")
        }
    }

    static func newRun(_ run: NewRun) throws(ServeStoreError) {
        try name(run.trigger, "trigger name")
        try name(run.identity, "identity name")
        try source(run.source)
        try field(run.repository, "repository")
        try field(run.deliveryID, "delivery id")
        try name(run.decision, "decision (the audit run id of the trigger.allow record)")
        try field(run.commit, "commit")
        try field(run.cloneURL, "clone URL")
        guard run.eventDocument.count <= maxEventBytes else {
            throw .invalidArgument("the event document is \(run.eventDocument.count) bytes, more than \(maxEventBytes)")
        }
    }

    /// `a - b`, clamped to Int64's range instead of wrapping.
    static func minus(_ a: Int64, _ b: Int64) -> Int64 {
        let (v, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b > 0 ? Int64.min : Int64.max) : v
    }

    /// `text` cut to at most `limit` UTF-8 bytes, at a character boundary.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var out = ""
        var used = 0
        for c in text {
            let n = c.utf8.count
            if used + n > limit { break }
            out.append(c)
            used += n
        }
        return out
    }
}
