import Foundation
import Testing
@testable import WardenBroker

@Suite("Broker git push", .serialized)
struct BrokerPushTests {
    static let zero = String(repeating: "0", count: 40)
    static let a = String(repeating: "a", count: 40)
    static let b = String(repeating: "b", count: 40)

    static func pkt(_ s: String) -> [UInt8] {
        let bytes = Array(s.utf8)
        return Array(String(format: "%04x", bytes.count + 4).utf8) + bytes
    }

    /// A receive-pack body: commands, flush, and a fake pack.
    static func body(_ commands: [(String, String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, c) in commands.enumerated() {
            out += pkt("\(c.0) \(c.1) \(c.2)" + (i == 0 ? "\0report-status side-band-64k agent=git/2.43" : "") + "\n")
        }
        out += Array("0000".utf8)
        // Deletions only: no pack follows the commands.
        guard commands.contains(where: { $0.1 != zero }) else { return out }
        return out + Array("PACK\0\0\0\u{2}\0\0\0\0".utf8)
    }

    static func push(_ body: [UInt8], path: String = "/acme/app.git/git-receive-pack", chunked: Bool = false, port: UInt16) -> [UInt8] {
        var h = "POST \(path) HTTP/1.1\r\nHost: api.test:\(port)\r\nContent-Type: application/x-git-receive-pack-request\r\n"
        if chunked {
            h += "Transfer-Encoding: chunked\r\n\r\n"
            return Array(h.utf8) + Array(String(body.count, radix: 16).utf8) + [13, 10] + body + Array("\r\n0\r\n\r\n".utf8)
        }
        h += "Content-Length: \(body.count)\r\n\r\n"
        return Array(h.utf8) + body
    }

    @Test func allowedUpdateIsForwardedWhole() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let body = Self.body([(Self.a, Self.b, "refs/heads/agent/fix-1")])
        c.send(Self.push(body, port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        let got = try #require(f.upstream.requests.first)
        #expect(got.body == body)
    }

    @Test func allowedChunkedPushIsForwardedWhole() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let body = Self.body([(Self.zero, Self.b, "refs/heads/agent/new")])
        c.send(Self.push(body, chunked: true, port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        #expect(f.upstream.requests.first?.body == body)
    }

    @Test func refusedUpdateNeverReachesTheServer() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        // The second command is refused: nothing at all may go upstream, head included.
        c.send(Self.push(Self.body([(Self.a, Self.b, "refs/heads/agent/ok"), (Self.a, Self.b, "refs/heads/main")]), port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(r.bodyText.contains("test.warden:12"))
        usleep(100_000)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func pushWaitingForContinueGetsItFromTheBroker() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let body = Self.body([(Self.a, Self.b, "refs/heads/agent/fix-2")])
        c.send("POST /acme/app.git/git-receive-pack HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nExpect: 100-continue\r\nContent-Length: \(body.count)\r\n\r\n")
        #expect(c.wait { b, _ in String(decoding: b, as: UTF8.self).hasPrefix("HTTP/1.1 100") })
        usleep(50_000)
        #expect(f.upstream.requests.isEmpty)
        c.send(body)
        let r = try #require(c.waitForResponse())
        #expect(r.status == 200)
        let got = try #require(f.upstream.requests.first)
        #expect(got.body == body)
        #expect(got.header("expect").isEmpty)
    }

    @Test func deletionIsAlwaysRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(Self.push(Self.body([(Self.a, Self.zero, "refs/heads/agent/old")]), port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(r.bodyText.contains("delet"))
        usleep(100_000)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func caseFoldedReceivePackPathIsGovernedToo() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(Self.push(Self.body([(Self.a, Self.b, "refs/heads/main")]), path: "/acme/app/GIT-RECEIVE-PACK/", port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func compressedPushBodyIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        let body = Self.body([(Self.a, Self.b, "refs/heads/agent/x")])
        c.send("POST /acme/app.git/git-receive-pack HTTP/1.1\r\nHost: api.test:\(f.upstream.port)\r\nContent-Encoding: gzip\r\nContent-Length: \(body.count)\r\n\r\n")
        c.send(body)
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }

    @Test func pushToAnotherRepositoryIsRefused() throws {
        let f = try BrokerFixture()
        let c = try f.client()
        c.send(Self.push(Self.body([(Self.a, Self.b, "refs/heads/agent/x")]), path: "/acme/other.git/git-receive-pack", port: f.upstream.port))
        let r = try #require(c.waitForResponse())
        #expect(r.status == 403)
        #expect(f.upstream.requests.isEmpty)
    }
}
