/// A five-field cron expression (`minute hour day-of-month month day-of-week`), parsed into
/// the set of values each field accepts. Fields take `*`, numbers, ranges `a-b`, steps
/// `*/n` and `a-b/n`, and lists `x,y`; months and weekdays also take English names (`jan`,
/// `mon`); weekday 7 is Sunday like 0. `@hourly`, `@daily` (`@midnight`), `@weekly`,
/// `@monthly` and `@yearly` (`@annually`) stand for their usual expressions.
///
/// As in Vixie cron, when both day-of-month and day-of-week are restricted (neither starts
/// with `*`), a day matches when either does; otherwise both must.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// Bit n: minute n (0-59).
    public var minutes: UInt64
    /// Bit n: hour n (0-23).
    public var hours: UInt32
    /// Bit n: day n of the month (1-31).
    public var daysOfMonth: UInt32
    /// Bit n: month n (1-12).
    public var months: UInt16
    /// Bit n: weekday n (0 Sunday - 6 Saturday).
    public var daysOfWeek: UInt8
    /// Day-of-month did not start with `*`.
    public var dayOfMonthRestricted: Bool
    /// Day-of-week did not start with `*`.
    public var dayOfWeekRestricted: Bool
    /// The expression as written.
    public var text: String

    public var description: String { text }

    /// The longest expression accepted, in bytes.
    public static let maxLength = 256

    struct Field {
        let name: String
        let low: Int
        let high: Int
        let names: [String]
    }

    static let fields = [
        Field(name: "minute", low: 0, high: 59, names: []),
        Field(name: "hour", low: 0, high: 23, names: []),
        Field(name: "day-of-month", low: 1, high: 31, names: []),
        Field(name: "month", low: 1, high: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        Field(name: "day-of-week", low: 0, high: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ]

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    /// Parses a cron expression; the error names the field and why it is wrong.
    public static func parse(_ text: String) -> Result<CronSchedule, ValueError> {
        func fail(_ message: String, _ help: String? = nil) -> Result<CronSchedule, ValueError> {
            .failure(ValueError("invalid-cron", message, help: help))
        }
        guard text.utf8.count <= maxLength else {
            return fail("a schedule of \(text.utf8.count) bytes is longer than the \(maxLength) allowed")
        }
        var expression = text
        if text.hasPrefix("@") {
            guard let m = macros[text.lowercased()] else {
                let why = text.lowercased() == "@reboot" ? "`@reboot` is not a schedule: a trigger cannot run at boot"
                    : "`\(text)` is not a schedule shorthand"
                return fail(why, "the shorthands are " + macros.keys.sorted().joined(separator: ", "))
            }
            expression = m
        }
        let parts = expression.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 5 else {
            return fail("a schedule has 5 fields (minute hour day-of-month month day-of-week), this one has \(parts.count)",
                        "for example \"0 3 * * 1-5\": 03:00 on weekdays")
        }
        var sets: [UInt64] = []
        for (field, part) in zip(fields, parts) {
            switch parseField(String(part), field) {
            case .success(let bits): sets.append(bits)
            case .failure(let e): return .failure(e)
            }
        }
        var dow = sets[4]
        if dow & (1 << 7) != 0 { dow = (dow | 1) & 0x7F }
        let schedule = CronSchedule(minutes: sets[0], hours: UInt32(sets[1]), daysOfMonth: UInt32(sets[2]), months: UInt16(sets[3]),
                                    daysOfWeek: UInt8(dow), dayOfMonthRestricted: !parts[2].hasPrefix("*"),
                                    dayOfWeekRestricted: !parts[4].hasPrefix("*"), text: text)
        if schedule.dayOfMonthRestricted, !schedule.dayOfWeekRestricted {
            // Days 30 and 31 do not exist in every month: the schedule may never fire.
            let longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            let possible = (1...12).contains { m in
                schedule.months & (1 << m) != 0 && (1...longest[m]).contains { schedule.daysOfMonth & (1 << $0) != 0 }
            }
            if !possible {
                return fail("the schedule \"\(text)\" never fires: none of its months has one of its days",
                            "check the day-of-month and month fields (February has 29 days at most; April, June, September and November 30)")
            }
        }
        return .success(schedule)
    }

    /// The bits of one field.
    static func parseField(_ text: String, _ field: Field) -> Result<UInt64, ValueError> {
        func fail(_ why: String, _ help: String? = nil) -> Result<UInt64, ValueError> {
            .failure(ValueError("invalid-cron", "\(field.name) field `\(text)`: \(why)",
                                help: help ?? "the \(field.name) takes \(field.low)-\(field.high)"
                                    + (field.names.isEmpty ? "" : " or names (\(field.names.prefix(3).joined(separator: ", ")), ...)")
                                    + ", ranges a-b, steps */n or a-b/n, and lists x,y"))
        }
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { return fail("an empty list entry") }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { return fail("more than one `/` in `\(item)`") }
            var step = 1
            if stepParts.count == 2 {
                guard let s = number(stepParts[1]), s >= 1 else { return fail("the step `\(stepParts[1])` is not a positive number") }
                guard s <= field.high else { return fail("the step \(stepParts[1]) is larger than the field's range") }
                step = s
            }
            let range = stepParts[0]
            var low: Int, high: Int
            if range == "*" {
                low = field.low
                high = field.name == "day-of-week" ? 6 : field.high
            } else {
                let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { return fail("`\(range)` is not a value or a range a-b") }
                guard let a = value(bounds[0], field) else { return fail("`\(bounds[0])` is not a value of the field") }
                low = a
                if bounds.count == 2 {
                    guard let b = value(bounds[1], field) else { return fail("`\(bounds[1])` is not a value of the field") }
                    high = b
                } else {
                    high = a
                    if stepParts.count == 2 {
                        return fail("a step needs a range: write `\(a)-\(field.high)/\(step)` or `*/\(step)`")
                    }
                }
                guard low >= field.low, low <= field.high else { return fail("\(low) is out of range \(field.low)-\(field.high)") }
                guard high >= field.low, high <= field.high else { return fail("\(high) is out of range \(field.low)-\(field.high)") }
                guard low <= high else { return fail("the range \(low)-\(high) is reversed", "write the smaller value first") }
            }
            var v = low
            while v <= high {
                bits |= 1 << UInt64(v)
                v += step
            }
        }
        return .success(bits)
    }

    /// A decimal number of at most 2 digits (a longer one is out of every field's range).
    static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.utf8.count <= 2, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(s)
    }

    static func value(_ s: Substring, _ field: Field) -> Int? {
        if let n = number(s) { return n }
        guard let i = field.names.firstIndex(of: s.lowercased()) else { return nil }
        return field.low == 0 ? i : i + 1
    }

    /// Whether the schedule fires at this wall-clock minute (month 1-12, weekday 0 = Sunday).
    public func matches(month: Int, day: Int, weekday: Int, hour: Int, minute: Int) -> Bool {
        guard (0...59).contains(minute), (0...23).contains(hour), (1...12).contains(month), (1...31).contains(day), (0...6).contains(weekday) else {
            return false
        }
        return minutes & (1 << UInt64(minute)) != 0 && hours & (1 << UInt32(hour)) != 0 && matchesDay(month: month, day: day, weekday: weekday)
    }

    /// Whether the schedule fires on this day at some time.
    public func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard months & (1 << UInt16(month)) != 0 else { return false }
        let domMatch = daysOfMonth & (1 << UInt32(day)) != 0
        let dowMatch = daysOfWeek & (1 << UInt8(weekday)) != 0
        if dayOfMonthRestricted && dayOfWeekRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    /// The hours (ascending) and minutes (ascending) the schedule fires at on a matching day.
    public var hourList: [Int] { (0...23).filter { hours & (1 << UInt32($0)) != 0 } }
    public var minuteList: [Int] { (0...59).filter { minutes & (1 << UInt64($0)) != 0 } }
}

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (no time zones).
public enum CivilDate {
    /// Days since 1970-01-01 of year-month-day.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Year, month (1-12) and day (1-31) of a day number.
    public static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// 0 = Sunday.
    public static func weekday(days: Int) -> Int {
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }

    /// Days in a month.
    public static func length(year: Int, month: Int) -> Int {
        days(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1) - days(year: year, month: month, day: 1)
    }
}
