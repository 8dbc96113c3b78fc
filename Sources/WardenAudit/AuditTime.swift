#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock instant (UTC), rendered as RFC 3339 with microseconds, e.g.
/// `2026-11-26T20:26:01.123456Z`.
public struct AuditTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The current wall-clock time (CLOCK_REALTIME; cheap, vDSO).
    public static func now() -> AuditTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return AuditTime(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    public static func < (a: AuditTime, b: AuditTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// Nanoseconds from `self` to `other` (saturating).
    public func nanoseconds(until other: AuditTime) -> Int64 {
        let (s, o1) = (other.seconds).subtractingReportingOverflow(seconds)
        let (ns, o2) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if o1 || o2 { return other < self ? Int64.min : Int64.max }
        return ns + Int64(other.nanoseconds - nanoseconds)
    }

    /// RFC 3339 UTC with exactly six fractional digits.
    public var rfc3339: String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        var out: [UInt8] = []
        out.reserveCapacity(27)
        func pad(_ v: Int, _ width: Int) {
            var digits: [UInt8] = []
            var x = Swift.max(v, 0)
            for _ in 0..<width {
                digits.append(UInt8(ascii: "0") + UInt8(x % 10))
                x /= 10
            }
            out.append(contentsOf: digits.reversed())
        }
        pad(Int(tm.tm_year) + 1900, 4); out.append(UInt8(ascii: "-"))
        pad(Int(tm.tm_mon) + 1, 2); out.append(UInt8(ascii: "-"))
        pad(Int(tm.tm_mday), 2); out.append(UInt8(ascii: "T"))
        pad(Int(tm.tm_hour), 2); out.append(UInt8(ascii: ":"))
        pad(Int(tm.tm_min), 2); out.append(UInt8(ascii: ":"))
        pad(Int(tm.tm_sec), 2); out.append(UInt8(ascii: "."))
        pad(Int(nanoseconds) / 1000, 6); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// True when `bytes` has the exact shape `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 27 else { return false }
        for (k, b) in bytes.enumerated() {
            switch k {
            case 4, 7: if b != UInt8(ascii: "-") { return false }
            case 10: if b != UInt8(ascii: "T") { return false }
            case 13, 16: if b != UInt8(ascii: ":") { return false }
            case 19: if b != UInt8(ascii: ".") { return false }
            case 26: if b != UInt8(ascii: "Z") { return false }
            default: if b < UInt8(ascii: "0") || b > UInt8(ascii: "9") { return false }
            }
        }
        return true
    }
}

/// Monotonic nanoseconds (for durations and flush timers).
@inline(__always)
func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
