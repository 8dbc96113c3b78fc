import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import WardenBroker

/// The "agent": a TLS (or plain) client that trusts the run CA, sends raw bytes and collects
/// whatever comes back, so tests can assert on exact bytes and on incremental arrival.
final class AgentClient: Sendable {
    let channel: Channel
    private let collected: Collected

    final class Collected: Sendable {
        let state = Mutex<(bytes: [UInt8], closed: Bool, handshakeFailed: String?)>(([], false, nil))
    }

    /// Connects to the broker's IPv4 address and announces the mapping to `destination`
    /// (unless `announce` is false). `sni` nil sends no server name.
    init(broker: Broker, group: EventLoopGroup, destination: BrokeredDestination, sni: String?,
         announce: Bool = true, ipv6: Bool = false) throws {
        let collected = Collected()
        self.collected = collected
        let tls: NIOSSLContext?
        if destination.scheme == .https {
            var c = TLSConfiguration.makeClientConfiguration()
            c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(broker.certificateAuthorityPEM.utf8)))
            c.applicationProtocols = ["http/1.1"]
            c.shutdownTimeout = .milliseconds(200)
            if sni == nil { c.certificateVerification = .noHostnameVerification }
            tls = try NIOSSLContext(configuration: c)
        } else {
            tls = nil
        }
        let (host, port) = ipv6 ? broker.listenAddresses.ipv6! : broker.listenAddresses.ipv4
        channel = try ClientBootstrap(group: group)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: sni)) }
                    try ch.pipeline.syncOperations.addHandler(CollectHandler(collected: collected))
                }
            }
            .connect(host: host, port: Int(port)).wait()
        if announce, let local = channel.localAddress {
            broker.expect(agentSide: (ip: local.ipAddress!, port: UInt16(local.port!)), destination: destination)
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Sends with backpressure: waits for each write.
    func sendAndWait(_ bytes: [UInt8]) throws {
        try channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
    }

    var bytes: [UInt8] { collected.state.withLock { $0.bytes } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var isClosed: Bool { collected.state.withLock { $0.closed } }

    /// Waits until `condition` holds on the received bytes (true) or `timeout` passes (false).
    @discardableResult
    func wait(timeout: Double = 5, until condition: ([UInt8], Bool) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (b, closed, _) = collected.state.withLock { $0 }
            if condition(b, closed) { return true }
            usleep(2000)
        }
        let (b, closed, _) = collected.state.withLock { $0 }
        return condition(b, closed)
    }

    /// Waits for one complete response (Content-Length or chunked) after `from` bytes.
    func waitForResponse(from offset: Int = 0, timeout: Double = 5) -> TestResponse? {
        var found: TestResponse?
        wait(timeout: timeout) { b, closed in
            found = TestResponse.parse(Array(b.dropFirst(offset)), closed: closed)
            return found != nil || closed
        }
        return found ?? TestResponse.parse(Array(bytes.dropFirst(offset)), closed: true)
    }

    func waitClosed(timeout: Double = 5) -> Bool { wait(timeout: timeout) { _, closed in closed } }

    func close() { try? channel.close().wait() }
}

private final class CollectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let collected: AgentClient.Collected
    init(collected: AgentClient.Collected) { self.collected = collected }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        collected.state.withLock { $0.bytes += b.readableBytesView }
    }

    func channelInactive(context: ChannelHandlerContext) {
        collected.state.withLock { $0.closed = true }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        collected.state.withLock { $0.handshakeFailed = "\(error)" }
        context.close(promise: nil)
    }
}

/// A minimal response reader for assertions (final response after any 1xx).
struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// Bytes this response occupied.
    var length: Int
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    static func parse(_ bytes: [UInt8], closed: Bool) -> TestResponse? {
        var start = 0
        while true {
            guard let end = find([13, 10, 13, 10], in: bytes, from: start) else { return nil }
            let lines = String(decoding: bytes[start..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
            let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                guard let c = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
            }
            let bodyStart = end + 4
            if (100..<200).contains(status) { start = bodyStart; continue }
            var r = TestResponse(status: status, headers: headers, body: [], length: 0)
            if let cl = r.header("content-length"), let n = Int(cl) {
                guard bytes.count >= bodyStart + n else { return nil }
                r.body = Array(bytes[bodyStart..<(bodyStart + n)])
                r.length = bodyStart + n
                return r
            }
            if r.header("transfer-encoding")?.lowercased() == "chunked" {
                var i = bodyStart
                while true {
                    guard let le = find([13, 10], in: bytes, from: i) else { return nil }
                    guard let size = Int(String(decoding: bytes[i..<le], as: UTF8.self), radix: 16) else { return nil }
                    if size == 0 {
                        guard bytes.count >= le + 4 else { return nil }
                        r.length = le + 4
                        return r
                    }
                    guard bytes.count >= le + 2 + size + 2 else { return nil }
                    r.body += bytes[(le + 2)..<(le + 2 + size)]
                    i = le + 2 + size + 2
                }
            }
            guard closed else { return nil }
            r.body = Array(bytes[bodyStart...])
            r.length = bytes.count
            return r
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
