import Glibc
import Testing
@testable import WardenRuntime

/// The resolver's TCP framing, on a socket pair: the test holds one end as the client.
@Suite("DNS resolver: TCP connections")
struct DNSStreamConnectionTests {
    final class Pair {
        let server: Int32, client: Int32
        init() throws {
            var fds: [Int32] = [-1, -1]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
            (server, client) = (fds[0], fds[1])
        }
        deinit { close(server); close(client) }

        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, 0) } }

        /// Everything the server side wrote so far.
        func received() -> [UInt8] {
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(client, &buf, buf.count, Int32(MSG_DONTWAIT))
                guard n > 0 else { return out }
                out += buf[0..<n]
            }
        }
    }

    static func framed(_ m: [UInt8]) -> [UInt8] { [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }

    /// The framed messages in `bytes`.
    static func messages(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i + 2 <= bytes.count {
            let n = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            guard i + 2 + n <= bytes.count else { break }
            out.append(Array(bytes[(i + 2)..<(i + 2 + n)]))
            i += 2 + n
        }
        return out
    }

    let upstream = FakeUpstream(["allowed.test": [aRecord("allowed.test", [127, 0, 0, 3])]])

    func serve(_ c: inout DNSStreamConnection, _ r: DNSResponder, events: Int16 = Int16(POLLIN)) -> Bool {
        c.service(events, now: 0) { r.answer($0, overTCP: true).reply }
    }

    @Test func pipelinedQueriesAreAnsweredInOrder() throws {
        let pair = try Pair()
        let r = try responder(upstream)
        var c = DNSStreamConnection(fd: pair.server, now: 0)
        pair.send(Self.framed(DNSPacket.query("allowed.test")) + Self.framed(DNSPacket.query("evil.example")))
        #expect(serve(&c, r))
        let replies = Self.messages(pair.received())
        #expect(replies.count == 2)
        #expect(replies.map { $0[3] & 0x0F } == [0, 3])
    }

    @Test func aLengthTheBytesDoNotFillGetsNoAnswer() throws {
        let pair = try Pair()
        let r = try responder(upstream)
        var c = DNSStreamConnection(fd: pair.server, now: 0)
        let query = DNSPacket.query("allowed.test")
        pair.send([0, UInt8(query.count + 40)] + query)
        shutdown(pair.client, Int32(SHUT_WR))
        #expect(serve(&c, r))   // waits for the rest
        #expect(!serve(&c, r))  // the peer closed: done, nothing answered
        #expect(pair.received().isEmpty)
        #expect(upstream.questions.isEmpty)
    }

    @Test func aLengthShorterThanTheMessageCutsIt() throws {
        let pair = try Pair()
        let r = try responder(upstream)
        var c = DNSStreamConnection(fd: pair.server, now: 0)
        let query = DNSPacket.query("allowed.test")
        pair.send([0, 20] + query)         // 20 bytes: the header and part of the name
        #expect(serve(&c, r))
        let replies = Self.messages(pair.received())
        #expect(replies.first.map { $0[3] & 0x0F } == 1) // FORMERR
        #expect(upstream.questions.isEmpty)
    }

    @Test func aMessageShorterThanAHeaderClosesTheConnection() throws {
        let pair = try Pair()
        let r = try responder(upstream)
        var c = DNSStreamConnection(fd: pair.server, now: 0)
        pair.send([0, 3, 1, 2, 3])
        #expect(!serve(&c, r))
    }

    @Test func aConnectionAnswersABoundedNumberOfQueries() throws {
        let pair = try Pair()
        let r = try responder(upstream)
        var c = DNSStreamConnection(fd: pair.server, now: 0)
        let many = (0..<(DNSStreamConnection.maxQueries + 8)).flatMap { _ in Self.framed(DNSPacket.query("evil.example")) }
        pair.send(many)
        var open = true
        for _ in 0..<10 where open { open = serve(&c, r) }
        #expect(!open)
        #expect(Self.messages(pair.received()).count == DNSStreamConnection.maxQueries)
    }
}
