/// Resource limit kinds (`limit KIND VALUE`).
public enum LimitKind: String, Sendable, Hashable, CaseIterable, Codable {
    case processes
    case openFiles = "open-files"
    /// A cgroup memory limit on the run's processes together.
    case memory
    /// RLIMIT_AS for each process: its virtual address space, reservations included.
    case addressSpace = "address-space"
    case fileSize = "file-size"
    case cpuTime = "cpu-time"
    case wallTime = "wall-time"

    /// What the value measures.
    public enum Unit: Sendable { case count, bytes, seconds }

    public var unit: Unit {
        switch self {
        case .processes, .openFiles: return .count
        case .memory, .addressSpace, .fileSize: return .bytes
        case .cpuTime, .wallTime: return .seconds
        }
    }

    /// Parses a value for this kind.
    public func parseValue(_ text: String) -> Result<LimitValue, ValueError> {
        switch unit {
        case .count:
            guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return .failure(ValueError("invalid-limit-value", "`\(text)` is not a count", help: "write a whole number, for example `limit \(rawValue) 256`"))
            }
            guard let v = UInt64(text) else {
                return .failure(ValueError("limit-overflow", "`\(text)` is too large for `limit \(rawValue)`"))
            }
            return .success(LimitValue(amount: v, canonical: "\(v)"))
        case .bytes: return LimitValue.parseSize(text)
        case .seconds: return LimitValue.parseDuration(text)
        }
    }
}

/// A limit value in its kind's unit (count, bytes or seconds), with its canonical spelling.
public struct LimitValue: Sendable, Hashable, Codable {
    public var amount: UInt64
    /// How `warden fmt` writes it (`4G` → `4GiB`, `90m` → `1h30m`).
    public var canonical: String

    public init(amount: UInt64, canonical: String) {
        self.amount = amount
        self.canonical = canonical
    }

    static let sizeUnits: [(String, String, UInt64)] = [
        ("B", "B", 1), ("K", "KiB", 1 << 10), ("KiB", "KiB", 1 << 10), ("M", "MiB", 1 << 20), ("MiB", "MiB", 1 << 20),
        ("G", "GiB", 1 << 30), ("GiB", "GiB", 1 << 30), ("T", "TiB", 1 << 40), ("TiB", "TiB", 1 << 40),
    ]

    /// `N[B|K|KiB|M|MiB|G|GiB|T|TiB]` (binary units).
    public static func parseSize(_ text: String) -> Result<LimitValue, ValueError> {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = String(text.dropFirst(digits.count))
        guard !digits.isEmpty, let n = UInt64(digits) else {
            return .failure(ValueError("invalid-limit-value", "`\(text)` is not a size", help: "write a number with an optional unit B, KiB, MiB, GiB or TiB, for example `4GiB`"))
        }
        guard let (_, canonicalUnit, factor) = sizeUnits.first(where: { $0.0 == unit }) ?? (unit.isEmpty ? ("", "", 1) : nil) else {
            let known = sizeUnits.map(\.0)
            let decimal = ["KB": "KiB", "MB": "MiB", "GB": "GiB", "TB": "TiB"][unit.uppercased()]
            let help = (decimal ?? Suggestions.closest(to: unit, in: known)).map { "did you mean `\(digits)\($0)`? (units are powers of 1024)" }
                ?? "the units are B, KiB, MiB, GiB and TiB (powers of 1024)"
            return .failure(ValueError("invalid-limit-value", "unknown size unit `\(unit)` in `\(text)`", help: help))
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: factor)
        guard !overflow else { return .failure(ValueError("limit-overflow", "size `\(text)` is too large")) }
        return .success(LimitValue(amount: bytes, canonical: "\(digits)\(canonicalUnit)"))
    }

    /// `90s`, `30m`, `2h`, `1h30m`, `1h30m15s` (units in that order, each at most once).
    public static func parseDuration(_ text: String) -> Result<LimitValue, ValueError> {
        let bad = ValueError("invalid-limit-value", "`\(text)` is not a duration",
                             help: "write hours, minutes and seconds such as `90s`, `30m`, `2h` or `1h30m`")
        var total: UInt64 = 0
        var rest = Substring(text)
        var lastRank = 3
        guard !rest.isEmpty else { return .failure(bad) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 18, let n = UInt64(digits) else {
                if !digits.isEmpty { return .failure(ValueError("limit-overflow", "duration `\(text)` is too large")) }
                return .failure(bad)
            }
            rest = rest.dropFirst(digits.count)
            guard let u = rest.first else {
                return .failure(ValueError("invalid-limit-value", "duration `\(text)` has no unit", help: "add a unit: `\(text)s`, `\(text)m` or `\(text)h`"))
            }
            let (rank, factor): (Int, UInt64)
            switch u {
            case "h": (rank, factor) = (2, 3600)
            case "m": (rank, factor) = (1, 60)
            case "s": (rank, factor) = (0, 1)
            default: return .failure(bad)
            }
            guard rank < lastRank else { return .failure(bad) }
            lastRank = rank
            rest = rest.dropFirst()
            let (m, o1) = n.multipliedReportingOverflow(by: factor)
            let (s, o2) = total.addingReportingOverflow(m)
            guard !o1, !o2 else { return .failure(ValueError("limit-overflow", "duration `\(text)` is too large")) }
            total = s
        }
        return .success(LimitValue(amount: total, canonical: canonicalDuration(total)))
    }

    /// `1h30m`, `45s`, `0s`.
    public static func canonicalDuration(_ seconds: UInt64) -> String {
        let h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60
        var out = ""
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}
