import Foundation
import Crypto
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// What the fake upstream received: one entry per complete request.
struct ReceivedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var bodyCount: Int
    var bodySHA256: String
    var body: [UInt8]

    func header(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
}

/// A TLS (or plain) HTTP/1.1 server on loopback built with NIOHTTP1, standing in for
/// api.github.com and friends. Routes:
/// - `/stream`: a chunked response; the first chunk at once, the last after `releaseStream()`.
/// - `/download?bytes=N`: N bytes of a fixed pattern (Content-Length).
/// - `/sse`: `text/event-stream` chunked like `/stream`.
/// - anything else: 200 with body `ok <method> <uri>`, header `x-body-sha256`.
final class UpstreamServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    let port: UInt16
    private let state = Mutex<[ReceivedRequest]>([])
    private let streamGate = Mutex<EventLoopPromise<Void>?>(nil)
    private let open = Mutex(0)
    /// Connections currently open to this server.
    var openConnections: Int { open.withLock { $0 } }
    func opened() { open.withLock { $0 += 1 } }
    func closed() { open.withLock { $0 -= 1 } }

    init(tls: (NIOSSLCertificate, NIOSSLPrivateKey)?) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sslContext = try tls.map { cert, key -> NIOSSLContext in
            var c = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key))
            c.applicationProtocols = ["http/1.1"]
            c.shutdownTimeout = .milliseconds(200)
            return try NIOSSLContext(configuration: c)
        }
        let box = ServerBox()
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let sslContext { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try ch.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try ch.pipeline.syncOperations.addHandler(ServerHandler(server: box.server!))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = UInt16(channel.localAddress!.port!)
        box.server = self
    }

    var requests: [ReceivedRequest] { state.withLock { $0 } }

    func record(_ r: ReceivedRequest) { state.withLock { $0.append(r) } }

    /// A future the stream route waits on before its last chunk.
    func gate(on loop: EventLoop) -> EventLoopFuture<Void> {
        streamGate.withLock { g in
            if g == nil { g = loop.makePromise() }
            return g!.futureResult
        }
    }

    func releaseStream() {
        let p = streamGate.withLock { $0 }
        p?.succeed(())
    }

    func stop() {
        try? channel.close().wait()
        releaseStream()
        try? group.syncShutdownGracefully()
    }
}

private final class ServerBox: @unchecked Sendable { var server: UpstreamServer? }

private final class ServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: UpstreamServer
    var head: HTTPRequestHead?
    var hasher = SHA256()
    var count = 0
    var body: [UInt8] = []

    init(server: UpstreamServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        server.opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.closed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h; hasher = SHA256(); count = 0; body = []
            if h.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
            }
        case .body(let b):
            hasher.update(data: Array(b.readableBytesView))
            count += b.readableBytes
            if body.count < 1 << 16 { body += b.readableBytesView.prefix(1 << 16 - body.count) }
        case .end:
            guard let head else { return }
            let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            server.record(ReceivedRequest(method: head.method.rawValue, uri: head.uri,
                                          headers: head.headers.map { ($0.name, $0.value) },
                                          bodyCount: count, bodySHA256: sha, body: body))
            respond(context: context, head: head, sha: sha)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, sha: String) {
        if head.uri == "/stream" || head.uri == "/sse" {
            var h = HTTPHeaders()
            h.add(name: "content-type", value: head.uri == "/sse" ? "text/event-stream" : "text/plain")
            h.add(name: "transfer-encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: h))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: first\n\n")))), promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            server.gate(on: context.eventLoop).hop(to: context.eventLoop).whenComplete { _ in
                let context = bound.value
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: last\n\n")))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
            return
        }
        if head.uri.hasPrefix("/download?bytes=") {
            let n = Int(head.uri.dropFirst("/download?bytes=".count)) ?? 0
            var h = HTTPHeaders()
            h.add(name: "content-length", value: "\(n)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: h))), promise: nil)
            var sent = 0
            let pattern = Self.pattern
            while sent < n {
                let k = min(pattern.count, n - sent)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: pattern[0..<k])))), promise: nil)
                sent += k
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let text = "ok \(head.method.rawValue) \(head.uri)"
        var h = HTTPHeaders()
        h.add(name: "content-length", value: "\(text.utf8.count)")
        h.add(name: "x-body-sha256", value: sha)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: h))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// 64 KiB of a repeating pattern.
    static let pattern: [UInt8] = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
}
