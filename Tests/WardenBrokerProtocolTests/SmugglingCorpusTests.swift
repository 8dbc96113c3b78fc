import Testing
@testable import WardenBrokerProtocol

/// The classic request-smuggling shapes (CL.TE, TE.CL, TE.TE obfuscations, duplicate
/// lengths, line-ending tricks): the broker never guesses which framing the server will use.
@Suite struct SmugglingCorpusTests {
    static let obfuscatedTransferEncodings = [
        "Transfer-Encoding: xchunked",
        "Transfer-Encoding: chunked, identity",
        "Transfer-Encoding: identity, chunked",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding: chunk",
        "Transfer-Encoding: \"chunked\"",
        "Transfer-Encoding: chunked\u{0B}",
        "Transfer-Encoding:\u{0C}chunked",
        "Transfer-Encoding: chun\u{0}ked",
        "Transfer-Encoding : chunked",
        "Transfer-Encoding\t: chunked",
        " Transfer-Encoding: chunked",
        "\tTransfer-Encoding: chunked",
        "Transfer-Encoding:\r\n chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: x",
        "Transfer-Encoding: x\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chun\u{212A}ed",
        "Transfer_Encoding: chunked",
        "Transfer-Encoding: chunked\rX: y",
        "X: y\nTransfer-Encoding: chunked",
        "Transfer-Encoding: \u{E9}chunked",
    ]

    /// With a Content-Length beside it, every Transfer-Encoding variant is refused.
    @Test(arguments: obfuscatedTransferEncodings)
    func transferEncodingWithContentLength(_ line: String) {
        let wire = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\(line)\r\n\r\n0\r\n\r\nG"
        #expect(parse(wire) != nil, "accepted: \(line.debugDescription)")
    }

    /// Alone, a variant is refused unless it is exactly `chunked`.
    @Test(arguments: obfuscatedTransferEncodings)
    func transferEncodingAlone(_ line: String) {
        let wire = "POST /a HTTP/1.1\r\nHost: a\r\n\(line)\r\n\r\n"
        #expect(parse(wire) != nil, "accepted: \(line.debugDescription)")
    }

    @Test(arguments: [
        // CL.TE and TE.CL.
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        // Duplicate and odd Content-Length.
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nGET /",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\u{0C}\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 05\r\nContent_Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n",
        // TE on HTTP/1.0.
        "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        // Line endings.
        "POST / HTTP/1.1\nHost: a\nContent-Length: 5\n\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\n",
        "POST / HTTP/1.1\r\nHost: a\rContent-Length: 5\r\n\r\n",
        // Host confusion.
        "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n Host: b\r\n\r\n",
        "GET /a HTTP/1.1 HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func refusesClassicShapes(_ wire: String) {
        #expect(parse(wire) != nil, "accepted: \(wire.debugDescription)")
    }

    @Test func plainChunkedWithTabIsUnambiguous() throws {
        let head = try RequestHead.parse(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked \r\n\r\n"))
        #expect(head.framing == .chunked)
    }

    /// Parses the head of `wire` the way the broker does; returns the refusal, nil if accepted.
    func parse(_ wire: String) -> HTTPRefusal? {
        let all = bytes(wire)
        switch scanForHeadEnd(all, limit: HTTPLimits.maxHeadBytes) {
        case .complete(let length):
            return refusal { try RequestHead.parse(Array(all[..<length])) }
        case .needMore, .tooLarge:
            return HTTPRefusal(status: 400, reason: "no head end")
        }
    }
}
