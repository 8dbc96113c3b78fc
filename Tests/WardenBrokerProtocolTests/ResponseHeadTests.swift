import Testing
@testable import WardenBrokerProtocol

func response(_ line: String, _ headers: [String]) -> [UInt8] {
    bytes(([line] + headers).map { $0 + "\r\n" }.joined() + "\r\n")
}

@Suite struct ResponseHeadTests {
    @Test func parsesACommonResponse() throws {
        let head = try ResponseHead.parse(response("HTTP/1.1 200 OK", ["Content-Type: text/event-stream", "Transfer-Encoding: chunked"]), requestMethod: "POST")
        #expect(head.status == 200)
        #expect(head.reason == "OK")
        #expect(head.framing == .chunked)
        #expect(head.keepAlive)
        #expect(!head.isInterim)
    }

    @Test func toleratesMissingOrEmptyReason() throws {
        #expect(try ResponseHead.parse(response("HTTP/1.1 200", ["Content-Length: 0"]), requestMethod: "GET").reason == "")
        #expect(try ResponseHead.parse(response("HTTP/1.1 404 ", ["Content-Length: 0"]), requestMethod: "GET").status == 404)
        #expect(try ResponseHead.parse(response("HTTP/1.1 200 Very  Fine\tIndeed", []), requestMethod: "GET").reason == "Very  Fine\tIndeed")
    }

    @Test(arguments: [
        ("HEAD", "HTTP/1.1 200 OK", ["Content-Length: 50"], BodyFraming.none),
        ("GET", "HTTP/1.1 204 No Content", [], BodyFraming.none),
        ("GET", "HTTP/1.1 304 Not Modified", ["Content-Length: 50"], BodyFraming.none),
        ("GET", "HTTP/1.1 100 Continue", [], BodyFraming.none),
        ("GET", "HTTP/1.1 103 Early Hints", ["Link: </a>; rel=preload"], BodyFraming.none),
        ("GET", "HTTP/1.1 200 OK", ["Content-Length: 50"], BodyFraming.length(50)),
        ("GET", "HTTP/1.1 200 OK", ["transfer-encoding: CHUNKED"], BodyFraming.chunked),
        ("GET", "HTTP/1.1 200 OK", [], BodyFraming.untilClose),
        ("GET", "HTTP/1.0 200 OK", [], BodyFraming.untilClose),
        ("HEAD", "HTTP/1.1 200 OK", ["Transfer-Encoding: chunked"], BodyFraming.none),
    ])
    func framing(_ method: String, _ line: String, _ headers: [String], _ expected: BodyFraming) throws {
        #expect(try ResponseHead.parse(response(line, headers), requestMethod: method).framing == expected)
    }

    @Test func latin1ValuesAreRepairedNotRefused() throws {
        var wire = bytes("HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"caf")
        wire += [0xE9]
        wire += bytes(".txt\"\r\nContent-Length: 0\r\n\r\n")
        let head = try ResponseHead.parse(wire, requestMethod: "GET")
        #expect(head.values(of: "content-disposition") == ["attachment; filename=\"caf\u{FFFD}.txt\""])
    }

    @Test func keepAlive() throws {
        #expect(try ResponseHead.parse(response("HTTP/1.1 200 OK", ["Content-Length: 1"]), requestMethod: "GET").keepAlive)
        #expect(try !ResponseHead.parse(response("HTTP/1.1 200 OK", ["Content-Length: 1", "Connection: close"]), requestMethod: "GET").keepAlive)
        #expect(try !ResponseHead.parse(response("HTTP/1.1 200 OK", []), requestMethod: "GET").keepAlive)
        #expect(try !ResponseHead.parse(response("HTTP/1.0 200 OK", ["Content-Length: 1"]), requestMethod: "GET").keepAlive)
        #expect(try ResponseHead.parse(response("HTTP/1.0 200 OK", ["Content-Length: 1", "Connection: keep-alive"]), requestMethod: "GET").keepAlive)
    }

    @Test func interimResponses() throws {
        let head = try ResponseHead.parse(response("HTTP/1.1 100 Continue", []), requestMethod: "POST")
        #expect(head.isInterim)
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test(arguments: [
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 600 High\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 200 O\u{1}K\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\u{0}\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 1\r\n\r\n",
    ])
    func refuses(_ head: String) {
        #expect(refusal { try ResponseHead.parse(bytes(head), requestMethod: "GET") }?.status == 502, "\(head.debugDescription)")
    }

    @Test func serializationDropsHopByHopAndKeepsFraming() throws {
        let head = try ResponseHead.parse(response("HTTP/1.1 200 OK", [
            "Content-Type: application/json", "Transfer-Encoding: chunked", "Connection: keep-alive, X-Internal",
            "X-Internal: 1", "Keep-Alive: timeout=5", "Upgrade: h2,h2c", "Set-Cookie: a=1", "Set-Cookie: b=2",
        ]), requestMethod: "GET")
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
        let closing = try ResponseHead.parse(response("HTTP/1.0 200 OK", ["Content-Type: text/plain"]), requestMethod: "GET")
        #expect(String(decoding: closing.serialized(), as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    }
}
