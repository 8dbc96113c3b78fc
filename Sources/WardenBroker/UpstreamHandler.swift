import NIOCore
import NIOSSL

/// The upstream side of a proxied connection: hands every event to its `ProxyHandler`
/// (same event loop), tagged with the connection generation so late events of a replaced
/// upstream connection are ignored.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let proxy: ProxyHandler
    private let generation: Int

    init(proxy: ProxyHandler, generation: Int) {
        self.proxy = proxy
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        proxy.upstreamRead(unwrapInboundIn(data), generation: generation)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        proxy.upstreamReadComplete(generation: generation)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        proxy.upstreamWritabilityChanged(generation: generation)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // NIOTLS's `TLSUserEvent.handshakeCompleted(negotiatedProtocol:)`, recognised by name so
        // this target need not depend on NIOTLS directly.
        if String(describing: type(of: event)) == "TLSUserEvent", "\(event)".hasPrefix("handshakeCompleted") {
            proxy.upstreamHandshakeCompleted(generation: generation)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        proxy.upstreamInactive(generation: generation)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        proxy.upstreamFailed(error, generation: generation)
        context.close(promise: nil)
    }
}
