import Testing
@testable import WardenBrokerProtocol

@Suite struct RequestHeadTests {
    @Test func parsesAnOriginFormRequest() throws {
        let head = try RequestHead.parse(request("POST /repos/acme/app/pulls?state=open HTTP/1.1", [
            "Host: API.GitHub.com:443", "User-Agent: curl/8.5", "Content-Length: 12", "Accept: */*",
        ]))
        #expect(head.method == "POST")
        #expect(head.path == "/repos/acme/app/pulls")
        #expect(head.decodedPath == "/repos/acme/app/pulls")
        #expect(head.query == "state=open")
        #expect(head.host == "api.github.com")
        #expect(head.hostPort == 443)
        #expect(head.version.major == 1)
        #expect(head.version.minor == 1)
        #expect(head.framing == .length(12))
        #expect(head.keepAlive)
        #expect(!head.expectsContinue)
        #expect(head.absoluteAuthority == nil)
        #expect(head.headers.map(\.name) == ["Host", "User-Agent", "Content-Length", "Accept"])
        #expect(head.values(of: "user-agent") == ["curl/8.5"])
    }

    @Test func decodesSafePercentEncodingForMatching() throws {
        let head = try RequestHead.parse(request("GET /repos/acme/%61pp/contents/caf%C3%A9 HTTP/1.1"))
        #expect(head.path == "/repos/acme/%61pp/contents/caf%C3%A9")
        #expect(head.decodedPath == "/repos/acme/app/contents/café")
    }

    @Test func absoluteFormMustAgreeWithHost() throws {
        let head = try RequestHead.parse(request("GET https://api.example.com/v1/x?y HTTP/1.1"))
        #expect(head.absoluteAuthority?.scheme == "https")
        #expect(head.absoluteAuthority?.host == "api.example.com")
        #expect(head.absoluteAuthority?.port == nil)
        #expect(head.path == "/v1/x")
        #expect(head.query == "y")
        let defaultPort = try RequestHead.parse(request("GET http://api.example.com:80/ HTTP/1.1"))
        #expect(defaultPort.absoluteAuthority?.port == 80)
        #expect(refusal { try RequestHead.parse(request("GET https://evil.example/ HTTP/1.1")) }?.status == 400)
        #expect(refusal { try RequestHead.parse(request("GET https://api.example.com:8443/ HTTP/1.1")) }?.status == 400)
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        #expect(try RequestHead.parse(request("GET / HTTP/1.1")).keepAlive)
        #expect(try !RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "Connection: close"])).keepAlive)
        #expect(try !RequestHead.parse(request("GET / HTTP/1.0", ["Host: a"])).keepAlive)
        #expect(try RequestHead.parse(request("GET / HTTP/1.0", ["Host: a", "Connection: Keep-Alive"])).keepAlive)
        #expect(try !RequestHead.parse(request("GET / HTTP/1.0", ["Host: a", "Connection: keep-alive, close"])).keepAlive)
    }

    @Test func connectionOptionsAreStrippedWhenRebuilding() throws {
        let head = try RequestHead.parse(request("GET / HTTP/1.1", [
            "Host: a", "Connection: keep-alive, X-Debug", "X-Debug: 1", "Keep-Alive: timeout=5", "TE: trailers",
            "Proxy-Authorization: Basic Zm9v", "Proxy-Anything: x", "Accept: text/plain",
        ]))
        #expect(head.connectionOptions == ["x-debug"])
        let rebuilt = String(decoding: head.serialized(), as: UTF8.self)
        #expect(rebuilt == "GET / HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n")
    }

    @Test(arguments: ["Host", "Content-Length", "transfer-encoding"])
    func connectionMayNotNameFramingHeaders(_ name: String) {
        #expect(refusal { try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "Connection: \(name)"])) }?.status == 400)
    }

    @Test func expectContinue() throws {
        #expect(try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Content-Length: 1", "Expect: 100-Continue"])).expectsContinue)
        #expect(try !RequestHead.parse(request("POST / HTTP/1.0", ["Host: a", "Content-Length: 1", "Expect: 100-continue"])).expectsContinue)
        #expect(refusal { try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Expect: 200-ok"])) }?.status == 417)
        #expect(refusal { try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Expect: 100-continue", "Expect: 100-continue"])) }?.status == 400)
    }

    @Test func framing() throws {
        #expect(try RequestHead.parse(request("GET / HTTP/1.1")).framing == .none)
        #expect(try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Transfer-Encoding: Chunked"])).framing == .chunked)
        #expect(try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Content-Length: 000"])).framing == .length(0))
        #expect(refusal { try RequestHead.parse(request("POST / HTTP/1.1", ["Host: a", "Content-Length: 1234567890123456"])) }?.status == 413)
    }

    @Test func serializationRebuildsFromParts() throws {
        let head = try RequestHead.parse(request("POST https://api.example.com/v1/messages?beta=1 HTTP/1.1", [
            "host: api.example.com", "Authorization: Bearer wdn_ph_agent", "x-api-key: a", "X-API-Key: b",
            "Content-Length: 2", "Connection: close",
        ]))
        let rebuilt = String(decoding: head.serialized(
            setting: [("x-api-key", "secret-value"), ("Bad\r\nName", "v"), ("X-Ok", "line\r\nbreak")],
            removing: ["authorization"]), as: UTF8.self)
        #expect(rebuilt == "POST /v1/messages?beta=1 HTTP/1.1\r\nhost: api.example.com\r\nContent-Length: 2\r\n"
            + "Connection: close\r\nx-api-key: secret-value\r\n\r\n")
    }

    @Test func editedHeadersCannotSplitLines() throws {
        var head = try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "X-Token: wdn_ph_x", "Accept: */*"]))
        head.headers[1].value = "v\r\nInjected: 1"
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")
        head.headers[1].value = "ghs_value"
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "GET / HTTP/1.1\r\nHost: a\r\nX-Token: ghs_value\r\nAccept: */*\r\n\r\n")
        #expect(HTTPFields.isValidValue("") && HTTPFields.isValidValue("a\tb") && !HTTPFields.isValidValue(" a") && !HTTPFields.isValidValue("a\t"))
    }

    @Test func serializationOfHTTP10UsesHTTP11AndClose() throws {
        let head = try RequestHead.parse(request("GET /a HTTP/1.0", ["Host: a"]))
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let kept = String(decoding: head.serialized(setting: [("Connection", "keep-alive")]), as: UTF8.self)
        #expect(kept == "GET /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
    }

    @Test func acceptsValidUTF8InValuesAndTabs() throws {
        let head = try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "X-Title: caf\u{E9}\tbar", "X-Empty:"]))
        #expect(head.values(of: "x-title") == ["caf\u{E9}\tbar"])
        #expect(head.values(of: "x-empty") == [""])
    }

    @Test func hostMatchesServerNameAndPort() throws {
        let plain = try RequestHead.parse(request("GET / HTTP/1.1", ["Host: API.example.com"]))
        #expect(plain.hostMatches("api.example.com", port: 443))
        #expect(plain.hostMatches("API.EXAMPLE.COM", port: 8443))
        #expect(!plain.hostMatches("example.com", port: 443))
        let withPort = try RequestHead.parse(request("GET / HTTP/1.1", ["Host: api.example.com:443"]))
        #expect(withPort.hostMatches("api.example.com", port: 443))
        #expect(!withPort.hostMatches("api.example.com", port: 8443))
    }

    @Test func expectOnHTTP10IsNotForwarded() throws {
        let head = try RequestHead.parse(request("POST /a HTTP/1.0", ["Host: a", "Content-Length: 1", "Expect: 100-continue"]))
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: close\r\n\r\n")
    }

    @Test func hosts() throws {
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", ["Host: [::1]:8080"])).host == "[::1]")
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", ["Host: [::1]:8080"])).hostPort == 8080)
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", ["Host: 127.0.0.1"])).host == "127.0.0.1")
        #expect(try RequestHead.parse(request("GET / HTTP/1.1", ["Host: my_host.internal"])).host == "my_host.internal")
    }
}
