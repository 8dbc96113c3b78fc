import Synchronization
import Testing
@testable import WardenServe
#if canImport(Glibc)
import Glibc
#endif

/// `warden serve`'s listener against well-behaved and hostile peers.
@Suite struct HTTPServerTests {
    /// Echoes what it got: method, path, query, one header and the body's size.
    final class Echo: ServeHandler {
        let seen = Mutex(0)
        func handle(_ request: ServeRequest) -> ServeResponse {
            seen.withLock { $0 += 1 }
            return .text(200, "\(request.method) \(request.path) q=\(request.query) x=\(request.header("x-probe") ?? "-") body=\(request.body.count)")
        }
    }

    @Test func aRequestReachesTheHandlerAndTheConnectionCloses() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo())
        defer { server.stop() }
        let body = String(repeating: "a", count: 3000)
        let reply = try RawHTTPClient.exchange(port: server.port, Array("POST /hooks/github?x=1 HTTP/1.1\r\nHost: t\r\nX-Probe: yes\r\nContent-Length: 3000\r\n\r\n\(body)".utf8))
        #expect(RawHTTPClient.status(reply) == 200)
        #expect(RawHTTPClient.body(reply) == "POST /hooks/github q=x=1 x=yes body=3000\n")
        #expect(String(decoding: reply, as: UTF8.self).lowercased().contains("connection: close"))
    }

    @Test func aRepeatedHeaderIsNotReadAsEitherValue() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo())
        defer { server.stop() }
        let reply = try RawHTTPClient.exchange(port: server.port, Array("GET / HTTP/1.1\r\nHost: t\r\nX-Probe: a\r\nX-Probe: b\r\n\r\n".utf8))
        #expect(RawHTTPClient.body(reply).contains("x=-"))
    }

    @Test func aDeclaredBodyOverTheLimitIsRefusedBeforeItIsSent() throws {
        let echo = Echo()
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: echo, maxBodyBytes: 1000)
        defer { server.stop() }
        let reply = try RawHTTPClient.exchange(port: server.port, Array("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n".utf8))
        #expect(RawHTTPClient.status(reply) == 413)
        #expect(echo.seen.withLock { $0 } == 0)
    }

    @Test func aChunkedBodyOverTheLimitIsCutOff() throws {
        let echo = Echo()
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: echo, maxBodyBytes: 1000)
        defer { server.stop() }
        let c = try RawHTTPClient(port: server.port)
        defer { c.close() }
        c.send("POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<100 where c.send("400\r\n" + String(repeating: "b", count: 1024) + "\r\n") {}
        let reply = c.readAll().bytes
        #expect(reply.isEmpty || RawHTTPClient.status(reply) == 413)
        #expect(echo.seen.withLock { $0 } == 0)
    }

    @Test func anOversizedHeadIsRefused() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo())
        defer { server.stop() }
        let c = try RawHTTPClient(port: server.port)
        defer { c.close() }
        c.send("GET / HTTP/1.1\r\nHost: t\r\n")
        let line = "X-Filler: " + String(repeating: "f", count: 1000) + "\r\n"
        for _ in 0..<200 where c.send(line) {}
        c.send("\r\n")
        let reply = c.readAll().bytes
        // Either our 431 or NIO's own refusal of a huge head (400), or a closed connection.
        #expect(reply.isEmpty || [400, 431].contains(RawHTTPClient.status(reply) ?? 0), "\(String(decoding: reply.prefix(100), as: UTF8.self))")
    }

    @Test func aSlowClientIsDisconnectedAtTheDeadline() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo(), headTimeout: .seconds(30), requestTimeout: .milliseconds(500))
        defer { server.stop() }
        let c = try RawHTTPClient(port: server.port, timeout: 10)
        defer { c.close() }
        c.send("GET / HTTP/1.1\r\n")
        let start = ContinuousClock.now
        let (reply, timedOut) = c.readAll()
        #expect(!timedOut, "the server must close, not the client's read timeout")
        #expect(reply.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func connectionsBeyondTheCapAreClosedAtOnceAndTheServerRecovers() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo(), maxConnections: 4, headTimeout: .seconds(30), requestTimeout: .seconds(30))
        defer { server.stop() }
        var idle: [RawHTTPClient] = []
        for _ in 0..<4 { idle.append(try RawHTTPClient(port: server.port)) }
        // Let the server accept them all.
        for _ in 0..<100 where server.openConnections < 4 { usleep(10_000) }
        #expect(server.openConnections == 4)
        let extra = try RawHTTPClient(port: server.port, timeout: 5)
        extra.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let (refused, timedOut) = extra.readAll()
        extra.close()
        #expect(refused.isEmpty && !timedOut, "closed without an answer")
        for c in idle { c.close() }
        for _ in 0..<200 where server.openConnections > 0 { usleep(10_000) }
        let reply = try RawHTTPClient.exchange(port: server.port, Array("GET /after HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        #expect(RawHTTPClient.status(reply) == 200)
    }

    @Test func garbageGetsA400AndNeverReachesTheHandler() throws {
        let echo = Echo()
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: echo)
        defer { server.stop() }
        for junk in ["\u{0}\u{1}\u{2}\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /\u{7f} HTTP/1.1\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                     "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"] {
            let reply = try RawHTTPClient.exchange(port: server.port, Array(junk.utf8))
            #expect(reply.isEmpty || RawHTTPClient.status(reply) == 400, "\(junk.debugDescription): \(String(decoding: reply.prefix(80), as: UTF8.self))")
        }
        #expect(echo.seen.withLock { $0 } == 0)
    }

    @Test func aPipelinedSecondRequestIsNotServed() throws {
        let echo = Echo()
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: echo)
        defer { server.stop() }
        let reply = try RawHTTPClient.exchange(port: server.port, Array("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.contains("GET /a") && !text.contains("GET /b"))
        #expect(echo.seen.withLock { $0 } == 1)
    }

    /// Bodies held across all connections are capped: unauthenticated peers sending large
    /// bodies slowly cannot take the server's memory; the room comes back as they end.
    @Test func bodiesHeldAcrossConnectionsAreCapped() throws {
        let echo = Echo()
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: echo, maxBodyBytes: 80_000, maxHeldBodyBytes: 100_000)
        defer { server.stop() }
        let head = "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n"
        let first = try RawHTTPClient(port: server.port)
        defer { first.close() }
        first.send(head + String(repeating: "a", count: 60_000))
        usleep(300_000)
        let second = try RawHTTPClient(port: server.port, timeout: 5)
        second.send(head + String(repeating: "b", count: 60_000))
        let refused = second.readAll().bytes
        second.close()
        #expect(RawHTTPClient.status(refused) == 503, "\(String(decoding: refused.prefix(80), as: UTF8.self))")
        first.send(String(repeating: "a", count: 10_000))
        let done = first.readAll().bytes
        #expect(RawHTTPClient.status(done) == 200 && RawHTTPClient.body(done).contains("body=70000"))
        // Both connections are gone: the whole room is back.
        let again = try RawHTTPClient.exchange(port: server.port, Array((head + String(repeating: "c", count: 70_000)).utf8))
        #expect(RawHTTPClient.status(again) == 200)
        #expect(echo.seen.withLock { $0 } == 2)
    }

    /// A head that does not arrive within the head deadline is cut, well before the request
    /// deadline; a peer cannot hold more than its share of the connections.
    @Test func theHeadDeadlineAndThePerPeerCapHold() throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo(), maxConnectionsPerPeer: 3,
                                    headTimeout: .milliseconds(300), requestTimeout: .seconds(30))
        defer { server.stop() }
        let slow = try RawHTTPClient(port: server.port, timeout: 10)
        slow.send("POST /hooks/github HTTP/1.1\r\n")
        let start = ContinuousClock.now
        let (bytes, timedOut) = slow.readAll()
        slow.close()
        #expect(bytes.isEmpty && !timedOut && ContinuousClock.now - start < .seconds(5))
        // Three idle connections from this address are its share; a fourth is closed at once.
        let capped = try HTTPServer(host: "127.0.0.1", port: 0, handler: Echo(), maxConnectionsPerPeer: 3,
                                    headTimeout: .seconds(30), requestTimeout: .seconds(30))
        defer { capped.stop() }
        var idle: [RawHTTPClient] = []
        for _ in 0..<3 { idle.append(try RawHTTPClient(port: capped.port)) }
        for _ in 0..<100 where capped.openConnections < 3 { usleep(10_000) }
        let extra = try RawHTTPClient(port: capped.port, timeout: 5)
        extra.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let (refused, refusedTimedOut) = extra.readAll()
        extra.close()
        #expect(refused.isEmpty && !refusedTimedOut)
        for c in idle { c.close() }
        for _ in 0..<200 where capped.openConnections > 0 { usleep(10_000) }
        #expect(RawHTTPClient.status(try RawHTTPClient.exchange(port: capped.port, Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))) == 200)
    }

    /// The deadlines bound receiving a request, not answering it: a request that waits for
    /// its turn (decisions are made one at a time) gets its answer.
    @Test func aSlowAnswerIsNotCutByTheRequestDeadline() throws {
        final class Slow: ServeHandler {
            func handle(_ request: ServeRequest) -> ServeResponse { usleep(800_000); return .text(200, "late") }
        }
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: Slow(), headTimeout: .milliseconds(200),
                                    requestTimeout: .milliseconds(300))
        defer { server.stop() }
        let reply = try RawHTTPClient.exchange(port: server.port, Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        #expect(RawHTTPClient.status(reply) == 200 && RawHTTPClient.body(reply) == "late\n")
    }
}
