/// Totals of the denial records a run wrote to its log, by what was denied, for the run's
/// closing digest.
///
/// Fed with the records the log durably took (so it never counts more than was recorded);
/// an aggregated record adds its `count`. Keys: `deny.syscall` by syscall name,
/// `deny.net` by (operation, protocol, destination, port), `deny.fs` by (operation or
/// access, path, errno). Memory is bounded: at most `maxKeys` distinct denials are kept;
/// the events of further ones are only counted in `overflowEvents`. Not thread-safe.
public struct DenialTally: Sendable {
    /// One distinct denial and how often it was recorded.
    public struct Entry: Sendable, Equatable {
        /// `deny.syscall`, `deny.net` or `deny.fs`.
        public var kind: String
        /// The fields of the first record of this denial (arguments, pid, rule...).
        public var fields: [String: AuditValue]
        /// Events recorded (the sum of the records' `count`).
        public var count: Int64
        /// Position of the first record, for a stable order among equal counts.
        public var order: Int
    }

    public let maxKeys: Int
    private var entries: [String: Entry] = [:]
    /// Events of denials that found the table full.
    public private(set) var overflowEvents: Int64 = 0

    public init(maxKeys: Int = 256) {
        self.maxKeys = max(maxKeys, 1)
    }

    /// Counts one written record; records that are not denials are ignored.
    public mutating func add(_ event: AuditEvent) {
        guard let key = Self.key(event) else { return }
        let count = max(event.fields["count"]?.intValue ?? 1, 1)
        if entries[key] != nil {
            entries[key]!.count &+= count
        } else if entries.count < maxKeys {
            entries[key] = Entry(kind: event.kind, fields: event.fields, count: count, order: entries.count)
        } else {
            overflowEvents &+= count
        }
    }

    /// Number of distinct denials kept.
    public var distinct: Int { entries.count }

    /// The `limit` most frequent denials, most frequent first (first recorded first among equals).
    public func top(_ limit: Int) -> [Entry] {
        Array(entries.values.sorted { ($0.count, -$0.order) > ($1.count, -$1.order) }.prefix(max(limit, 0)))
    }

    /// What identifies a denial, or nil for a record that is none.
    static func key(_ e: AuditEvent) -> String? {
        func s(_ k: String) -> String {
            switch e.fields[k] {
            case .string(let v)?: return v
            case .int(let v)?: return String(v)
            default: return ""
            }
        }
        switch e.kind {
        case AuditKind.denySyscall: return [e.kind, s("name")].joined(separator: "\u{0}")
        case AuditKind.denyNet: return [e.kind, s("operation"), s("protocol"), s("destination"), s("port")].joined(separator: "\u{0}")
        case AuditKind.denyFs: return [e.kind, s("operation"), s("access"), s("path"), s("errno")].joined(separator: "\u{0}")
        default: return nil
        }
    }
}
