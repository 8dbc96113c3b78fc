import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Why the server could not start.
public struct ServeListenError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// `warden serve`'s HTTP/1.1 listener (SwiftNIO): one request per connection, every peer held
/// to `ServeLimits` (head and body size, time to send the whole request, connections at once).
/// Requests go to a `ServeHandler`; responses always close the connection.
public final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: any Channel
    private let connections: ConnectionCount
    /// The port listened on (useful with port 0).
    public let port: Int

    /// Counts open connections and refuses beyond the cap.
    final class ConnectionCount: Sendable {
        private let count = Atomic<Int>(0)
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func admit() -> Bool {
            if count.wrappingAdd(1, ordering: .relaxed).newValue > limit {
                count.wrappingSubtract(1, ordering: .relaxed)
                return false
            }
            return true
        }
        func release() { count.wrappingSubtract(1, ordering: .relaxed) }
        var open: Int { count.load(ordering: .relaxed) }
    }

    /// Binds `host:port` and starts serving; requests are answered on `handlerThreads` threads. `maxConnections` and `requestTimeout` default to
    /// `ServeLimits`' (tests lower them).
    public init(host: String, port: Int, handler: any ServeHandler,
                maxConnections: Int = ServeLimits.maxConnections,
                requestTimeout: Duration = ServeLimits.requestTimeout,
                maxBodyBytes: Int = ServeLimits.maxBodyBytes, handlerThreads: Int = 4) throws(ServeListenError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: handlerThreads)
        pool.start()
        let connections = ConnectionCount(limit: maxConnections)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit() else { return channel.close() }
                channel.closeFuture.whenComplete { _ in connections.release() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteBudget(limit: ServeLimits.maxHeadBytes + maxBodyBytes + 4096))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(RequestCollector(handler: handler, pool: pool, timeout: requestTimeout, maxBodyBytes: maxBodyBytes))
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
