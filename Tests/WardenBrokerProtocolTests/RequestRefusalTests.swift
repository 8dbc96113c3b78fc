import Testing
@testable import WardenBrokerProtocol

/// Every shape the request parser refuses, with the status the agent gets.
@Suite struct RequestRefusalTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let head: String
        let status: Int
        var testDescription: String { name }
    }

    static let h = "Host: a\r\n"

    static let cases: [Case] = [
        // Request line.
        Case(name: "empty line before request line", head: "\r\nGET / HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "double space", head: "GET  / HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "tab separator", head: "GET\t/ HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "trailing space", head: "GET / HTTP/1.1 \r\n\(h)\r\n", status: 400),
        Case(name: "leading space", head: " GET / HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "missing version", head: "GET /\r\n\(h)\r\n", status: 400),
        Case(name: "lowercase version", head: "GET / http/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "HTTP/2.0", head: "GET / HTTP/2.0\r\n\(h)\r\n", status: 505),
        Case(name: "HTTP/0.9", head: "GET / HTTP/0.9\r\n\(h)\r\n", status: 505),
        Case(name: "HTTP/1.10", head: "GET / HTTP/1.10\r\n\(h)\r\n", status: 400),
        Case(name: "method not a token", head: "G(T / HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "CONNECT authority-form", head: "CONNECT api.example.com:443 HTTP/1.1\r\n\(h)\r\n", status: 501),
        Case(name: "CONNECT origin-form", head: "CONNECT / HTTP/1.1\r\n\(h)\r\n", status: 501),
        Case(name: "authority-form target", head: "GET a:443 HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "asterisk-form", head: "OPTIONS * HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "fragment", head: "GET /a#b HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "fragment in query", head: "GET /a?x#b HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "non-ASCII target", head: "GET /caf\u{E9} HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "control byte in query", head: "GET /a?\u{7F} HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form without path", head: "GET http://a HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form query without path", head: "GET http://a?x HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form userinfo", head: "GET http://u:p@a/ HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form other scheme", head: "GET ftp://a/ HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form other host", head: "GET http://b/ HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "absolute-form bad port", head: "GET http://a:0/ HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "scheme-relative", head: "GET //a/b HTTP/1.1\r\n\(h)\r\n", status: 400),
        // Path safety through the parser.
        Case(name: "encoded slash", head: "GET /a%2Fb HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "dot-dot", head: "GET /a/../b HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "encoded dot-dot", head: "GET /a/%2e%2E/b HTTP/1.1\r\n\(h)\r\n", status: 400),
        Case(name: "backslash", head: "GET /a\\b HTTP/1.1\r\n\(h)\r\n", status: 400),
        // Line endings and bytes.
        Case(name: "bare LF after request line", head: "GET / HTTP/1.1\n\(h)\r\n", status: 400),
        Case(name: "bare LF ending", head: "GET / HTTP/1.1\r\nHost: a\n\n", status: 400),
        Case(name: "bare CR", head: "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", status: 400),
        Case(name: "NUL in value", head: "GET / HTTP/1.1\r\n\(h)X: a\u{0}b\r\n\r\n", status: 400),
        Case(name: "NUL in name", head: "GET / HTTP/1.1\r\n\(h)X\u{0}: a\r\n\r\n", status: 400),
        Case(name: "control byte in value", head: "GET / HTTP/1.1\r\n\(h)X: a\u{1B}b\r\n\r\n", status: 400),
        Case(name: "DEL in value", head: "GET / HTTP/1.1\r\n\(h)X: a\u{7F}\r\n\r\n", status: 400),
        Case(name: "head not terminated", head: "GET / HTTP/1.1\r\n\(h)", status: 400),
        Case(name: "content after the end", head: "GET / HTTP/1.1\r\n\(h)\r\nX: y\r\n\r\n", status: 400),
        // Header lines.
        Case(name: "obs-fold", head: "GET / HTTP/1.1\r\n\(h)X: a\r\n b\r\n\r\n", status: 400),
        Case(name: "obs-fold tab", head: "GET / HTTP/1.1\r\n\(h)X: a\r\n\tb\r\n\r\n", status: 400),
        Case(name: "space before colon", head: "GET / HTTP/1.1\r\n\(h)X : a\r\n\r\n", status: 400),
        Case(name: "tab before colon", head: "GET / HTTP/1.1\r\n\(h)X\t: a\r\n\r\n", status: 400),
        Case(name: "no colon", head: "GET / HTTP/1.1\r\n\(h)X a\r\n\r\n", status: 400),
        Case(name: "empty name", head: "GET / HTTP/1.1\r\n\(h): a\r\n\r\n", status: 400),
        Case(name: "name with slash", head: "GET / HTTP/1.1\r\n\(h)X/Y: a\r\n\r\n", status: 400),
        // Host.
        Case(name: "no Host", head: "GET / HTTP/1.1\r\nX: y\r\n\r\n", status: 400),
        Case(name: "no Host on 1.0", head: "GET / HTTP/1.0\r\nX: y\r\n\r\n", status: 400),
        Case(name: "two Hosts", head: "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "empty Host", head: "GET / HTTP/1.1\r\nHost:\r\n\r\n", status: 400),
        Case(name: "Host with path", head: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400),
        Case(name: "Host with userinfo", head: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", status: 400),
        Case(name: "Host list", head: "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", status: 400),
        Case(name: "Host trailing dot", head: "GET / HTTP/1.1\r\nHost: a.example.\r\n\r\n", status: 400),
        Case(name: "Host empty port", head: "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", status: 400),
        Case(name: "Host port too big", head: "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", status: 400),
        Case(name: "Host signed port", head: "GET / HTTP/1.1\r\nHost: a:+80\r\n\r\n", status: 400),
        Case(name: "Host two colons", head: "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", status: 400),
        Case(name: "Host percent", head: "GET / HTTP/1.1\r\nHost: a%2eb\r\n\r\n", status: 400),
        Case(name: "Host IPv6 zone", head: "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", status: 400),
        Case(name: "Host non-ASCII", head: "GET / HTTP/1.1\r\nHost: caf\u{E9}.example\r\n\r\n", status: 400),
        // Framing.
        Case(name: "CL and TE", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
        Case(name: "TE and CL", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", status: 400),
        Case(name: "duplicate CL equal", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 3\r\nContent-Length: 3\r\n\r\n", status: 400),
        Case(name: "duplicate CL differing", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 3\r\nContent-Length: 4\r\n\r\n", status: 400),
        Case(name: "CL list", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 3, 3\r\n\r\n", status: 400),
        Case(name: "CL signed", head: "POST / HTTP/1.1\r\n\(h)Content-Length: +3\r\n\r\n", status: 400),
        Case(name: "CL negative", head: "POST / HTTP/1.1\r\n\(h)Content-Length: -1\r\n\r\n", status: 400),
        Case(name: "CL hex", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 0x10\r\n\r\n", status: 400),
        Case(name: "CL empty", head: "POST / HTTP/1.1\r\n\(h)Content-Length:\r\n\r\n", status: 400),
        Case(name: "CL inner space", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 1 2\r\n\r\n", status: 400),
        Case(name: "CL overflow", head: "POST / HTTP/1.1\r\n\(h)Content-Length: 99999999999999999999999\r\n\r\n", status: 413),
        Case(name: "TE xchunked", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: xchunked\r\n\r\n", status: 501),
        Case(name: "TE chunked, identity", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked, identity\r\n\r\n", status: 501),
        Case(name: "TE identity", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: identity\r\n\r\n", status: 501),
        Case(name: "TE gzip, chunked", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip, chunked\r\n\r\n", status: 501),
        Case(name: "TE quoted", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: \"chunked\"\r\n\r\n", status: 501),
        Case(name: "TE twice", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
        Case(name: "TE on HTTP/1.0", head: "POST / HTTP/1.0\r\n\(h)Transfer-Encoding: chunked\r\n\r\n", status: 400),
        Case(name: "TE vertical tab", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding:\u{0B}chunked\r\n\r\n", status: 400),
        Case(name: "TE space before colon", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding : chunked\r\n\r\n", status: 400),
        Case(name: "TE folded", head: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding:\r\n chunked\r\n\r\n", status: 400),
        Case(name: "TE with underscore", head: "POST / HTTP/1.1\r\n\(h)Transfer_Encoding: chunked\r\nContent-Length: 1\r\n\r\n", status: 400),
        Case(name: "CL with underscore", head: "POST / HTTP/1.1\r\n\(h)Content_Length: 5\r\n\r\n", status: 400),
        // Upgrades.
        Case(name: "Upgrade websocket", head: "GET / HTTP/1.1\r\n\(h)Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", status: 501),
        Case(name: "h2c", head: "GET / HTTP/1.1\r\n\(h)Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", status: 501),
        Case(name: "Upgrade alone", head: "GET / HTTP/1.1\r\n\(h)upgrade: h2c\r\n\r\n", status: 501),
        Case(name: "HTTP2-Settings alone", head: "GET / HTTP/1.1\r\n\(h)HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", status: 501),
        // Connection.
        Case(name: "Connection not tokens", head: "GET / HTTP/1.1\r\n\(h)Connection: a b\r\n\r\n", status: 400),
    ]

    @Test(arguments: cases)
    func refuses(_ testCase: Case) {
        let result = refusal { try RequestHead.parse(bytes(testCase.head)) }
        #expect(result?.status == testCase.status, "\(testCase.name): \(String(describing: result))")
        #expect(result.map { !$0.reason.isEmpty } ?? false)
    }

    @Test func tooManyHeaders() throws {
        let hundred = ["Host: a"] + (1..<100).map { "X-\($0): v" }
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", hundred)).headers.count == 100)
        #expect(refusal { try RequestHead.parse(request("GET / HTTP/1.1", hundred + ["X-101: v"])) }?.status == 431)
    }

    @Test func headTooLarge() throws {
        let filler = String(repeating: "v", count: HTTPLimits.maxHeadBytes)
        #expect(refusal { try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "X: \(filler)"])) }?.status == 431)
        let fitting = String(repeating: "v", count: HTTPLimits.maxHeadBytes - 100)
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "X: \(fitting)"])).headers.count == 2)
    }

    @Test func invalidUTF8InAValueIsRefused() {
        var head = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: ")
        head += [0xC3, 0x28]
        head += bytes("\r\n\r\n")
        #expect(refusal { try RequestHead.parse(head) }?.status == 400)
    }
}
