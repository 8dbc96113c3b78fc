import Foundation
import NIOCore
import Testing
@testable import WardenBroker

/// Responses that hand an injected secret back (red team H3), and the response paths the
/// scanner must not disturb.
@Suite("Broker secret echoes and response framing", .serialized)
struct BrokerEchoTests {
    static let secret = BrokerFixture.secret

    @Test func secretEchoedInTheBodyAcrossWritesCutsTheConnection() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/inject/echo-body"))
        #expect(c.waitClosed())
        #expect(!c.text.contains(Self.secret))
        // Not even the first half of the secret (the upstream wrote it before the rest).
        #expect(!c.text.contains(String(Self.secret.prefix(6))))
        #expect(f.upstream.requests.count == 1)
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.where == "response from host api.test" } })
        let e = try #require(f.events.exfiltrations.first)
        #expect(e.secret == "gh-token" && e.host == "api.test")
    }

    @Test func secretEchoedInAResponseHeaderCutsTheConnection() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/inject/echo-header"))
        #expect(c.waitClosed())
        #expect(!c.text.contains(Self.secret))
        #expect(!c.text.contains("x-echo"))
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.secret == "gh-token" && $0.where == "response from host api.test" } })
    }

    @Test func basicCredentialEchoedIsCaughtAsBase64() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/basic/echo-body"))
        #expect(c.waitClosed())
        let credential = Data("x-access-token:\(Self.secret)".utf8).base64EncodedString()
        #expect(!c.text.contains(credential))
        #expect(f.upstream.requests.first?.header("authorization") == ["Basic \(credential)"])
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.where == "response from host api.test" } })
    }

    @Test func echoWithoutInjectionIsForwarded() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/plain/echo-body", headers: ["Authorization: Bearer agent-own"]))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(r.bodyText == "you sent: Bearer agent-own")
        #expect(f.events.exfiltrations.isEmpty)
    }

    @Test func injectedRequestsAskForIdentityEncoding() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/inject/x", headers: ["Accept-Encoding: gzip, br"]))
        #expect(c.waitForResponse()?.status == 200)
        #expect(f.upstream.requests.first?.header("accept-encoding") == ["identity"])
    }

    @Test func chunkedResponseWithTrailersArrivesAndTheConnectionIsReused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/trailers"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(r.bodyText == "hello world")
        #expect(!c.text.contains("x-checksum"))
        c.send(f.request("GET", "/again"))
        let second = try #require(c.waitForResponse(from: r.length))
        #expect(second.bodyText == "ok GET /again")
    }

    @Test func thePathIsForwardedAsDecided() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(f.request("GET", "/%65cho/pct?q=%65"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first?.uri == "/echo/pct?q=%65")
    }

    @Test func stalledRequestBodyIsClosedWith408() throws {
        var limits = BrokerLimits()
        limits.bodyStallTimeout = .milliseconds(300)
        let f = try BrokerFixture(limits: limits)
        let c = try f.client()
        c.send("POST /upload HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Length: 100\r\n\r\n0123456789")
        let r = try #require(c.waitForResponse(timeout: 5))
        #expect(r.status == 408)
        #expect(c.waitClosed())
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("request body stalled") } })
    }

    @Test func slowButSteadyBodyIsNotCut() throws {
        var limits = BrokerLimits()
        limits.bodyStallTimeout = .milliseconds(400)
        let f = try BrokerFixture(limits: limits)
        let c = try f.client()
        c.send("POST /upload HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Length: 5\r\n\r\n")
        for byte in "hello" {
            usleep(150_000)
            c.send(String(byte))
        }
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first?.bodyCount == 5)
    }

    /// A body read until close whose last bytes begin the secret: held back by the scanner,
    /// released when the upstream closes.
    @Test func heldBackTailOfABodyUntilCloseIsReleased() throws {
        let tail = String(Self.secret.prefix(6))
        let (r, c, f) = try BrokerHostileUpstreamTests().exchange("HTTP/1.1 200 OK\r\n\r\nall of it " + tail, closeAfter: true, path: "/inject/x")
        #expect(r?.status == 200)
        #expect(r?.bodyText == "all of it " + tail)
        #expect(c.waitClosed())
        #expect(f.events.exfiltrations.isEmpty)
    }

    @Test func secretInABodyUntilCloseIsCut() throws {
        let (_, c, f) = try BrokerHostileUpstreamTests().exchange("HTTP/1.1 200 OK\r\n\r\nleak " + Self.secret + " done", closeAfter: true,
                                                         path: "/inject/x")
        #expect(c.waitClosed())
        #expect(!c.text.contains(Self.secret))
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.host == "mirror.test" && $0.where == "response from host mirror.test" } })
    }

    @Test func untrustedUpstreamNamesTheReason() throws {
        let f = try BrokerFixture(upstreamTrusted: false)
        let c = try f.client()
        c.send(f.request("GET", "/inject/x"))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 502)
        #expect(r.bodyText == "warden: upstream certificate for api.test not trusted: CERTIFICATE_VERIFY_FAILED "
                + "(not issued by a CA the broker trusts for upstreams, expired, or not for api.test)\n")
        #expect(!r.bodyText.contains("closed the connection"))
        #expect(f.upstream.requests.isEmpty)
    }
}
