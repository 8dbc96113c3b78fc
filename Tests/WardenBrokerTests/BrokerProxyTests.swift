import Crypto
import Foundation
import NIOCore
import Testing
@testable import WardenBroker

@Suite("Broker proxy", .serialized)
struct BrokerProxyTests {
    @Test func injectionReachesServerAndTheAgentNeverSeesIt() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/inject/me", headers: ["Authorization: Bearer agent-made-up"]))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(r.bodyText == "ok GET /inject/me")
        let got = try #require(f.upstream.requests.first)
        #expect(got.header("authorization") == ["Bearer \(BrokerFixture.secret)"])
        #expect(!c.text.contains(BrokerFixture.secret))
        #expect(f.events.waitFor { $0.requests.count == 1 })
        let e = try #require(f.events.requests.first)
        #expect(e.secrets == ["gh-token"] && e.rule == "test.warden:3" && e.status == 200)
    }

    @Test func refusedRequestGets403NamingTheRuleAndNeverReachesTheServer() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("DELETE", "/repos/acme/app"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(r.bodyText.contains("warden: refused by test.warden:7"))
        #expect(r.header("connection")?.lowercased() == "close")
        #expect(c.waitClosed())
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.refusals.contains { $0.rule == "test.warden:7" })
    }

    @Test func hostHeaderMustEqualTheServerName() throws {
        let f = try BrokerFixture()
        let c = try f.client(sni: "api.test")
        c.send(f.request("GET", "/x", host: "other.test"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(r.bodyText.contains("differs from the TLS server name"))
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func hostPortMustEqualTheConnectedPort() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("GET /x HTTP/1.1\r\nHost: api.test:1\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func absoluteFormTargetMustAgree() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("GET https://other.test/x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403 || r.status == 400)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func handshakeWithoutServerNameIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client(sni: nil)
        c.send(f.request("GET", "/x"))
        #expect(c.waitClosed())
        #expect(c.bytes.isEmpty)
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("without a server name") } })
    }

    @Test func unknownServerNameIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client(sni: "evil.test")
        c.send(f.request("GET", "/x", host: "evil.test"))
        #expect(c.waitClosed())
        #expect(c.bytes.isEmpty)
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("evil.test") } })
    }

    @Test func unannouncedConnectionIsClosedWithoutAByte() throws {
        var limits = BrokerLimits()
        limits.mappingWait = .milliseconds(300)
        let f = try BrokerFixture(limits: limits)
        let c = try f.client(announce: false)
        c.send(f.request("GET", "/x"))
        #expect(c.waitClosed(timeout: 3))
        #expect(c.bytes.isEmpty)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func streamingResponseArrivesChunkByChunk() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/sse"))
        // The server holds its last chunk until released: the first must arrive before.
        #expect(c.wait { b, _ in String(decoding: b, as: UTF8.self).contains("data: first") })
        #expect(!c.text.contains("data: last"))
        f.upstream.releaseStream()
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(r.bodyText == "data: first\n\ndata: last\n\n")
    }

    @Test func requestCutShortIsStillRecorded() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/sse"))
        #expect(c.wait { b, _ in String(decoding: b, as: UTF8.self).contains("data: first") })
        #expect(f.upstream.openConnections == 1)
        c.close()
        #expect(f.events.waitFor { $0.requests.contains { $0.path == "/sse" && $0.status == 200 && $0.down > 0 } })
        // The upstream connection goes with the agent's.
        #expect(f.events.waitFor { _ in f.upstream.openConnections == 0 })
        #expect(f.events.requests.count == 1)
    }

    @Test func keepAliveCarriesThreeRequests() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        var offset = 0
        for i in 1...3 {
            c.send(f.request("GET", "/k/\(i)"))
            let r = try #require(c.waitForResponse(from: offset))
            #expect(r.status == 200)
            #expect(r.bodyText == "ok GET /k/\(i)")
            offset += r.length
        }
        #expect(!c.isClosed)
        #expect(f.upstream.requests.map(\.uri) == ["/k/1", "/k/2", "/k/3"])
        // Pipelined: two requests in one write, answered in order.
        c.send(f.request("GET", "/p/1") + f.request("GET", "/p/2"))
        let r1 = try #require(c.waitForResponse(from: offset))
        offset += r1.length
        let r2 = try #require(c.waitForResponse(from: offset))
        #expect(r1.bodyText == "ok GET /p/1" && r2.bodyText == "ok GET /p/2")
    }

    @Test func interimContinueIsForwardedBeforeTheBody() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("PUT /upload HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(c.wait { b, _ in String(decoding: b, as: UTF8.self).hasPrefix("HTTP/1.1 100") })
        #expect(f.upstream.requests.isEmpty)
        c.send("hello")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first?.body == Array("hello".utf8))
    }

    @Test func largeBodiesBothWaysArriveIntact() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let size = 48 << 20
        var body = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 4096) { body[i] = UInt8(truncatingIfNeeded: i >> 12); body[i + 7] = UInt8(truncatingIfNeeded: i) }
        let sha = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let head = Array("PUT /upload HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Length: \(size)\r\n\r\n".utf8)
        try c.sendAndWait(head)
        for start in stride(from: 0, to: size, by: 1 << 20) { try c.sendAndWait(Array(body[start..<min(size, start + (1 << 20))])) }
        let up = try #require(c.waitForResponse(timeout: 60))
        #expect(up.status == 200)
        #expect(up.header("x-body-sha256") == sha)
        let offset = up.length
        c.send(f.request("GET", "/download?bytes=\(size)"))
        let down = try #require(c.waitForResponse(from: offset, timeout: 60))
        #expect(down.body.count == size)
        var expected = SHA256()
        var left = size
        while left > 0 { let k = min(left, UpstreamPattern.bytes.count); expected.update(data: UpstreamPattern.bytes[0..<k]); left -= k }
        #expect(SHA256.hash(data: down.body) == expected.finalize())
    }

    @Test func slowLorisDoesNotBlockAnotherClient() throws {
        var limits = BrokerLimits()
        limits.headTimeout = .seconds(2)
        let f = try BrokerFixture(limits: limits)
        let slow = try f.client()
        slow.send("GET /slow HTTP/1.1\r\nHo")
        let fast = try f.client()
        let started = Date()
        fast.send(f.request("GET", "/fast"))
        let r = try #require(fast.waitForResponse())
        #expect(r.status == 200)
        #expect(Date().timeIntervalSince(started) < 1.5)
        // The slow client is cut off once its head takes longer than allowed.
        #expect(slow.waitClosed(timeout: 4))
        #expect(slow.text.contains("408"))
    }

    @Test func oversizedHeadIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("GET /x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nX-Filler: " + String(repeating: "a", count: 70_000) + "\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 431)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func upstreamWithAnUntrustedCertificateGets502() throws {
        let f = try BrokerFixture(upstreamTrusted: false)
        let c = try f.client()
        c.send(f.request("GET", "/x"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 502)
        #expect(r.bodyText.contains("warden: upstream certificate for api.test not trusted"))
        #expect(f.upstream.requests.isEmpty)
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("not trusted") } })
    }

    @Test func shutdownClosesOpenConnections() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/one"))
        #expect(c.waitForResponse()?.status == 200)
        f.broker.shutdown()
        #expect(c.waitClosed(timeout: 3))
    }
}

enum UpstreamPattern {
    static let bytes: [UInt8] = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
}
