import Foundation
import Testing

@testable import WardenAudit

@Suite struct FormatTests {
    @Test func canonicalSerialisationSortsKeysAndEscapes() {
        let v: AuditValue = ["b": 1, "a": ["x": true, "\u{7f}": nil], "c": "q\"\\\n\t\u{1}é"]
        let jcs = String(decoding: CanonicalJSON.serialize(v), as: UTF8.self)
        #expect(jcs == #"{"a":{"x":true,"\#u{7F}":null},"b":1,"c":"q\"\\\n\t\u0001é"}"#)
        let s = String(decoding: CanonicalJSON.serialize(v, form: .legacy), as: UTF8.self)
        #expect(s == #"{"a":{"x":true,"\u007f":null},"b":1,"c":"q\"\\\n\t\u0001é"}"#)
    }

    @Test func recordLineRoundTripsExactly() throws {
        let r = AuditRecord(
            seq: 7, ts: "2026-11-26T20:26:01.123456Z", kind: "deny.syscall", run: "run-1",
            fields: ["argv": .strings(["a b", "ü\u{0}"]), "n": -9_007_199_254_740_991], prev: AuditRecord.genesisHash)
        let line = r.lineBytes()
        #expect(try AuditRecord.parse(line: line) == r)
        let header = line.withUnsafeBytes { RecordHeader.scan($0) }
        #expect(header?.seq == 7)
    }

    @Test(arguments: [
        #"{"fields":{},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1} "#,
        #"{"fields":{} ,"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{"a":1.5},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{"a":1,"a":2},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{"a":"\/"},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":3}"#,
        #"{"fields":{},"kind":"Note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":01,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{"x":"\ud800"},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#,
        #"{"fields":{},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":0,"ts":"2026-11-26 20:26:01.123456Z","version":1}"#,
    ])
    func strictParserRejectsNonCanonicalLines(_ text: String) {
        #expect(throws: AuditFormatError.self) { try AuditRecord.parse(line: Array(text.utf8)) }
    }

    @Test func headerScanRejectsBrokenLayouts() {
        let good = #"{"fields":{},"kind":"note","prev":"0000000000000000000000000000000000000000000000000000000000000000","run":"r","seq":12,"ts":"2026-11-26T20:26:01.123456Z","version":1}"#
        #expect(Array(good.utf8).withUnsafeBytes { RecordHeader.scan($0) }?.seq == 12)
        for bad in [String(good.dropLast()), "x" + good.dropFirst(), good.replacingOccurrences(of: "\"seq\":12", with: "\"seq\":-1"),
                    good.replacingOccurrences(of: "000\",\"run", with: "00g\",\"run")] {
            #expect(Array(bad.utf8).withUnsafeBytes { RecordHeader.scan($0) } == nil, "\(bad)")
        }
    }

    @Test func timestampsAreRFC3339MicrosecondsUTC() {
        let t = AuditTime(seconds: 1_790_000_000, nanoseconds: 123_456_789)
        #expect(t.rfc3339 == "2026-09-21T14:13:20.123456Z")
    }

    @Test func base64RoundTripsAndIsStrict() {
        for n in 0..<70 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("QQ=") == nil)
        #expect(Base64.decode("QR==") == nil)  // non-zero padding bits
    }
}

