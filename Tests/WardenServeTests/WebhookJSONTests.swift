import Testing
import WardenAudit
@testable import WardenServe

/// The body parser: blanks between tokens, numbers beyond integers, and hostile shapes.
@Suite struct WebhookJSONTests {
    func parse(_ s: String) throws(WebhookRejection) -> AuditValue { try WebhookJSON.parse(Array(s.utf8)) }
    func status(_ s: String) -> Int? { WebhookFixtures.rejection { () throws(WebhookRejection) in try parse(s) }?.status }

    @Test func blanksBetweenTokensAreAllowed() throws {
        #expect(try parse(" {\n\t\"a\" : [ 1 , true , null , \"x y\" ] ,\r\n \"b\" : { } }\n ") ==
                ["a": [1, true, nil, "x y"], "b": [:]])
        // Blanks and escaped quotes inside strings are kept.
        #expect(try parse(#"{"a":"  \"  b  \\ "}"#) == ["a": #"  "  b  \ "#])
    }

    @Test func blanksNeverJoinTokens() {
        for bad in ["- 1", "1 2", "[1 2]", "tr ue", "[nu ll]", "1 .5", "[1 e5]", "{\"a\":fal se}"] {
            #expect(status(bad) == 400, "\(bad)")
        }
    }

    @Test func numbersBeyondInt64BecomeStrings() throws {
        #expect(try parse("[1.5,-0.25,2e3,1E+2,9223372036854775807,9223372036854775808,-9223372036854775809,0]") ==
                ["1.5", "-0.25", "2e3", "1E+2", .int(Int64.max), "9223372036854775808", "-9223372036854775809", 0])
        for bad in ["01", "1.", ".5", "1e", "-", "+1", "1.2.3", "--1", "0x10", "1e+"] {
            #expect(status("[\(bad)]") == 400, "\(bad)")
        }
    }

    @Test func hostileShapes() {
        #expect(status("") == 400)
        #expect(status("   ") == 400)
        #expect(status(#"{"a":1,"a":1}"#) == 400)
        #expect(status(#"{"a":"\u0000"}"#) == nil)
        #expect(status("{\"a\":\"\u{1}\"}") == 400)
        #expect(status(#"{"a":"\ud800"}"#) == 400)
        #expect(status(#"{"a":1} {}"#) == 400)
        #expect(status(#"{"a":"unterminated}"#) == 400)
        #expect(status(#"{"a":"\"#) == 400)
        // Nesting: 64 levels parse, 65 do not, a hundred thousand fail fast without recursion trouble.
        #expect(status(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) == nil)
        #expect(status(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)) == 400)
        #expect(status(String(repeating: "[", count: 150_000)) == 400)
        #expect(status(String(repeating: "{\"a\":", count: 100_000)) == 400)
    }

    /// A reason quoting a huge hostile key stays short and printable.
    @Test func hugeDuplicateKeyReasonIsBounded() {
        // JSON escapes, so the parser reaches the duplicate and quotes the key (ESC and all).
        let key = String(repeating: "\\u001bx", count: 200_000)
        let r = WebhookFixtures.rejection { () throws(WebhookRejection) in try parse("{\"\(key)\":1,\"\(key)\":2}") }
        #expect(r?.status == 400)
        #expect(r?.reason.contains("duplicate key") == true)
        #expect((r?.reason.utf8.count ?? 999) <= WebhookRejection.maxReasonBytes)
        #expect(r?.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } == true)
    }

    @Test func valueCountIsBounded() {
        let many = "[" + String(repeating: "0,", count: WebhookJSON.maxValues) + "0]"
        #expect(status(many) == 413)
        let fits = "[" + String(repeating: "0,", count: WebhookJSON.maxValues - 2) + "0]"
        #expect(status(fits) == nil)
    }

    @Test func invalidUTF8IsRefused() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(WebhookFixtures.rejection { () throws(WebhookRejection) in try WebhookJSON.parse(bytes) }?.status == 400)
    }
}
