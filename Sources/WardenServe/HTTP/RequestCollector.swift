import NIOCore
import NIOHTTP1
import NIOPosix

/// Reads one request (head and body, bounded), hands it to the `ServeHandler` on a thread of
/// the blocking pool (never the event loop, never Swift's cooperative pool), writes the response and closes. A request not received within the timeouts (the head, the whole request; answering is not timed), a head
/// over `ServeLimits.maxHeadBytes` or a body over the limit gets its error status and the
/// connection is closed.
final class RequestCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: any ServeHandler
    private let pool: NIOThreadPool
    private let timeout: Duration
    private let maxBodyBytes: Int
    private let bodies: HTTPServer.BodyBudget
    /// Bytes of `bodies` this connection holds.
    private var reserved = 0
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Set once a response is on its way: everything else the peer sends is ignored.
    private var answered = false
    private var deadline: Scheduled<Void>?
    private var headDeadline: Scheduled<Void>?
    private let headTimeout: Duration

    init(handler: any ServeHandler, pool: NIOThreadPool, timeout: Duration, headTimeout: Duration, maxBodyBytes: Int,
         bodies: HTTPServer.BodyBudget) {
        self.headTimeout = headTimeout
        self.bodies = bodies
        self.handler = handler
        self.pool = pool
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        func nanoseconds(_ d: Duration) -> Int64 { d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 }
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds(timeout))) { channel.close(promise: nil) }
        headDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds(headTimeout))) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        headDeadline?.cancel()
        bodies.release(reserved)
        reserved = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            headDeadline?.cancel()
            let headBytes = h.uri.utf8.count + h.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            if headBytes > ServeLimits.maxHeadBytes {
                respond(context, .text(431, "request head larger than \(ServeLimits.maxHeadBytes) bytes"))
                return
            }
            if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
                respond(context, .text(413, "request body larger than \(maxBodyBytes) bytes"))
                return
            }
            head = h
            if h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= maxBodyBytes else {
                respond(context, .text(413, "request body larger than \(maxBodyBytes) bytes"))
                return
            }
            guard bodies.reserve(buffer.readableBytes) else {
                respond(context, .text(503, "the server holds as many request bodies as it takes; try again"))
                return
            }
            reserved += buffer.readableBytes
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { body += bytes }
        case .end:
            guard let head else { return }
            dispatch(context, head)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP: NIO's error handler (added by the pipeline setup) has answered 400.
        context.close(promise: nil)
    }

    private func dispatch(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        answered = true
        // The deadlines bound receiving the request, not answering it: a delivery waiting
        // its turn for a decision must not be cut off.
        deadline?.cancel()
        headDeadline?.cancel()
        let uri = head.uri
        let path: String, query: String
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q]); query = String(uri[uri.index(after: q)...])
        } else {
            path = uri; query = ""
        }
        let request = ServeRequest(method: head.method.rawValue, path: path, query: query,
                                   headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body)
        body = []
        let handler = self.handler
        let future = pool.runIfActive(eventLoop: context.eventLoop) { handler.handle(request) }
        future.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let response): self.write(context, response)
            case .failure: self.write(context, .text(503, "the server is shutting down"))
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ response: ServeResponse) {
        answered = true
        write(context, response)
    }

    private func write(_ context: ChannelHandlerContext, _ response: ServeResponse) {
        if let feed = response.feed { return stream(context, feed) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Writes the event stream's head, lifts the request deadline and hands the connection
    /// to the feed; at the feed's cap the response ends at once.
    private func stream(_ context: ChannelHandlerContext, _ feed: AuditFeed) {
        deadline?.cancel()
        headDeadline?.cancel()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        var hello = context.channel.allocator.buffer(capacity: 16)
        hello.writeString(": warden serve events\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(hello))), promise: nil)
        if !feed.subscribe(context.channel) {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
