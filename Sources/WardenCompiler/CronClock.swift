import Foundation
import WardenPolicy

// When a schedule fires, in a time zone with daylight saving time. Wall-clock minutes map to
// instants with two rules (documented in docs/language.md, "Schedules and daylight saving time"):
// a minute that does not exist (skipped when clocks go forward) fires at the instant the
// clocks jump, once; a minute that happens twice (clocks go back) fires at its first
// occurrence only.

extension CronSchedule {
    /// How far ahead `next(after:in:)` looks (8 years and a day: a 29 February schedule
    /// fires at least once in any such span).
    public static let searchDays = 8 * 366 + 1

    /// The first instant strictly after `date` at which the schedule fires in `zone`; nil
    /// when it does not fire within `searchDays`.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        let start = Int((date.timeIntervalSince1970).rounded(.down))
        return nextInstant(after: start, in: zone).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// `next(after:in:)` on Unix seconds.
    func nextInstant(after t0: Int, in zone: TimeZone) -> Int? {
        let localNow = t0 + CronClock.offset(zone, t0)
        let firstMinute = CronClock.floorDiv(localNow, 60) * 60 + 60
        let firstDay = CronClock.floorDiv(firstMinute, 86400)
        let hourList = self.hourList, minuteList = self.minuteList
        for day in firstDay..<(firstDay + Self.searchDays) {
            let (_, month, dom) = CivilDate.date(days: day)
            guard matchesDay(month: month, day: dom, weekday: CivilDate.weekday(days: day)) else { continue }
            for h in hourList {
                for m in minuteList {
                    let wall = day * 86400 + h * 3600 + m * 60
                    if wall < firstMinute { continue }
                    let instant = CronClock.instant(ofWall: wall, in: zone)
                    if instant > t0 { return instant }
                }
            }
        }
        return nil
    }
}

/// Wall-clock arithmetic over Foundation's time zone database.
public enum CronClock {
    /// Whether a schedule fires at a test's time.
    public enum Answer: Sendable, Hashable {
        case yes
        /// It does not; when it next fires after the time (in the zone, with its offset).
        case no(next: String?)
        case unknownZone
    }

    /// Whether `schedule`, read in `zone`, fires at `time` (a wall-clock time of the zone,
    /// or an instant when the time carries an offset).
    public static func fires(_ schedule: CronSchedule, zone name: String, at time: TriggerTime) -> Answer {
        guard let zone = TimeZone(identifier: name) else { return .unknownZone }
        let wall = CivilDate.days(year: time.year, month: time.month, day: time.day) * 86400 + time.hour * 3600 + time.minute * 60
        let t = time.utcOffset.map { wall - $0 } ?? instant(ofWall: wall, in: zone)
        if schedule.nextInstant(after: t - 60, in: zone) == t { return .yes }
        return .no(next: schedule.nextInstant(after: t, in: zone).map { format($0, zone) })
    }

    /// `YYYY-MM-DDTHH:MM+HH:MM` of an instant in `zone`.
    public static func format(_ t: Int, _ zone: TimeZone) -> String {
        let o = offset(zone, t)
        let wall = t + o
        let (y, mo, d) = CivilDate.date(days: floorDiv(wall, 86400))
        let secs = wall - floorDiv(wall, 86400) * 86400
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let sign = o < 0 ? "-" : "+"
        return "\(y)-\(two(mo))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60))\(sign)\(two(abs(o) / 3600)):\(two(abs(o) % 3600 / 60))"
    }

    static func offset(_ zone: TimeZone, _ t: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The instant a wall-clock time (seconds since 1970-01-01 00:00 on the zone's clock)
    /// happens: its first occurrence, or for a time skipped by a transition, the
    /// transition itself. Assumes at most one transition within a day of it.
    public static func instant(ofWall wall: Int, in zone: TimeZone) -> Int {
        let before = offset(zone, wall - 86400)
        let after = offset(zone, wall + 86400)
        let valid = Set([before, after]).map { wall - $0 }.filter { offset(zone, $0) == wall - $0 }
        if let first = valid.min() { return first }
        // In a gap: the clocks jumped from `before` to `after` between these instants.
        var lo = wall - after, hi = wall - before
        while lo < hi {
            let mid = floorDiv(lo + hi, 2)
            if offset(zone, mid) == after { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
