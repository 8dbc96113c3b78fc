import Testing
@testable import WardenBrokerProtocol

@Suite struct HeadEndScannerTests {
    @Test func findsTheEndInOneBuffer() {
        let head = request("GET / HTTP/1.1")
        #expect(scanForHeadEnd(head + bytes("body"), limit: 1024) == .complete(headLength: head.count))
        #expect(scanForHeadEnd(Array(head.dropLast()), limit: 1024) == .needMore)
        #expect(scanForHeadEnd([], limit: 1024) == .needMore)
    }

    @Test func stopsAtABareLFSoTheParserRefusesIt() {
        let head = bytes("GET / HTTP/1.1\nHost: a\n\n")
        guard case .complete(let length) = scanForHeadEnd(head, limit: 1024) else {
            Issue.record("no end found")
            return
        }
        #expect(length == 15)
        #expect(refusal { try RequestHead.parse(Array(head[..<length])) }?.status == 400)
    }

    @Test func reportsTooLarge() {
        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: 100)
        #expect(scanForHeadEnd(filler, limit: 100) == .tooLarge)
        #expect(scanForHeadEnd(filler, limit: 101) == .needMore)
        let exact = bytes("GET / HTTP/1.1\r\n\r\n")
        #expect(scanForHeadEnd(exact, limit: exact.count) == .complete(headLength: exact.count))
        #expect(scanForHeadEnd(exact, limit: exact.count - 1) == .tooLarge)
    }

    /// Feeding the buffer at every split point gives the same answer as one scan.
    @Test func resumesAtEverySplit() {
        let message = request("POST /x HTTP/1.1", ["Host: a", "Content-Length: 3"]) + bytes("abc")
        let expected = message.count - 3
        for split in 0...message.count {
            var scanner = HeadEndScanner(limit: 4096)
            var result = scanner.scan(Array(message[..<split]))
            if result == .needMore { result = scanner.scan(message) }
            #expect(result == .complete(headLength: expected), "split \(split)")
        }
        var scanner = HeadEndScanner(limit: 4096)
        var result = HeadScan.needMore
        for end in 1...message.count where result == .needMore {
            result = scanner.scan(Array(message[..<end]))
        }
        #expect(result == .complete(headLength: expected))
    }

    /// A 64 KiB head arriving one byte at a time is examined once per byte, not once per read.
    @Test func oneByteReadsAreLinear() {
        let filler = String(repeating: "x", count: HTTPLimits.maxHeadBytes - 64)
        let message = request("GET / HTTP/1.1", ["Host: a", "X: \(filler)"])
        var scanner = HeadEndScanner()
        var result = HeadScan.needMore
        var stepsExamined = 0
        message.withUnsafeBytes { all in
            for end in 1...all.count where result == .needMore {
                let before = scanner.examined
                result = scanner.scan(UnsafeRawBufferPointer(rebasing: all[..<end]))
                stepsExamined += scanner.examined - before
            }
        }
        #expect(result == .complete(headLength: message.count))
        #expect(stepsExamined == message.count)
    }
}
