import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The credential broker of one run: agent connections to brokered destinations are
/// redirected here by the supervisor. The broker terminates their TLS with a run-CA leaf for
/// the requested name, parses every request strictly, asks the policy, injects secrets, and
/// forwards a rebuilt request over verified TLS to the real destination.
public final class Broker: Sendable {
    let core: BrokerCore
    private let group: MultiThreadedEventLoopGroup
    private let state = Mutex(ListenState())

    private struct ListenState {
        var channels: [Channel] = []
        var ipv4: (String, UInt16)?
        var ipv6: (String, UInt16)?
        var shutDown = false
    }

    public enum BrokerError: Error, CustomStringConvertible {
        case certificateAuthority(String)
        case upstreamTrust(String)
        case listen(String)
        case notStarted
        public var description: String {
            switch self {
            case .certificateAuthority(let m): return "broker: cannot create the run CA: \(m)"
            case .upstreamTrust(let m): return "broker: cannot load the upstream trust store: \(m)"
            case .listen(let m): return "broker: cannot listen: \(m)"
            case .notStarted: return "broker: not started"
            }
        }
    }

    public init(configuration: BrokerConfiguration) throws {
        let ca: RunCertificateAuthority
        do { ca = try RunCertificateAuthority() } catch { throw BrokerError.certificateAuthority(error.description) }
        var client = TLSConfiguration.makeClientConfiguration()
        client.applicationProtocols = ["http/1.1"]
        client.minimumTLSVersion = .tlsv12
        client.certificateVerification = .fullVerification
        // Closing waits at most this long for the peer's close_notify (bounded shutdown).
        client.shutdownTimeout = .seconds(1)
        if let file = configuration.upstreamTrustFile { client.trustRoots = .file(file) }
        let upstreamTLS: NIOSSLContext
        do { upstreamTLS = try NIOSSLContext(configuration: client) } catch {
            throw BrokerError.upstreamTrust("\(configuration.upstreamTrustFile ?? "default trust store"): \(error)")
        }
        core = BrokerCore(configuration: configuration, ca: ca, upstreamTLS: upstreamTLS,
                          registry: ConnectionRegistry(maxConnections: configuration.limits.maxConnections))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Listens on a loopback address of its own (127.66.x.y, like the DNS resolver's) and on
    /// [::1] when the host has it, on an ephemeral port (the same on both when possible).
    public func start() throws {
        let v4 = try bindIPv4()
        var channels = [v4.channel]
        var v6: (String, UInt16)?
        let v6Channel = (try? bootstrap().bind(host: "::1", port: Int(v4.port)).wait())
            ?? (try? bootstrap().bind(host: "::1", port: 0).wait())
        if let c = v6Channel, let p = c.localAddress?.port {
            channels.append(c)
            v6 = ("::1", UInt16(p))
        }
        state.withLock { s in
            s.channels = channels
            s.ipv4 = (v4.host, v4.port)
            s.ipv6 = v6
        }
    }

    private func bindIPv4() throws -> (channel: Channel, host: String, port: UInt16) {
        let pid = UInt32(getpid())
        var lastError: Error?
        for attempt in UInt32(0)..<16 {
            let low = ((pid &+ attempt &* 7919) & 0xFFFF) | 1
            let host = "127.66.\(low >> 8).\(low & 0xFF)"
            do {
                let c = try bootstrap().bind(host: host, port: 0).wait()
                guard let p = c.localAddress?.port else { c.close(promise: nil); continue }
                return (c, host, UInt16(p))
            } catch { lastError = error }
        }
        throw BrokerError.listen("no free address in 127.66.0.0/16: \(lastError.map { "\($0)" } ?? "unknown")")
    }

    private func bootstrap() -> ServerBootstrap {
        let core = self.core
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard core.registry.admit() else {
                    core.emit(.refused(host: nil, port: 0, method: nil, path: nil,
                                       reason: "too many concurrent broker connections", rule: nil, secrets: []))
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in core.registry.release() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptHandler(core: core))
                }
            }
    }

    /// Where the supervisor redirects brokered connects (same family as the agent's socket).
    public var listenAddresses: (ipv4: (String, UInt16), ipv6: (String, UInt16)?) {
        state.withLock { s in (s.ipv4 ?? ("127.0.0.1", 0), s.ipv6) }
    }

    /// The per-run CA certificate (PEM); its key never leaves memory.
    public var certificateAuthorityPEM: String { core.ca.certificatePEM }

    /// The run CA itself (leaf minting, for tests and diagnostics).
    public var certificateAuthority: RunCertificateAuthority { core.ca }

    /// Announces that the connection the broker will accept from `agentSide` (the agent
    /// socket's own address, as the broker sees its peer) is really for `destination`.
    public func expect(agentSide: (ip: String, port: UInt16), destination: BrokeredDestination) {
        var d = destination
        d.names = d.names.map(BrokerCore.normalizeName)
        core.registry.expect(ConnectionRegistry.key(ip: agentSide.ip, port: agentSide.port), d)
    }

    /// The number of agent connections currently open.
    public var openConnections: Int { core.registry.openConnections }

    /// Closes the listeners and every connection and joins the event loop thread. Idempotent.
    /// Called from the broker's own event loop (an event callback), it only starts the
    /// shutdown: a thread cannot join itself.
    public func shutdown() {
        let channels: [Channel]? = state.withLock { s in
            if s.shutDown { return nil }
            s.shutDown = true
            return s.channels
        }
        guard let channels else { return }
        if group.any().inEventLoop {
            for c in channels { c.close(promise: nil) }
            group.shutdownGracefully { _ in }
            return
        }
        for c in channels { try? c.close().wait() }
        try? group.syncShutdownGracefully()
    }

    deinit { shutdown() }
}

/// What every connection handler shares: configuration, CA, upstream TLS context, registry.
final class BrokerCore: Sendable {
    let configuration: BrokerConfiguration
    let ca: RunCertificateAuthority
    let upstreamTLS: NIOSSLContext
    let registry: ConnectionRegistry
    var limits: BrokerLimits { configuration.limits }

    init(configuration: BrokerConfiguration, ca: RunCertificateAuthority, upstreamTLS: NIOSSLContext, registry: ConnectionRegistry) {
        self.configuration = configuration
        self.ca = ca
        self.upstreamTLS = upstreamTLS
        self.registry = registry
    }

    func emit(_ event: BrokerEvent) { configuration.events(event) }

    /// Lowercased, without a trailing dot.
    static func normalizeName(_ name: String) -> String {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        return n
    }
}
