import Testing
import WardenAudit
@testable import WardenServe

/// A GitHub delivery is dated by the times its signed body holds; one older than the
/// delivery ledger remembers is refused, since a replay of it could no longer be recognized.
@Suite struct PayloadAgeTests {
    static func payload(_ json: String) throws -> AuditValue { try WebhookJSON.parse(Array(json.utf8)) }

    @Test func rfc3339TimesParseWithFractionsAndOffsets() {
        #expect(PayloadAge.rfc3339("1970-01-01T00:00:00Z") == 0)
        #expect(PayloadAge.rfc3339("2026-12-07T10:00:00Z") == 1_796_637_600)
        #expect(PayloadAge.rfc3339("2026-12-07T10:00:00.123456Z") == 1_796_637_600)
        #expect(PayloadAge.rfc3339("2026-12-07T11:30:00+01:30") == 1_796_637_600)
        #expect(PayloadAge.rfc3339("2026-12-07T08:00:00-02:00") == 1_796_637_600)
        for bad in ["", "2026-12-07", "2026-12-07T10:00:00", "2026-13-07T10:00:00Z", "2026-12-07T24:00:00Z", "2026-12-07T10:00:00.Z",
                    "2026-12-07T10:00:00+0100", "2026-12-07T10:00:00Zjunk", "２０２６-12-07T10:00:00Z", "2026-12-07T10:00:00+25:00"] {
            #expect(PayloadAge.rfc3339(bad) == nil, "\(bad)")
        }
    }

    @Test func theNewestTimeAnywhereInThePayloadCounts() throws {
        let p = try Self.payload("""
            {"pull_request":{"created_at":"2020-01-01T00:00:00Z","updated_at":"2026-12-07T10:00:00Z","closed_at":null},
             "repository":{"pushed_at":1577836800,"topics":[{"x_at":"2026-12-07T10:00:05Z"}]},"note":"2030-01-01T00:00:00Z"}
            """)
        // `note` is not a time member: only `*_at` and `timestamp` members are read.
        #expect(PayloadAge.newestTime(in: p) == 1_796_637_605)
        #expect(PayloadAge.newestTime(in: try Self.payload(#"{"head_commit":{"timestamp":"2026-12-07T11:00:00+01:00"}}"#)) == 1_796_637_600)
        #expect(PayloadAge.newestTime(in: try Self.payload(#"{"action":"opened","number":7}"#)) == nil)
    }

    @Test func aPayloadOlderThanTheLedgerOrUndatedIsStale() throws {
        let week: Int64 = 7 * 86_400
        let updated: Int64 = 1_796_637_600
        let p = try Self.payload(#"{"pull_request":{"updated_at":"2026-12-07T10:00:00Z"}}"#)
        #expect(PayloadAge.staleness(of: p, now: updated + 60, retentionSeconds: week) == nil)
        #expect(PayloadAge.staleness(of: p, now: updated + week - 3600, retentionSeconds: week) == nil)
        let stale = try #require(PayloadAge.staleness(of: p, now: updated + week - 3599, retentionSeconds: week))
        #expect(stale.contains("2026-12-07T10:00:00") && stale.contains("167 hours"), "\(stale)")
        let undated = try #require(PayloadAge.staleness(of: try Self.payload(#"{"action":"opened"}"#), now: updated, retentionSeconds: week))
        #expect(undated.contains("holds no time"))
    }
}
