import Foundation
import Testing

@testable import WardenAudit

/// Every kind of tampering on a 1,000+ record signed log is detected at the right line.
@Suite struct TamperTests {
    @Test func pristineLogVerifies() throws {
        let f = try TamperFixture.get()
        #expect(f.lines.count > 1000)
        let r = try f.verify(f.bytes)
        #expect(r.status == .intact, "\(r.text(path: "fixture"))")
        #expect(r.recoveries.count == 1)
        #expect(r.recoveries.first?.line == f.recoveryIndex + 1)
        #expect(r.verifiedCheckpoints >= 11)  // one per run plus the automatic one at seq 1000
        #expect(r.records == f.lines.count - 1)
        let untrusted = try f.verify(f.bytes, trusted: false)
        #expect(untrusted.status == .intact)
    }

    /// Representative lines: first records, run boundaries, checkpoints (automatic and end of
    /// run), the torn line, its recovery and neighbours, and the last two lines.
    func sampleLines(_ f: TamperFixture) -> [Int] {
        var s: Set<Int> = [0, 1, 2, 50, f.tornIndex - 1, f.tornIndex, f.recoveryIndex, f.recoveryIndex + 1]
        s.insert(f.lines.count - 1)
        s.insert(f.lines.count - 2)
        for (i, l) in f.lines.enumerated() {
            let text = String(decoding: l, as: UTF8.self)
            if text.contains(#""kind":"checkpoint""#), s.filter({ f.lines[$0].count > 300 && String(decoding: f.lines[$0], as: UTF8.self).contains("checkpoint") }).count < 3 { s.insert(i) }
            if text.contains(#""kind":"run.exit""#), i > 500, !s.contains(where: { String(decoding: f.lines[$0], as: UTF8.self).contains("run.exit") }) { s.insert(i) }
            if text.contains(#""seq":1000,"#) { s.insert(i); s.insert(i - 1) }
        }
        return s.sorted()
    }

    @Test func everySingleByteChangeIsDetectedAtItsLine() throws {
        let f = try TamperFixture.get()
        var checked = 0
        for i in sampleLines(f) {
            let start = f.offset(of: i)
            for p in 0..<f.lines[i].count {
                for flip: UInt8 in [0x01, 0x40] {
                    var b = f.bytes
                    b[start + p] ^= flip
                    let r = try f.verify(b)
                    checked += 1
                    #expect(r.status == .tampered, "line \(i + 1) byte \(p) ^ \(flip): \(r.text(path: "x"))")
                    #expect(r.failure?.line == i + 1, "line \(i + 1) byte \(p) ^ \(flip): \(r.failure?.message ?? "-")")
                    if i != f.tornIndex, r.failure?.line == i + 1 {
                        #expect(r.failure?.expectedSeq == f.seqs[i], "line \(i + 1) byte \(p)")
                    }
                }
            }
        }
        #expect(checked > 5000)
    }

    @Test func singleByteChangesInMiddleLinesNeedNoTrustedCheckpoint() throws {
        let f = try TamperFixture.get()
        for i in [0, 3, f.tornIndex - 1, f.recoveryIndex + 1, f.lines.count - 2] {
            let start = f.offset(of: i)
            for p in 0..<f.lines[i].count {
                var b = f.bytes
                b[start + p] ^= 0x01
                let r = try f.verify(b, trusted: false)
                #expect(r.status == .tampered && r.failure?.line == i + 1, "line \(i + 1) byte \(p): \(r.failure?.message ?? r.statusName)")
            }
        }
        // The last line is a signed checkpoint: any change is either a bad signature or leaves
        // the log without a covering checkpoint; never "intact".
        let last = f.lines.count - 1
        for p in 0..<f.lines[last].count {
            var b = f.bytes
            b[f.offset(of: last) + p] ^= 0x01
            let r = try f.verify(b, trusted: false)
            #expect(r.status != .intact, "last line byte \(p)")
        }
    }

    /// Lines whose removal or move is reported at the torn line rather than the line after it
    /// (the torn line is then no longer followed by its recovery record).
    func tornNeighbourhood(_ f: TamperFixture, _ i: Int) -> Bool {
        i == f.tornIndex || i == f.recoveryIndex || i == f.tornIndex - 1
    }

    @Test func everyLineDeletionIsDetected() throws {
        let f = try TamperFixture.get()
        for i in 0..<f.lines.count {
            var l = f.lines
            l.remove(at: i)
            let r = try f.verify(f.join(l))
            #expect(r.status == .tampered, "delete line \(i + 1)")
            if tornNeighbourhood(f, i) {
                #expect([i, i + 1].contains(r.failure?.line ?? -1), "delete line \(i + 1): \(r.failure?.message ?? "")")
            } else {
                #expect(r.failure?.line == i + 1, "delete line \(i + 1): \(r.failure?.message ?? "")")
                #expect(r.failure?.expectedSeq == f.seqs[i], "delete line \(i + 1)")
            }
        }
    }

    @Test func everyLineDuplicationIsDetected() throws {
        let f = try TamperFixture.get()
        for i in 0..<f.lines.count {
            var l = f.lines
            l.insert(f.lines[i], at: i + 1)
            let r = try f.verify(f.join(l))
            #expect(r.status == .tampered, "duplicate line \(i + 1)")
            if tornNeighbourhood(f, i) {
                #expect([i + 1, i + 2].contains(r.failure?.line ?? -1), "duplicate line \(i + 1): \(r.failure?.message ?? "")")
            } else {
                #expect(r.failure?.line == i + 2, "duplicate line \(i + 1): \(r.failure?.message ?? "")")
                #expect(r.failure?.seq == f.seqs[i], "duplicate line \(i + 1)")
            }
        }
    }

    @Test func everyAdjacentSwapIsDetected() throws {
        let f = try TamperFixture.get()
        for i in 0..<(f.lines.count - 1) {
            var l = f.lines
            l.swapAt(i, i + 1)
            let r = try f.verify(f.join(l))
            #expect(r.status == .tampered, "swap lines \(i + 1) and \(i + 2)")
            if tornNeighbourhood(f, i) || tornNeighbourhood(f, i + 1) {
                #expect([i, i + 1].contains(r.failure?.line ?? -1), "swap \(i + 1): \(r.failure?.message ?? "")")
            } else {
                #expect(r.failure?.line == i + 1, "swap lines \(i + 1) and \(i + 2): \(r.failure?.message ?? "")")
                #expect(r.failure?.expectedSeq == f.seqs[i], "swap \(i + 1)")
            }
        }
    }

    @Test func everyTruncationIsDetectedAgainstTheTrustedCheckpoint() throws {
        let f = try TamperFixture.get()
        var starts: [Int] = []
        var o = 0
        for l in f.lines { starts.append(o); o += l.count }
        var lineIndex = 0
        for cut in 0..<f.bytes.count {
            while lineIndex + 1 < starts.count && starts[lineIndex + 1] <= cut { lineIndex += 1 }
            let r = try f.verify(Array(f.bytes[..<cut]))
            // The first line that is not intact: the partial line, or the first missing one.
            let expected = lineIndex + 1
            #expect(r.status == .tampered, "truncate at \(cut)")
            if lineIndex == f.recoveryIndex && cut == starts[lineIndex] {
                #expect(r.failure?.line == f.tornIndex + 1, "truncate at \(cut)")  // torn line left at the end
            } else {
                #expect(r.failure?.line == expected, "truncate at \(cut): \(r.failure?.message ?? "")")
            }
        }
    }

    @Test func truncationWithoutTrustedCheckpointIsAtLeastAWarning() throws {
        let f = try TamperFixture.get()
        // Mid-line truncations leave a torn tail: a warning, never "intact".
        for i in stride(from: 0, to: f.lines.count, by: 97) {
            let cut = f.offset(of: i) + f.lines[i].count / 2
            let r = try f.verify(Array(f.bytes[..<cut]), trusted: false)
            #expect(r.status == .warnings, "cut in line \(i + 1)")
            #expect(r.warnings.contains { $0.code == "torn-tail" && $0.line == i + 1 }, "cut in line \(i + 1)")
        }
    }
}
