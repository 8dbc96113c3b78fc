import NIOCore
import NIOSSL

/// The first handler of an accepted connection: waits (bounded) for the supervisor's mapping
/// of its peer address, then installs TLS termination (https) and the proxy. A connection
/// nobody announced is closed without a byte.
final class AcceptHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let core: BrokerCore

    init(core: BrokerCore) { self.core = core }

    func channelActive(context: ChannelHandlerContext) {
        guard let peer = context.channel.remoteAddress, let ip = peer.ipAddress, let port = peer.port else {
            context.close(promise: nil)
            return
        }
        let key = ConnectionRegistry.key(ip: ip, port: UInt16(port))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let core = self.core
        core.registry.claim(key, on: context.eventLoop, wait: core.limits.mappingWait).whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .failure:
                core.emit(.refused(host: nil, port: 0, method: nil, path: nil,
                                   reason: "connection from \(ip):\(port) was not announced by the supervisor", rule: nil, secrets: []))
                context.close(promise: nil)
            case .success(let destination):
                guard context.channel.isActive else { return }
                do {
                    try handler.install(destination, context: context)
                } catch {
                    core.emit(.refused(host: destination.names.first, port: destination.port, method: nil, path: nil,
                                       reason: "cannot set up TLS: \(error)", rule: nil, secrets: []))
                    context.close(promise: nil)
                }
            }
        }
    }

    private func install(_ destination: BrokeredDestination, context: ChannelHandlerContext) throws {
        let pipeline = context.pipeline.syncOperations
        let serverName = ServerNameBox()
        if destination.scheme == .https {
            let tls = try NIOSSLContext(configuration: serverTLS(destination, serverName: serverName))
            try pipeline.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        }
        try pipeline.addHandler(ProxyHandler(core: core, destination: destination, serverName: serverName))
        pipeline.removeHandler(context: context, promise: nil)
        context.channel.read()
    }

    /// Per connection: the leaf is chosen from the SNI, which must be one of the names the
    /// agent resolved to this destination; no SNI or another name fails the handshake.
    private func serverTLS(_ destination: BrokeredDestination, serverName: ServerNameBox) throws -> TLSConfiguration {
        let fallback = try core.ca.leaf(for: "warden.invalid")
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(fallback.certificate)],
                                                           privateKey: .privateKey(fallback.privateKey))
        tls.applicationProtocols = ["http/1.1"]
        tls.minimumTLSVersion = .tlsv12
        tls.shutdownTimeout = .seconds(1)
        let ca = core.ca
        let core = self.core
        tls.sslContextCallback = { values, promise in
            guard let raw = values.serverHostname else {
                core.emit(.refused(host: nil, port: destination.port, method: nil, path: nil,
                                   reason: "TLS client hello without a server name (SNI)", rule: nil, secrets: []))
                promise.fail(SNIRefusal.missing)
                return
            }
            let sni = BrokerCore.normalizeName(raw)
            guard destination.names.contains(sni) else {
                core.emit(.refused(host: sni, port: destination.port, method: nil, path: nil,
                                   reason: "TLS server name \(sni) is not a name resolved to \(destination.ip) in this run",
                                   rule: nil, secrets: []))
                promise.fail(SNIRefusal.unknown(sni))
                return
            }
            do {
                let leaf = try ca.leaf(for: sni)
                serverName.set(sni)
                var o = NIOSSLContextConfigurationOverride()
                o.certificateChain = [.certificate(leaf.certificate)]
                o.privateKey = .privateKey(leaf.privateKey)
                promise.succeed(o)
            } catch {
                core.emit(.refused(host: sni, port: destination.port, method: nil, path: nil,
                                   reason: "\(error)", rule: nil, secrets: []))
                promise.fail(error)
            }
        }
        return tls
    }

    enum SNIRefusal: Error { case missing, unknown(String) }
}

/// The SNI name accepted during the handshake, read by the proxy afterwards.
final class ServerNameBox: @unchecked Sendable {
    // Written by the TLS callback and read by the proxy, both on the connection's event loop.
    private var value: String?
    func set(_ name: String) { value = name }
    var name: String? { value }
}
