#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock instant (UTC), rendered as RFC 3339 with microseconds, e.g.
/// `2026-11-26T20:26:01.123456Z`. Records can hold years 0001–9999 only.
public struct AuditTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    /// Seconds since the epoch of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    public static let representableSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The current wall-clock time (CLOCK_REALTIME; cheap, vDSO).
    public static func now() -> AuditTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return AuditTime(seconds: Int64(ts.tv_sec), nanoseconds: Int32(truncatingIfNeeded: ts.tv_nsec))
    }

    public static func < (a: AuditTime, b: AuditTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// Nanoseconds from `self` to `other`, saturating at Int64's bounds for any values.
    public func nanoseconds(until other: AuditTime) -> Int64 {
        let saturated = other < self ? Int64.min : Int64.max
        let (s, o1) = other.seconds.subtractingReportingOverflow(seconds)
        let (ns, o2) = s.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o3) = ns.addingReportingOverflow(Int64(other.nanoseconds) - Int64(nanoseconds))
        return o1 || o2 || o3 ? saturated : total
    }

    /// True when a record can hold this instant (years 0001–9999, nanoseconds in range).
    public var isRepresentable: Bool {
        Self.representableSeconds.contains(seconds) && (0..<1_000_000_000).contains(nanoseconds)
    }

    /// RFC 3339 UTC with exactly six fractional digits, or nil outside years 0001–9999.
    public var rfc3339IfRepresentable: String? { isRepresentable ? format() : nil }

    /// RFC 3339 UTC with exactly six fractional digits. Instants outside years 0001–9999 are
    /// clamped to the nearest representable one (writers refuse such clocks before this
    /// matters: see `AuditLog`).
    public var rfc3339: String {
        var t = self
        t.seconds = min(max(seconds, Self.representableSeconds.lowerBound), Self.representableSeconds.upperBound)
        t.nanoseconds = min(max(nanoseconds, 0), 999_999_999)
        return t.format()
    }

    /// Formats a representable instant (civil-from-days, no libc: no overflow, no year 0).
    private func format() -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        var out: [UInt8] = []
        out.reserveCapacity(27)
        func pad(_ v: Int64, _ width: Int) {
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var x = v
            for k in stride(from: width - 1, through: 0, by: -1) {
                digits[k] = UInt8(ascii: "0") + UInt8(x % 10)
                x /= 10
            }
            out.append(contentsOf: digits)
        }
        pad(year, 4); out.append(UInt8(ascii: "-"))
        pad(month, 2); out.append(UInt8(ascii: "-"))
        pad(day, 2); out.append(UInt8(ascii: "T"))
        pad(secOfDay / 3600, 2); out.append(UInt8(ascii: ":"))
        pad(secOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        pad(secOfDay % 60, 2); out.append(UInt8(ascii: "."))
        pad(Int64(nanoseconds) / 1000, 6); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses the exact record form `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        let ok = b.withUnsafeBytes { Self.isWellFormed($0) }
        guard ok else { return nil }
        func num(_ r: Range<Int>) -> Int64 { r.reduce(0) { $0 * 10 + Int64(b[$1] - 48) } }
        let (y, m, d) = (num(0..<4), num(5..<7), num(8..<10))
        // days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        seconds = days * 86_400 + num(11..<13) * 3600 + num(14..<16) * 60 + num(17..<19)
        nanoseconds = Int32(num(20..<26) * 1000)
    }

    /// True when `bytes` has the exact shape `YYYY-MM-DDTHH:MM:SS.ffffffZ` with a year of
    /// 0001–9999, month 01–12, day 01–31, hour 00–23, minute 00–59, second 00–60.
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 27 else { return false }
        let shape: StaticString = "0000-00-00T00:00:00.000000Z"
        let s = shape.utf8Start
        for k in 0..<27 {
            let b = bytes[k]
            if s[k] == 48 {
                if b &- 48 >= 10 { return false }
            } else if b != s[k] {
                return false
            }
        }
        func two(_ i: Int) -> Int { Int(bytes[i] - 48) * 10 + Int(bytes[i + 1] - 48) }
        let yearIsZero = bytes[0] == 48 && bytes[1] == 48 && bytes[2] == 48 && bytes[3] == 48
        return !yearIsZero && (1...12).contains(two(5)) && (1...31).contains(two(8)) && two(11) < 24
            && two(14) < 60 && two(17) <= 60
    }
}

/// Monotonic nanoseconds (for durations and flush timers).
@inline(__always)
func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}
