/// The header of a record line, located without decoding the `fields` object.
///
/// Because keys are sorted and every header value after `fields` has a restricted alphabet
/// (no quotes or backslashes), the header can be read backwards from the end of the line in
/// constant time. The verifier uses this for every line and fully parses only checkpoint and
/// recovery records.
struct RecordHeader {
    var seq: Int64
    var prev: Range<Int>
    var kind: Range<Int>
    var run: Range<Int>
    var ts: Range<Int>
    var fields: Range<Int>

    static let prefix: StaticString = #"{"fields":"#

    /// Returns nil unless `line` has the exact canonical header layout.
    static func scan(_ line: UnsafeRawBufferPointer) -> RecordHeader? {
        var e = line.count
        func lit(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard e >= n else { return false }
            let p = s.utf8Start
            for k in 0..<n where line[e - n + k] != p[k] { return false }
            e -= n
            return true
        }
        func digits() -> Range<Int>? {
            let end = e
            while e > 0, line[e - 1] >= UInt8(ascii: "0"), line[e - 1] <= UInt8(ascii: "9") { e -= 1 }
            let r = e..<end
            guard !r.isEmpty, r.count <= 18, r.count == 1 || line[r.lowerBound] != UInt8(ascii: "0") else { return nil }
            return r
        }
        func quoted(_ ok: (UInt8) -> Bool) -> Range<Int>? {
            guard e > 0, line[e - 1] == UInt8(ascii: "\"") else { return nil }
            e -= 1
            let end = e
            while e > 0, line[e - 1] != UInt8(ascii: "\"") {
                guard ok(line[e - 1]) else { return nil }
                e -= 1
            }
            guard e > 0, e < end else { return nil }
            let r = e..<end
            e -= 1
            return r
        }
        guard lit("}"), let v = digits(), v.count == 1, line[v.lowerBound] == UInt8(ascii: "1"), lit(#","version":"#)
        else { return nil }
        guard let ts = quoted({ _ in true }), lit(#","ts":"#),
            AuditTime.isWellFormed(UnsafeRawBufferPointer(rebasing: line[ts]))
        else { return nil }
        guard let seqR = digits(), lit(#","seq":"#) else { return nil }
        guard let run = quoted(RecordSyntax.isRunByte), run.count <= 128, lit(#","run":"#) else { return nil }
        guard let prev = quoted({ Hex.value($0) != nil }), prev.count == 64, lit(#","prev":"#) else { return nil }
        guard let kind = quoted(RecordSyntax.isKindByte), kind.count <= 64, lit(#","kind":"#) else { return nil }
        let n = prefix.utf8CodeUnitCount
        guard e > n + 1, line[e - 1] == UInt8(ascii: "}"), line[n] == UInt8(ascii: "{") else { return nil }
        let p = prefix.utf8Start
        for k in 0..<n where line[k] != p[k] { return nil }
        var seq: Int64 = 0
        for k in seqR { seq = seq * 10 + Int64(line[k] - UInt8(ascii: "0")) }
        return RecordHeader(seq: seq, prev: prev, kind: kind, run: run, ts: ts, fields: n..<e)
    }

    static func equals(_ line: UnsafeRawBufferPointer, _ r: Range<Int>, _ s: StaticString) -> Bool {
        guard r.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for (k, i) in r.enumerated() where line[i] != p[k] { return false }
        return true
    }

    static func string(_ line: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: line[r]), as: UTF8.self)
    }
}
