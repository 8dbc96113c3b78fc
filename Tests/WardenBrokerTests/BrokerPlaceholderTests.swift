import Testing
@testable import WardenBroker

@Suite("Broker placeholders", .serialized)
struct BrokerPlaceholderTests {
    let ph = BrokerFixture.placeholder

    @Test func placeholderIsReplacedInHeadersForItsBoundHost() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/x", headers: ["X-Token: token \(ph)"]))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first?.header("x-token") == ["token \(BrokerFixture.placeholderSecret)"])
        #expect(!c.text.contains(BrokerFixture.placeholderSecret))
        #expect(f.events.waitFor { $0.requests.first?.secrets == ["ph-token"] })
    }

    @Test func placeholderToAnotherHostIsRefusedAsExfiltration() throws {
        let f = try BrokerFixture()
        let c = try f.client(sni: "other.test")
        c.send(f.request("GET", "/x", host: "other.test", headers: ["X-Token: \(ph)"]))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
        let e = try #require(f.events.exfiltrations.first)
        #expect(e.secret == "ph-token" && e.host == "other.test" && e.where == "header X-Token to host other.test")
    }

    @Test func encodedPlaceholderToAnotherHostIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client(sni: "other.test")
        let twice = ph.replacingAll("_", with: "%255F")
        c.send(f.request("GET", "/x", host: "other.test", headers: ["Cookie: t=\(twice)"]))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.exfiltrations.first?.where == "header Cookie to host other.test")
    }

    @Test func placeholderInTheURLIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/search?q=\(ph)"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.exfiltrations.first?.where == "url")
    }

    @Test func percentEncodedPlaceholderInTheURLIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let encoded = ph.replacingAll("_", with: "%5F")
        c.send(f.request("GET", "/search?q=\(encoded)"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func placeholderInTheBodyAbortsTheRequest() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        // Split across writes so the scanner must find it across a boundary.
        let body = Array(("{\"note\":\"" + ph + "\"}").utf8)
        let head = Array("POST /x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        c.send(head + body[0..<15])
        c.send(Array(body[15...]))
        #expect(c.waitClosed())
        #expect(!f.upstream.requests.contains { $0.bodyCount == body.count })
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.where == "body" } })
    }

    @Test func chunkedBodyWithPlaceholderIsAborted() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let half = ph.utf8.count / 2
        let a = String(ph.prefix(half)), b = String(ph.dropFirst(half))
        c.send("POST /x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nTransfer-Encoding: chunked\r\n\r\n"
               + String(a.utf8.count, radix: 16) + "\r\n" + a + "\r\n"
               + String(b.utf8.count, radix: 16) + "\r\n" + b + "\r\n0\r\n\r\n")
        #expect(c.waitClosed())
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.where == "body" } })
    }

    @Test func chunkedBodyIsRechunkedIntact() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("POST /x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first.map { String(decoding: $0.body, as: UTF8.self) } == "hello world")
    }
}
