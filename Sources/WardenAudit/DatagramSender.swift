#if canImport(Glibc)
import Glibc
#endif

/// Sends datagrams to a syslog daemon, a collector or journald: a unix datagram socket or UDP.
public final class DatagramSender: @unchecked Sendable {
    /// Where messages go.
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        case unix(String)
        case udp(host: String, port: UInt16)

        /// `unix:PATH` or `udp:HOST:PORT` (IPv6 hosts in brackets: `udp:[::1]:514`).
        public static func parse(_ text: String) -> Address? {
            if text.hasPrefix("unix:") {
                let p = String(text.dropFirst(5))
                return p.isEmpty || p.utf8.count > 107 ? nil : .unix(p)
            }
            guard text.hasPrefix("udp:") else { return nil }
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
                return nil
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return host.isEmpty ? nil : .udp(host: host, port: port)
        }

        public var description: String {
            switch self {
            case .unix(let p): return "unix:\(p)"
            case .udp(let h, let p): return "udp:\(h.contains(":") ? "[\(h)]" : h):\(p)"
            }
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    private let fd: Int32
    public let address: Address

    /// Connects a datagram socket to `address` (nothing is sent yet).
    public init(_ address: Address) throws(Failure) {
        self.address = address
        switch address {
        case .unix(let path):
            let s = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &sa.sun_path) { p in
                for (i, b) in bytes.enumerated() where i < p.count - 1 { p[i] = b }
            }
            let r = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard r == 0 else {
                let e = errno
                close(s)
                throw Failure(description: "cannot reach \(path): \(String(cString: strerror(e)))")
            }
            fd = s
        case .udp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV
            var res: UnsafeMutablePointer<addrinfo>?
            let g = getaddrinfo(host, String(port), &hints, &res)
            guard g == 0, let ai = res else {
                throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(g)))")
            }
            defer { freeaddrinfo(res) }
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard s >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
            guard connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
                let e = errno
                close(s)
                throw Failure(description: "cannot reach \(address): \(String(cString: strerror(e)))")
            }
            fd = s
        }
    }

    deinit { close(fd) }

    /// Sends one datagram (retrying on EINTR).
    public func send(_ bytes: [UInt8]) throws(Failure) {
        while true {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 { return }
            if errno == EINTR { continue }
            throw Failure(description: "sending to \(address): \(String(cString: strerror(errno)))")
        }
    }
}
