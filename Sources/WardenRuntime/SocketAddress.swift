import CLauncher
import Synchronization
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// A concrete IPv4 or IPv6 socket address (IPv4-mapped IPv6 is the IPv4 address).
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// `.ipv4` (prefix 32) or `.ipv6` (prefix 128).
    public var host: EndpointHost
    public var port: UInt16

    public init(host: EndpointHost, port: UInt16) {
        self.host = host
        self.port = port
    }

    public init(ipv4 address: UInt32, port: UInt16) {
        self.init(host: .ipv4(IPv4Network(address: address, prefixLength: 32)), port: port)
    }

    /// IPv6 bytes (network order); an IPv4-mapped address becomes IPv4.
    public init(ipv6 bytes: [UInt8], port: UInt16) {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            let v4 = bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            self.init(ipv4: v4, port: port)
        } else {
            self.init(host: .ipv6(IPv6Network(bytes: bytes, prefixLength: 128)), port: port)
        }
    }

    public var endpoint: Endpoint { Endpoint(host: host, ports: PortRange(lower: port, upper: port)) }

    /// The address without the port (`127.0.0.1`, `::1`).
    public var hostText: String {
        switch host {
        case .ipv6(let n): return n.description
        default: return host.description
        }
    }

    public var description: String { endpoint.description }

    enum Parsed { case address(SocketAddress), unspecified, invalid(Int32) }

    /// The destination or local address of a fetched request, read the way the kernel
    /// reads it: by the family in the copied bytes.
    static func parse(_ r: UnsafeMutablePointer<warden_net_request>) -> Parsed {
        let len = Int(r.pointee.addrlen)
        return withUnsafeBytes(of: r.pointee.addr) { raw -> Parsed in
            guard len >= 2 else { return .invalid(EINVAL) }
            let family = Int32(UInt16(raw[0]) | UInt16(raw[1]) << 8)
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            switch family {
            case AF_UNSPEC: return .unspecified
            case AF_INET:
                guard len >= 16 else { return .invalid(EINVAL) }
                let a = raw[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return .address(SocketAddress(ipv4: a, port: port))
            case AF_INET6:
                guard len >= 24 else { return .invalid(EINVAL) }
                return .address(SocketAddress(ipv6: Array(raw[8..<24]), port: port))
            default:
                return .invalid(EAFNOSUPPORT)
            }
        }
    }

    /// The local address a socket is bound to (getsockname), nil if it cannot be read.
    static func local(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: storage) { raw -> SocketAddress? in
            let family = Int32(UInt16(raw[0]) | UInt16(raw[1]) << 8)
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            switch family {
            case AF_INET: return SocketAddress(ipv4: raw[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, port: port)
            case AF_INET6: return SocketAddress(ipv6: Array(raw[8..<24]), port: port)
            default: return nil
            }
        }
    }
}

/// Addresses that allowed DNS answers returned in this run, and the names they came from.
public final class ResolvedNames: Sendable {
    private let table = Mutex<[EndpointHost: Set<String>]>([:])

    public init() {}

    /// Remembers that `name` resolved to `host`.
    public func add(_ host: EndpointHost, for name: String) {
        table.withLock { $0[host, default: []].insert(name) }
    }

    /// The addresses of this host's own interfaces (4 or 16 bytes each), read once.
    static let interfaceAddresses: Set<[UInt8]> = {
        var out = Set<[UInt8]>()
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return out }
        defer { freeifaddrs(list) }
        var p = list
        while let a = p {
            if let sa = a.pointee.ifa_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { out.insert(withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }) }
                case AF_INET6:
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { out.insert(withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }) }
                default: break
                }
            }
            p = a.pointee.ifa_next
        }
        return out
    }()

    /// Whether a DNS answer's address (4 or 16 bytes) is this host's: loopback, link-local,
    /// unspecified, multicast, or an address of one of its interfaces (IPv4-mapped IPv6
    /// judged as IPv4). Such answers never grant a connect.
    public static func isHostLocal(_ bytes: [UInt8]) -> Bool {
        var b = bytes
        if b.count == 16, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff { b = Array(b[12..<16]) }
        if interfaceAddresses.contains(b) { return true }
        if b.count == 4 {
            return b[0] == 127 || b[0] == 0 || (b[0] == 169 && b[1] == 254) || (b[0] >= 224 && b[0] <= 239) || b == [255, 255, 255, 255]
        }
        guard b.count == 16 else { return true }
        if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 1 || b[15] == 0) { return true } // ::1, ::
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return true } // fe80::/10
        return b[0] == 0xff // multicast
    }

    /// The names that resolved to `host`, sorted.
    public func names(for host: EndpointHost) -> [String] {
        table.withLock { ($0[host] ?? []).sorted() }
    }
}

extension ResolvedNames {
    /// Adds the entries of a hosts file (`/etc/hosts`) whose names `allowed` accepts: names
    /// resolved there never reach Warden's resolver, and their addresses must be
    /// connectable for the names' rules too.
    public func addHostsFile(_ text: String, allowed: (String) -> Bool) {
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2, let host = Self.parseHost(fields[0]) else { continue }
            for name in fields.dropFirst() {
                let n = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()
                if allowed(n) { add(host, for: n) }
            }
        }
    }

    static func parseHost(_ text: String) -> EndpointHost? {
        var a4 = in_addr()
        if inet_pton(AF_INET, text, &a4) == 1 { return SocketAddress(ipv4: UInt32(bigEndian: a4.s_addr), port: 0).host }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, text, &a6) == 1 {
            return SocketAddress(ipv6: withUnsafeBytes(of: a6) { Array($0) }, port: 0).host
        }
        return nil
    }
}
