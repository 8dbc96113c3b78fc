import CLauncher
import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Where the mediator sends the TCP connects that HTTP rules govern, and how it tells the
/// broker which destination each redirected connection was meant for.
public struct BrokerRedirect: Sendable {
    /// The broker's listening addresses.
    public var ipv4: SocketAddress
    public var ipv6: SocketAddress?
    /// The scheme (`http`, `https`) whose rules govern a host name (or IP text) and port;
    /// nil when no HTTP rule does (the connect is decided as any other).
    public var scheme: @Sendable (_ host: String, _ port: UInt16) -> String?
    /// Called once the agent's socket is connected to the broker: the agent side of the
    /// connection (as the broker sees its peer), the destination the agent asked for, the
    /// scheme its rules use, and the names (resolved to it in this run) the rules cover.
    public var register: @Sendable (_ agentSide: SocketAddress, _ destination: SocketAddress, _ scheme: String, _ names: [String]) -> Void

    public init(ipv4: SocketAddress, ipv6: SocketAddress?, scheme: @escaping @Sendable (String, UInt16) -> String?,
                register: @escaping @Sendable (SocketAddress, SocketAddress, String, [String]) -> Void) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.scheme = scheme
        self.register = register
    }
}

extension NetworkMediator {
    /// A TCP destination HTTP rules govern: the address, the rules' scheme and the names
    /// they cover (names that resolved to the address in this run through Warden's
    /// resolver or /etc/hosts, or the address itself for a rule naming an IP). An explicit
    /// `deny net connect` of the host still wins (the scheme closure answers nil).
    struct BrokeredTarget {
        var address: SocketAddress
        var scheme: String
        var names: [String]
    }

    func brokeredTarget(_ r: UnsafeMutablePointer<warden_net_request>) -> BrokeredTarget? {
        guard let broker, r.pointee.has_addr != 0, Self.inetProtocol(r) == .tcp,
              case .address(let a) = SocketAddress.parse(r) else { return nil }
        var scheme: String?
        var covered: [String] = []
        for name in names.names(for: a.host) {
            guard let s = broker.scheme(name, a.port), scheme == nil || scheme == s else { continue }
            scheme = s
            covered.append(name)
        }
        if scheme == nil, let s = broker.scheme(a.hostText, a.port) {
            scheme = s
            covered = [a.hostText]
        }
        return scheme.map { BrokeredTarget(address: a, scheme: $0, names: covered) }
    }

    /// Points the fetched connect at the broker (same address family: an IPv6 socket
    /// without a broker on ::1 gets the IPv4-mapped address).
    func redirectToBroker(_ r: UnsafeMutablePointer<warden_net_request>, _ broker: BrokerRedirect) {
        let target: SocketAddress
        if r.pointee.domain == AF_INET6 {
            target = broker.ipv6 ?? broker.ipv4
        } else {
            target = broker.ipv4
        }
        withUnsafeMutableBytes(of: &r.pointee.addr) { raw in
            for i in raw.indices { raw[i] = 0 }
            let port = target.port
            if r.pointee.domain == AF_INET, case .ipv4(let n) = target.host {
                raw[0] = UInt8(AF_INET & 0xff); raw[1] = UInt8(AF_INET >> 8)
                raw[2] = UInt8(port >> 8); raw[3] = UInt8(port & 0xff)
                let a = n.address
                raw[4] = UInt8(a >> 24); raw[5] = UInt8(a >> 16 & 0xff); raw[6] = UInt8(a >> 8 & 0xff); raw[7] = UInt8(a & 0xff)
                r.pointee.addrlen = UInt32(MemoryLayout<sockaddr_in>.size)
            } else {
                raw[0] = UInt8(AF_INET6 & 0xff); raw[1] = UInt8(AF_INET6 >> 8)
                raw[2] = UInt8(port >> 8); raw[3] = UInt8(port & 0xff)
                switch target.host {
                case .ipv6(let n):
                    for (i, b) in n.bytes.prefix(16).enumerated() { raw[8 + i] = b }
                case .ipv4(let n):
                    raw[18] = 0xff; raw[19] = 0xff
                    let a = n.address
                    raw[20] = UInt8(a >> 24); raw[21] = UInt8(a >> 16 & 0xff); raw[22] = UInt8(a >> 8 & 0xff); raw[23] = UInt8(a & 0xff)
                default: break
                }
                r.pointee.addrlen = UInt32(MemoryLayout<sockaddr_in6>.size)
            }
        }
    }

    /// After the supervisor connected the agent's socket to the broker (or started to:
    /// EINPROGRESS), tells the broker what the connection was meant for.
    func registerBrokered(_ fd: Int32, result: Int, target: BrokeredTarget) {
        guard let broker, result == 0 || result == -Int(EINPROGRESS), let local = SocketAddress.local(of: fd) else { return }
        broker.register(local, target.address, target.scheme, target.names)
    }

    /// Records a connect sent to the broker (allowed; the broker records each request).
    func recordBrokered(_ target: BrokeredTarget, pid: Int32) {
        try? audit?.network(denied: false, destination: target.address.hostText, port: Int32(target.address.port), proto: "tcp",
                            domain: target.names.first, pid: pid,
                            rule: "brokered: \(target.scheme) rules govern \(target.names.first ?? target.address.hostText):\(target.address.port); each request is decided and recorded by the broker",
                            detail: NetworkDetail(operation: Kind.connect.operation, decidedBy: "broker",
                                                  explain: ["--connect", "tcp", target.address.endpoint.description]))
    }
}
