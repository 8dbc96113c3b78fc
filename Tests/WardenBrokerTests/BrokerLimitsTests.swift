import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import WardenBroker

@Suite("Broker limits and attacks", .serialized)
struct BrokerLimitsTests {
    @Test func plainHTTPDestinationIsBrokeredWithoutTLS() throws {
        let f = try BrokerFixture()
        let plain = try UpstreamServer(tls: nil)
        defer { plain.stop() }
        let destination = BrokeredDestination(ip: "127.0.0.1", port: plain.port, scheme: .http, names: ["mirror.test"])
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: nil)
        c.send("GET /inject/simple HTTP/1.1\r\nHost: mirror.test:\(plain.port)\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(plain.requests.first?.header("authorization") == ["Bearer \(BrokerFixture.secret)"])
        // Another name on the same plain connection is refused.
        let d = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: nil)
        d.send("GET /x HTTP/1.1\r\nHost: api.test:\(plain.port)\r\n\r\n")
        #expect(d.waitForResponse()?.status == 403)
        #expect(plain.requests.count == 1)
    }

    @Test func unreachableUpstreamGets502() throws {
        let f = try BrokerFixture()
        let closedPort: UInt16 = 1  // nothing listens on port 1
        let destination = BrokeredDestination(ip: "127.0.0.1", port: closedPort, scheme: .https, names: ["api.test"])
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: "api.test")
        c.send("GET /x HTTP/1.1\r\nHost: api.test:1\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 502)
        #expect(r.bodyText.contains("cannot reach upstream api.test"))
    }

    @Test func smugglingShapeIsRefusedWith400() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("POST /x HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /forbidden HTTP/1.1\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status == 400)
        #expect(c.waitClosed())
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func connectMethodIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send("CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n")
        let r = try #require(c.waitForResponse())
        #expect(r.status >= 400)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func dotSegmentsInThePathAreRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/inject/%2e%2e/forbidden"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 400 || r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func idleConnectionIsClosed() throws {
        var limits = BrokerLimits()
        limits.idleTimeout = .milliseconds(300)
        let f = try BrokerFixture(limits: limits)
        let c = try f.client()
        c.send(f.request("GET", "/one"))
        #expect(c.waitForResponse()?.status == 200)
        #expect(c.waitClosed(timeout: 3))
    }

    @Test func connectionsBeyondTheLimitAreClosed() throws {
        var limits = BrokerLimits()
        limits.maxConnections = 2
        let f = try BrokerFixture(limits: limits)
        let a = try f.client(), b = try f.client()
        a.send(f.request("GET", "/a"))
        b.send(f.request("GET", "/b"))
        #expect(a.waitForResponse()?.status == 200)
        #expect(b.waitForResponse()?.status == 200)
        let c = try f.client()
        c.send(f.request("GET", "/c"))
        #expect(c.waitClosed())
        #expect(c.bytes.isEmpty)
        // Once one closes, a new connection is served again.
        a.close()
        #expect(f.events.waitFor { _ in f.broker.openConnections < 2 })
        let d = try f.client()
        d.send(f.request("GET", "/d"))
        #expect(d.waitForResponse()?.status == 200)
    }

    @Test func requestEventCountsBytesBothWays() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("POST", "/count", body: Array(repeating: 65, count: 1000)))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.events.waitFor { $0.requests.count == 1 })
        let e = try #require(f.events.requests.first)
        #expect(e.up == 1000 && e.down == r.body.count && e.status == 200 && e.secrets.isEmpty)
    }
}

@Suite("Broker listening and hostile bytes", .serialized)
struct BrokerHostileTests {
    @Test func listensOnItsOwnLoopbackAddressAndIPv6() throws {
        let f = try BrokerFixture()
        let v4 = f.broker.listenAddresses.ipv4
        #expect(v4.0.hasPrefix("127.66."))
        #expect(v4.1 != 0)
        guard f.broker.listenAddresses.ipv6 != nil else { return }  // host without ::1
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: f.destination, sni: "api.test", ipv6: true)
        c.send(f.request("GET", "/v6"))
        #expect(c.waitForResponse()?.status == 200)
    }

    @Test func plaintextBytesOnATLSConnectionAreDropped() throws {
        let f = try BrokerFixture()
        let destination = BrokeredDestination(ip: "127.0.0.1", port: f.upstream.port, scheme: .https, names: ["api.test"])
        // A plain client speaking to an https mapping: its bytes are not a client hello.
        let c = try AgentClient(broker: f.broker, group: f.clients,
                                destination: BrokeredDestination(ip: "127.0.0.1", port: f.upstream.port, scheme: .http, names: ["api.test"]),
                                sni: nil, announce: false)
        let local = c.channel.localAddress!
        f.broker.expect(agentSide: (ip: local.ipAddress!, port: UInt16(local.port!)), destination: destination)
        c.send(f.request("GET", "/x"))
        #expect(c.waitClosed())
        #expect(!c.text.contains("HTTP/1.1 200"))
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func randomBytesNeverCrashOrReachUpstream() throws {
        var limits = BrokerLimits()
        limits.headTimeout = .milliseconds(300)  // bytes that never end a head
        let f = try BrokerFixture(limits: limits)
        let plain = try UpstreamServer(tls: nil)
        defer { plain.stop() }
        let destination = BrokeredDestination(ip: "127.0.0.1", port: plain.port, scheme: .http, names: ["mirror.test"])
        var rng = SystemRandomNumberGenerator()
        for i in 0..<20 {
            let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: nil)
            var bytes = (0..<Int.random(in: 1...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 2 == 0 { bytes += Array("\r\n\r\n".utf8) }
            c.send(bytes)
            #expect(c.wait(timeout: 3) { b, closed in closed || !b.isEmpty })
            c.close()
        }
        #expect(plain.requests.isEmpty)
        // Still serving.
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: nil)
        c.send("GET /ok HTTP/1.1\r\nHost: mirror.test:\(plain.port)\r\n\r\n")
        #expect(c.waitForResponse()?.status == 200)
    }
}

@Suite("Broker upstream identity and concurrency", .serialized)
struct BrokerUpstreamTests {
    @Test func upstreamCertificateForAnotherNameGets502() throws {
        // The upstream's certificate names api.test only; the agent asks for alias.test.
        let f = try BrokerFixture(names: ["api.test"])
        let destination = BrokeredDestination(ip: "127.0.0.1", port: f.upstream.port, scheme: .https, names: ["api.test", "alias.test"])
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: "alias.test")
        c.send(f.request("GET", "/x", host: "alias.test"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 502)
        #expect(r.bodyText.contains("upstream certificate for alias.test not trusted"))
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func manyClientsAtOnceAreAllServed() throws {
        let f = try BrokerFixture()
        let clients = try (0..<24).map { _ in try f.client() }
        for (i, c) in clients.enumerated() { c.send(f.request("GET", "/many/\(i)")) }
        for (i, c) in clients.enumerated() {
            let r = c.waitForResponse()
            #expect(r?.status == 200)
            #expect(r?.bodyText == "ok GET /many/\(i)")
        }
        #expect(f.upstream.requests.count == 24)
    }
}

/// An upstream that answers any request with fixed bytes (plain TCP), for hostile responses.
final class RawUpstream: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: Channel
    var port: UInt16 { UInt16(channel.localAddress!.port!) }

    init(answer: [UInt8], closeAfter: Bool) throws {
        channel = try ServerBootstrap(group: group)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(RawAnswer(answer: answer, closeAfter: closeAfter)) }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() { try? channel.close().wait(); try? group.syncShutdownGracefully() }

    private final class RawAnswer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let answer: [UInt8], closeAfter: Bool
        var answered = false
        init(answer: [UInt8], closeAfter: Bool) { self.answer = answer; self.closeAfter = closeAfter }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            let close = closeAfter
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: answer))).whenComplete { _ in if close { bound.value.close(promise: nil) } }
        }
    }
}

@Suite("Broker hostile upstream", .serialized)
struct BrokerHostileUpstreamTests {
    func exchange(_ answer: String, closeAfter: Bool = false) throws -> (TestResponse?, AgentClient, BrokerFixture) {
        let f = try BrokerFixture()
        let raw = try RawUpstream(answer: Array(answer.utf8), closeAfter: closeAfter)
        defer { raw.stop() }
        let destination = BrokeredDestination(ip: "127.0.0.1", port: raw.port, scheme: .http, names: ["mirror.test"])
        let c = try AgentClient(broker: f.broker, group: f.clients, destination: destination, sni: nil)
        c.send("GET /x HTTP/1.1\r\nHost: mirror.test:\(raw.port)\r\n\r\n")
        return (c.waitForResponse(), c, f)
    }

    @Test func invalidResponseHeadGets502() throws {
        let (r, _, _) = try exchange("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        #expect(r?.status == 502)
    }

    @Test func oversizedResponseHeadGets502() throws {
        let (r, _, _) = try exchange("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: 70_000) + "\r\n\r\n")
        #expect(r?.status == 502)
    }

    @Test func switchingProtocolsIsNotForwarded() throws {
        let (r, _, _) = try exchange("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")
        #expect(r?.status == 502)
    }

    @Test func bodyUntilCloseIsForwardedAndTheConnectionCloses() throws {
        let (r, c, f) = try exchange("HTTP/1.1 200 OK\r\n\r\nall of it", closeAfter: true)
        #expect(r?.status == 200)
        #expect(r?.bodyText == "all of it")
        #expect(c.waitClosed())
        #expect(f.events.waitFor { $0.requests.first?.down == 9 })
    }

    @Test func upstreamClosingBeforeAnswering502() throws {
        let (r, _, _) = try exchange("", closeAfter: true)
        #expect(r?.status == 502)
    }
}
