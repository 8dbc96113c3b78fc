#if canImport(Glibc)
import Glibc
#endif

/// The header of a record line, located without decoding the `fields` object.
///
/// Because keys are sorted and every header value after `fields` has a restricted alphabet
/// (no quotes or backslashes), the header can be read backwards from the end of the line in
/// constant time. The verifier uses this for every line and fully parses only checkpoint and
/// recovery records. Both record versions (1 and 2) have this layout.
struct RecordHeader {
    var seq: Int64
    /// 1 (legacy canonical form) or 2 (RFC 8785).
    var version: Int64
    var prev: Range<Int>
    var kind: Range<Int>
    var run: Range<Int>
    var ts: Range<Int>
    var fields: Range<Int>

    static let prefix: StaticString = #"{"fields":"#

    /// Byte classes: bit 0 kind byte, bit 1 run byte, bit 2 lowercase hex digit.
    static let classes: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for b in 0..<256 {
            let c = UInt8(b)
            if RecordSyntax.isKindByte(c) { t[b] |= 1 }
            if RecordSyntax.isRunByte(c) { t[b] |= 2 }
            if Hex.value(c) != nil { t[b] |= 4 }
        }
        return t
    }()

    /// Matches `s` ending at `e`; returns the new end or -1.
    @inline(__always)
    private static func lit(_ p: UnsafePointer<UInt8>, _ e: Int, _ s: StaticString) -> Int {
        let n = s.utf8CodeUnitCount
        guard e >= n else { return -1 }
        return memcmp(p + (e - n), s.utf8Start, n) == 0 ? e - n : -1
    }

    /// Digits ending at `e` (canonical: no leading zero, at most 18); returns their start or -1.
    @inline(__always)
    private static func digits(_ p: UnsafePointer<UInt8>, _ e: Int) -> Int {
        var i = e
        while i > 0, p[i - 1] &- 48 < 10 { i -= 1 }
        let n = e - i
        guard n > 0, n <= 18, n == 1 || p[i] != 48 else { return -1 }
        return i
    }

    /// A quoted string ending at `e` whose bytes all have class bit `mask` (0: any but `"`);
    /// returns the start of the contents or -1.
    @inline(__always)
    private static func quoted(_ p: UnsafePointer<UInt8>, _ e: Int, _ mask: UInt8, _ t: UnsafePointer<UInt8>) -> Int {
        guard e > 1, p[e - 1] == 34 else { return -1 }
        var i = e - 1
        while i > 0, p[i - 1] != 34 {
            if mask != 0 && t[Int(p[i - 1])] & mask == 0 { return -1 }
            i -= 1
        }
        guard i > 0, i < e - 1 else { return -1 }
        return i
    }

    /// Returns nil unless `line` has the exact canonical header layout.
    static func scan(_ line: UnsafeRawBufferPointer) -> RecordHeader? {
        guard let base = line.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        return classes.withUnsafeBufferPointer { tb -> RecordHeader? in
            let t = tb.baseAddress!
            var e = line.count
            guard e >= 2, p[e - 1] == UInt8(ascii: "}"), p[e - 2] == UInt8(ascii: "1") || p[e - 2] == UInt8(ascii: "2")
            else { return nil }
            let version = Int64(p[e - 2] &- 48)
            e = lit(p, e - 2, #","version":"#)
            guard e >= 0 else { return nil }
            let tsStart = quoted(p, e, 0, t)
            guard tsStart >= 0 else { return nil }
            let ts = tsStart..<(e - 1)
            guard AuditTime.isWellFormed(UnsafeRawBufferPointer(rebasing: line[ts])) else { return nil }
            e = lit(p, tsStart - 1, #","ts":"#)
            guard e >= 0 else { return nil }
            let seqStart = digits(p, e)
            guard seqStart >= 0 else { return nil }
            var seq: Int64 = 0
            for k in seqStart..<e { seq = seq &* 10 &+ Int64(p[k] &- 48) }
            guard version == 1 || seq <= RecordSyntax.maxSeq else { return nil }
            e = lit(p, seqStart, #","seq":"#)
            guard e >= 0 else { return nil }
            let runStart = quoted(p, e, 2, t)
            guard runStart >= 0, e - 1 - runStart <= 128 else { return nil }
            let run = runStart..<(e - 1)
            e = lit(p, runStart - 1, #","run":"#)
            guard e >= 0 else { return nil }
            let prevStart = quoted(p, e, 4, t)
            guard prevStart >= 0, e - 1 - prevStart == 64 else { return nil }
            let prev = prevStart..<(e - 1)
            e = lit(p, prevStart - 1, #","prev":"#)
            guard e >= 0 else { return nil }
            let kindStart = quoted(p, e, 1, t)
            guard kindStart >= 0, e - 1 - kindStart <= 64 else { return nil }
            let kind = kindStart..<(e - 1)
            e = lit(p, kindStart - 1, #","kind":"#)
            let n = prefix.utf8CodeUnitCount
            guard e > n + 1, p[e - 1] == UInt8(ascii: "}"), p[n] == UInt8(ascii: "{"),
                memcmp(p, prefix.utf8Start, n) == 0
            else { return nil }
            return RecordHeader(seq: seq, version: version, prev: prev, kind: kind, run: run, ts: ts, fields: n..<e)
        }
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
