import Testing

@testable import WardenAudit
import WardenTestSupport

/// RFC 8785 (JCS) serialisation, byte for byte, and the legacy (version 1) form beside it.
/// Expected bytes are written here from the RFC's rules.
@Suite struct CanonicalFormTests {
    private func jcs(_ v: AuditValue) -> String { String(decoding: CanonicalJSON.serialize(v, form: .jcs), as: UTF8.self) }
    private func legacy(_ v: AuditValue) -> String { String(decoding: CanonicalJSON.serialize(v, form: .legacy), as: UTF8.self) }

    @Test func literalsArraysAndNestingHaveNoWhitespace() {
        let v: AuditValue = ["b": [nil, true, false, [], [:]], "a": ["y": 0, "x": -1]]
        #expect(jcs(v) == #"{"a":{"x":-1,"y":0},"b":[null,true,false,[],{}]}"#)
    }

    @Test func keysSortByUTF16CodeUnits() {
        // One key from each interesting range: ASCII control, digit, Latin-1, BMP below the
        // surrogates, a supplementary character (a surrogate pair in UTF-16), and BMP above
        // the surrogates. UTF-16 puts the pair (0xD83D…) before U+FB33; UTF-8 would not.
        let v: AuditValue = [
            "\u{FB33}": 7, "\u{1F600}": 6, "\u{20AC}": 5, "\u{F6}": 4, "\u{80}": 3, "1": 2, "\r": 1,
        ]
        #expect(jcs(v) == "{\"\\r\":1,\"1\":2,\"\u{80}\":3,\"\u{F6}\":4,\"\u{20AC}\":5,\"\u{1F600}\":6,\"\u{FB33}\":7}")
        #expect(legacy(v) == "{\"\\r\":1,\"1\":2,\"\u{80}\":3,\"\u{F6}\":4,\"\u{20AC}\":5,\"\u{FB33}\":7,\"\u{1F600}\":6}")
    }

    @Test func privateUseSortsAfterEmojiOnlyInJCS() {
        let v: AuditValue = ["\u{E000}": "e000", "\u{1F600}": "emoji"]
        #expect(jcs(v) == "{\"\u{1F600}\":\"emoji\",\"\u{E000}\":\"e000\"}")
        #expect(legacy(v) == "{\"\u{E000}\":\"e000\",\"\u{1F600}\":\"emoji\"}")
        // A shared prefix: the shorter key first in both orders.
        let p: AuditValue = ["ab": 2, "a": 1, "a\u{E000}": 3, "a\u{10000}": 4]
        #expect(jcs(p) == "{\"a\":1,\"ab\":2,\"a\u{10000}\":4,\"a\u{E000}\":3}")
    }

    @Test func utf16OrderAgreesWithSwiftsUTF16View() {
        // Characters from every UTF-8 length class and both sides of the surrogate gap.
        let pool: [Unicode.Scalar] = [
            "\u{0}", "A", "a", "\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{EFFF}", "\u{F000}",
            "\u{FB33}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}",
        ]
        var rng = SeededRandom(seed: 0x5eed)
        func random() -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 4) { s.append(pool[Int(rng.next() % UInt64(pool.count))]) }
            return String(s)
        }
        var disagreements: [String] = []
        for _ in 0..<20_000 {
            let a = random()
            let b = random()
            let expected = a.utf16.lexicographicallyPrecedes(b.utf16)
            if KeyOrder.utf16Precedes(a, b) != expected { disagreements.append("\(a.unicodeScalars.map { $0.value }) vs \(b.unicodeScalars.map { $0.value })") }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }

    @Test func stringsEscapeOnlyQuoteBackslashAndControls() {
        let s: AuditValue = .string("\u{0}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{F}\u{1F} \"q\" \\ / \u{7F} \u{80} é \u{2028}\u{2029} \u{1F600}")
        let expected = #""\u0000\b\t\n\u000b\f\r\u000f\u001f \"q\" \\ / "# + "\u{7F} \u{80} é \u{2028}\u{2029} \u{1F600}\""
        #expect(jcs(s) == expected)
        #expect(legacy(s) == expected.replacingOccurrences(of: "\u{7F}", with: #"\u007f"#))
    }

    @Test func delIsRawInJCSAndEscapedInTheLegacyForm() {
        #expect(jcs(["k\u{7F}": "v\u{7F}"]) == "{\"k\u{7F}\":\"v\u{7F}\"}")
        #expect(legacy(["k\u{7F}": "v\u{7F}"]) == #"{"k\u007f":"v\u007f"}"#)
    }

    @Test func integersInsideIJSONAreNumbersAndBeyondAreStrings() {
        let v: AuditValue = [
            "a": 0, "b": 1, "c": -1, "d": 9_007_199_254_740_991, "e": -9_007_199_254_740_991,
            "f": 9_007_199_254_740_992, "g": -9_007_199_254_740_992, "h": .int(Int64.max), "i": .int(Int64.min),
        ]
        #expect(
            jcs(v)
                == #"{"a":0,"b":1,"c":-1,"d":9007199254740991,"e":-9007199254740991,"f":"9007199254740992","g":"-9007199254740992","h":"9223372036854775807","i":"-9223372036854775808"}"#
        )
        #expect(
            legacy(v)
                == #"{"a":0,"b":1,"c":-1,"d":9007199254740991,"e":-9007199254740991,"f":9007199254740992,"g":-9007199254740992,"h":9223372036854775807,"i":-9223372036854775808}"#
        )
    }

    @Test func recordLinesRoundTripInTheirOwnVersionOnly() throws {
        let fields: [String: AuditValue] = ["\u{E000}": "x\u{7F}", "\u{1F600}": .int(Int64.max), "n": 5]
        let v2 = AuditRecord(seq: 3, ts: "2026-12-07T10:00:00.000000Z", kind: "note", run: "r", fields: fields, prev: AuditRecord.genesisHash)
        let v1 = AuditRecord(
            version: AuditRecord.legacyVersion, seq: 3, ts: v2.ts, kind: "note", run: "r", fields: fields, prev: v2.prev)
        let l2 = v2.lineBytes()
        let l1 = v1.lineBytes()
        #expect(String(decoding: l2, as: UTF8.self).hasSuffix(#","version":2}"#))
        #expect(String(decoding: l2, as: UTF8.self).hasPrefix("{\"fields\":{\"n\":5,\"\u{1F600}\":\"9223372036854775807\",\"\u{E000}\":\"x\u{7F}\"}"))
        #expect(try AuditRecord.parse(line: l1) == v1)
        // The big integer reads back as the string JCS wrote: the parsed record is what the line says.
        let back = try AuditRecord.parse(line: l2)
        #expect(back.fields["\u{1F600}"] == .string("9223372036854775807"))
        #expect(back.lineBytes() == l2)
        // The other version's number with the same bytes is not canonical.
        func flip(_ l: [UInt8], _ from: String, _ to: String) -> [UInt8] {
            Array(String(decoding: l, as: UTF8.self).replacingOccurrences(of: #""version":\#(from)}"#, with: #""version":\#(to)}"#).utf8)
        }
        #expect(throws: AuditFormatError.notCanonical) { try AuditRecord.parse(line: flip(l2, "2", "1")) }
        #expect(throws: AuditFormatError.notCanonical) { try AuditRecord.parse(line: flip(l1, "1", "2")) }
        #expect(throws: AuditFormatError.self) { try AuditRecord.parse(line: flip(l2, "2", "3")) }
    }

    @Test func versionTwoRefusesASeqBeyondIJSON() {
        let line = #"{"fields":{},"kind":"note","prev":"\#(AuditRecord.genesisHash)","run":"r","seq":9007199254740992,"ts":"2026-11-26T20:26:01.123456Z","version":2}"#
        #expect(throws: AuditFormatError.self) { try AuditRecord.parse(line: Array(line.utf8)) }
        #expect(Array(line.utf8).withUnsafeBytes { RecordHeader.scan($0) } == nil)
        let legacyLine = line.replacingOccurrences(of: #""version":2"#, with: #""version":1"#)
        #expect((try? AuditRecord.parse(line: Array(legacyLine.utf8)))?.seq == 9_007_199_254_740_992)
    }
}

