import Testing
@testable import WardenBrokerProtocol
import WardenTestSupport

/// Decodes `wire` fed in the given pieces; returns the data, the bytes consumed and whether it finished.
func decodeChunked(_ wire: [UInt8], pieces: [Int], discardTrailers: Bool = false) throws(HTTPRefusal) -> (data: [UInt8], consumed: Int, finished: Bool) {
    var decoder = ChunkedDecoder(discardTrailers: discardTrailers)
    var data: [UInt8] = []
    var offset = 0
    for size in pieces + [wire.count] {
        let end = min(wire.count, offset + size)
        let result = try decoder.feed(wire[offset..<end])
        data += result.data
        offset += result.consumed
        if result.finished { return (data, offset, true) }
        if end == wire.count { break }
    }
    return (data, offset, false)
}

@Suite struct ChunkedDecoderTests {
    static let wire = bytes("5\r\nhello\r\n000A\r\n, chunked!\r\n1\r\n \r\n0\r\n\r\nGET /next")

    @Test func decodesAndStopsAtTheEnd() throws {
        let result = try decodeChunked(Self.wire, pieces: [])
        #expect(String(decoding: result.data, as: UTF8.self) == "hello, chunked! ")
        #expect(result.finished)
        #expect(Array(Self.wire[result.consumed...]) == bytes("GET /next"))
    }

    @Test func everySplitPointGivesTheSameResult() throws {
        let whole = try decodeChunked(Self.wire, pieces: [])
        for split in 0...Self.wire.count {
            let result = try decodeChunked(Self.wire, pieces: [split])
            #expect(result.data == whole.data, "split \(split)")
            #expect(result.consumed == whole.consumed, "split \(split)")
        }
        let byteByByte = try decodeChunked(Self.wire, pieces: Array(repeating: 1, count: Self.wire.count))
        #expect(byteByByte.data == whole.data)
        #expect(byteByByte.consumed == whole.consumed)
    }

    @Test func encoderRoundTrips() throws {
        var generator = SeededRandom(seed: 7)
        for _ in 0..<50 {
            let chunks = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            let wire = chunks.flatMap(ChunkedEncoder.chunk) + ChunkedEncoder.end
            let pieces = (0..<4).map { _ in Int.random(in: 1...64, using: &generator) }
            let result = try decodeChunked(wire, pieces: pieces)
            #expect(result.data == chunks.flatMap { $0 })
            #expect(result.finished)
            #expect(result.consumed == wire.count)
        }
        #expect(ChunkedEncoder.chunk([]) == [])
        #expect(ChunkedEncoder.chunk(Array(repeating: 1, count: 255)).prefix(4) == bytes("ff\r\n")[...])
    }

    @Test(arguments: [
        "5;ext=1\r\nhello\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "+5\r\nhello\r\n0\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "\r\nhello\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhelloX\r\n0\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        "5\r\nhello\r\n0\r\n\n",
        "5\r\nhello\r\n0;x\r\n\r\n",
        "00000000000000005\r\nhello\r\n0\r\n\r\n",
        "g\r\n",
    ])
    func refuses(_ wire: String) {
        #expect(refusal { try decodeChunked(bytes(wire), pieces: []) }?.status == 400, "\(wire.debugDescription)")
    }

    @Test func sizesAreBounded() throws {
        #expect(refusal { try decodeChunked(bytes("FFFFFFFFFFFFFFFF\r\n"), pieces: []) }?.status == 413)
        #expect(refusal { try decodeChunked(bytes("10000000001\r\n"), pieces: []) }?.status == 413)
        let big = try decodeChunked(bytes("10000000000\r\n"), pieces: [])
        #expect(!big.finished)
        // Sixteen digits with leading zeros are fine.
        let padded = try decodeChunked(bytes("0000000000000001\r\na\r\n0\r\n\r\n"), pieces: [])
        #expect(padded.data == bytes("a"))
    }

    @Test func trailersCanBeDiscardedForResponses() throws {
        let wire = bytes("3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: b\r\n\r\nrest")
        let result = try decodeChunked(wire, pieces: [], discardTrailers: true)
        #expect(result.data == bytes("abc"))
        #expect(result.finished)
        #expect(Array(wire[result.consumed...]) == bytes("rest"))
        for split in 0...wire.count {
            #expect(try decodeChunked(wire, pieces: [split], discardTrailers: true).consumed == result.consumed)
        }
        #expect(refusal { try decodeChunked(bytes("0\r\nX: a\u{1}\r\n\r\n"), pieces: [], discardTrailers: true) } != nil)
        #expect(refusal { try decodeChunked(bytes("0\r\n folded\r\n\r\n"), pieces: [], discardTrailers: true) } != nil)
        let endless = bytes("0\r\n") + [UInt8](repeating: UInt8(ascii: "a"), count: ChunkedDecoder.maxTrailerBytes + 1)
        #expect(refusal { try decodeChunked(endless, pieces: [], discardTrailers: true) } != nil)
    }
}
