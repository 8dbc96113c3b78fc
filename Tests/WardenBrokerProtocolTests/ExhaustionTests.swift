import Testing
@testable import WardenBrokerProtocol

/// Hostile sizes: every input is bounded, refusals stay short, nothing is quadratic.
@Suite struct ExhaustionTests {
    @Test func refusalReasonsStayShortForHugeNames() {
        let name = String(repeating: "N", count: 60_000)
        let result = refusal { try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "\(name): a\u{1}b"])) }
        #expect(result?.status == 400)
        #expect((result?.reason.utf8.count ?? .max) < 200)
    }

    @Test func longPathsAndQueriesAreLinear() throws {
        let path = "/" + Array(repeating: "%41b", count: 10_000).joined(separator: "/")
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            let head = try RequestHead.parse(request("GET \(path)?\(String(repeating: "q", count: 1000)) HTTP/1.1"))
            #expect(head.decodedPath.utf8.count == path.utf8.count - 10_000 * 2)
        }
        #expect(elapsed < .seconds(5))
    }

    @Test func manyLinesBeyondTheHeaderLimitAreRefusedCheaply() {
        let lines = Array(repeating: "X: y", count: 10_000)
        let wire = request("GET / HTTP/1.1", ["Host: a"] + lines)
        #expect(refusal { try RequestHead.parse(wire) }?.status == 431)
    }

    @Test func shallowFloodIsBoundedByTheLimit() {
        let shallow = pkt("shallow \(oidA)\n")
        let body = Array([[UInt8]](repeating: shallow, count: 20_000).joined())
        #expect(parseReceivePackCommands(body, limit: 64 * 1024) == .invalid("push command list longer than 65536 bytes"))
    }

    @Test func endlessChunkSizeZerosAreRefused() {
        var decoder = ChunkedDecoder()
        let zeros = [UInt8](repeating: UInt8(ascii: "0"), count: 17)
        #expect(refusal { try decoder.feed(zeros[...]) }?.status == 400)
    }

    @Test func endlessChunksOfOneByteAreStreamedNotBuffered() throws {
        var decoder = ChunkedDecoder()
        let piece = ChunkedEncoder.chunk([0x61])
        var total = 0
        for _ in 0..<10_000 {
            let result = try decoder.feed(piece[...])
            total += result.data.count
            #expect(result.consumed == piece.count)
        }
        #expect(total == 10_000)
    }
}
