import WardenAudit
import WardenPolicy

/// How old a GitHub delivery is, from the times its signed body holds.
///
/// GitHub signs the body but no delivery time and no delivery id, so the delivery ledger
/// (`replayKey`) is the only thing that stops a captured delivery from being sent again,
/// and the ledger forgets after `StoreBounds.defaultDeliveryRetentionMilliseconds`. Every
/// GitHub payload carries times of its own (`pull_request.updated_at`, a push's
/// `repository.pushed_at`, a comment's `created_at`, ...), and the signature covers them:
/// the newest of them is no later than the moment GitHub sent the delivery. A delivery
/// whose newest time is older than the ledger keeps ids can therefore not be told apart
/// from a replay the ledger forgot, and is refused; one with no time at all cannot be
/// dated and is refused too.
enum PayloadAge {
    /// The newest time (Unix seconds) among the values of members named `*_at` or
    /// `timestamp`, anywhere in `payload`: RFC 3339 strings (`2026-12-07T10:00:00Z`,
    /// fractions and `+HH:MM` offsets allowed) and integers (Unix seconds, as a push's
    /// `repository.pushed_at`). Nil when there is none.
    static func newestTime(in payload: AuditValue) -> Int64? {
        var newest: Int64?
        var stack: [AuditValue] = [payload]
        while let value = stack.popLast() {
            switch value {
            case .object(let members):
                for (key, member) in members {
                    if isTimeKey(key), let t = seconds(member) { newest = max(newest ?? t, t) }
                    if case .object = member { stack.append(member) } else if case .array = member { stack.append(member) }
                }
            case .array(let elements):
                stack.append(contentsOf: elements)
            default:
                break
            }
        }
        return newest
    }

    /// Why a delivery received at `now` (Unix seconds) is too old to be told apart from a
    /// forgotten replay, when the ledger keeps ids for `retentionSeconds`; nil when it is not.
    /// One hour of the retention is kept back for clocks that disagree.
    static func staleness(of payload: AuditValue, now: Int64, retentionSeconds: Int64) -> String? {
        guard let newest = newestTime(in: payload) else {
            return "the payload holds no time (no `*_at` or `timestamp` member), so a replay of it cannot be told apart once the delivery ledger forgets it"
        }
        let limit = max(retentionSeconds - 3600, 0)
        guard now - newest > limit else { return nil }
        return "the newest time in the payload, \(AuditTime(seconds: newest, nanoseconds: 0).rfc3339IfRepresentable ?? String(newest)), is more than \(limit / 3600) hours old: "
            + "older than the delivery ledger remembers, so it cannot be told apart from a replay"
    }

    private static func isTimeKey(_ key: String) -> Bool { key.hasSuffix("_at") || key == "timestamp" }

    private static func seconds(_ value: AuditValue) -> Int64? {
        switch value {
        case .int(let i): return i > 0 ? i : nil
        case .string(let s): return rfc3339(s)
        default: return nil
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as Unix seconds; nil for anything else.
    static func rfc3339(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40 else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard b[i] &- 48 < 10 else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        if b[i] == 0x2E {
            i += 1
            let start = i
            while i < b.count, b[i] &- 48 < 10 { i += 1 }
            guard i > start else { return nil }
        }
        var offset = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A, i + 1 == b.count {
            offset = 0
        } else if b[i] == 0x2B || b[i] == 0x2D, i + 6 == b.count, b[i + 3] == 0x3A,
                  let oh = digits(i + 1..<i + 3), let om = digits(i + 4..<i + 6), oh < 24, om < 60 {
            offset = (oh * 3600 + om * 60) * (b[i] == 0x2B ? 1 : -1)
        } else {
            return nil
        }
        let days = CivilDate.days(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
    }
}
