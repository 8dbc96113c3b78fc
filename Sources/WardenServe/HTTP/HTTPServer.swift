import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Why the server could not start.
public struct ServeListenError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// `warden serve`'s HTTP/1.1 listener (SwiftNIO): one request per connection, every peer held
/// to `ServeLimits` (head and body size, time to send the head and the whole request,
/// connections at once in all and per address, body bytes held across connections).
/// Requests go to a `ServeHandler`; responses always close the connection.
public final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: any Channel
    private let connections: ConnectionCount
    /// The port listened on (useful with port 0).
    public let port: Int

    /// Bytes of request bodies held at once, across all connections; a body that would pass
    /// it is answered 503 (so many large unauthenticated bodies cannot take the memory).
    final class BodyBudget: Sendable {
        private let held = Atomic<Int>(0)
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func reserve(_ n: Int) -> Bool {
            if held.wrappingAdd(n, ordering: .relaxed).newValue > limit {
                held.wrappingSubtract(n, ordering: .relaxed)
                return false
            }
            return true
        }
        func release(_ n: Int) { held.wrappingSubtract(n, ordering: .relaxed) }
        var inUse: Int { held.load(ordering: .relaxed) }
    }

    /// Counts open connections, in all and per peer address, and refuses beyond the caps.
    final class ConnectionCount: Sendable {
        private let state = Mutex<(all: Int, byPeer: [String: Int])>((0, [:]))
        let limit: Int
        let perPeer: Int
        init(limit: Int, perPeer: Int) {
            self.limit = limit
            self.perPeer = perPeer
        }
        func admit(_ peer: String) -> Bool {
            state.withLock { s in
                guard s.all < limit, s.byPeer[peer, default: 0] < perPeer else { return false }
                s.all += 1
                s.byPeer[peer, default: 0] += 1
                return true
            }
        }
        func release(_ peer: String) {
            state.withLock { s in
                s.all -= 1
                let left = s.byPeer[peer, default: 1] - 1
                s.byPeer[peer] = left > 0 ? left : nil
            }
        }
        var open: Int { state.withLock { $0.all } }
    }

    /// Binds `host:port` and starts serving; requests are answered on `handlerThreads` threads. `maxConnections` and `requestTimeout` default to
    /// `ServeLimits`' (tests lower them).
    public init(host: String, port: Int, handler: any ServeHandler,
                maxConnections: Int = ServeLimits.maxConnections,
                maxConnectionsPerPeer: Int = ServeLimits.maxConnectionsPerPeer,
                headTimeout: Duration = ServeLimits.headTimeout,
                requestTimeout: Duration = ServeLimits.requestTimeout,
                maxBodyBytes: Int = ServeLimits.maxBodyBytes, maxHeldBodyBytes: Int = ServeLimits.maxHeldBodyBytes,
                handlerThreads: Int = 4) throws(ServeListenError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bodies = BodyBudget(limit: maxHeldBodyBytes)
        let pool = NIOThreadPool(numberOfThreads: handlerThreads)
        pool.start()
        let connections = ConnectionCount(limit: maxConnections, perPeer: maxConnectionsPerPeer)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let peer = channel.remoteAddress?.ipAddress ?? "?"
                guard connections.admit(peer) else { return channel.close() }
                channel.closeFuture.whenComplete { _ in connections.release(peer) }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteBudget(limit: ServeLimits.maxHeadBytes + maxBodyBytes + 4096))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(RequestCollector(handler: handler, pool: pool, timeout: requestTimeout, headTimeout: headTimeout,
                                                           maxBodyBytes: maxBodyBytes, bodies: bodies))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw ServeListenError(description: "cannot listen on \(host):\(port): \(error)")
        }
        self.group = group
        self.pool = pool
        self.connections = connections
        self.port = channel.localAddress?.port ?? port
    }

    /// Connections open now.
    public var openConnections: Int { connections.open }

    /// Stops listening, closes every connection and joins the event loop. Idempotent.
    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
        try? pool.syncShutdownGracefully()
    }
}

/// Closes a connection that sends more bytes than one whole request may have: the decoder
/// never buffers more than this, whatever the peer sends.
final class ByteBudget: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var left: Int
    init(limit: Int) { left = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        left -= buffer.readableBytes
        guard left >= 0 else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
