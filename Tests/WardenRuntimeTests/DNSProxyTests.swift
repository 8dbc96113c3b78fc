import Glibc
import Testing
@testable import WardenRuntime

/// The resolver's server loop on real sockets (root: it binds port 53 on 127.53.x.y):
/// idle and half-sent TCP connections do not stop it answering, and it shuts down with
/// them open. Only refused names are asked, so no upstream is needed.
@Suite("DNS resolver: server loop")
struct DNSProxyTests {
    static func connect(_ proto: Int32, to a: SocketAddress) -> Int32 {
        let fd = socket(AF_INET, proto | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, case .ipv4(let n) = a.host else { return -1 }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = a.port.bigEndian
        sa.sin_addr.s_addr = n.address.bigEndian
        let r = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 { close(fd); return -1 }
        return fd
    }

    static func exchange(_ fd: Int32, _ bytes: [UInt8]) -> [UInt8] {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? Array(buf[0..<n]) : []
    }

    @Test func busyAndHalfSentConnectionsDoNotStopTheResolver() throws {
        guard geteuid() == 0 else { print("skip: needs root (port 53)"); return }
        let proxy = try DNSProxy(effective: try dnsTestPolicy(), names: ResolvedNames(), audit: nil,
                                 upstream: SocketAddress(ipv4: 0x7F00_0001, port: 9))
        defer { proxy.shutdown() }
        guard let tcp = proxy.endpoints.tcp else { print("skip: *:53 is taken on this host"); return }
        #expect(tcp == proxy.endpoints.udp)
        // More connections than the resolver serves at once, each with half a length prefix.
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<(DNSServer.maxConnections + 4) {
            let fd = Self.connect(Int32(SOCK_STREAM.rawValue), to: tcp)
            if fd >= 0 { idle.append(fd); _ = send(fd, [0x00], 1, Int32(MSG_NOSIGNAL)) }
        }
        #expect(idle.count == DNSServer.maxConnections + 4)
        // UDP is still answered.
        let udp = Self.connect(Int32(SOCK_DGRAM.rawValue), to: proxy.endpoints.udp)
        defer { close(udp) }
        let answer = Self.exchange(udp, DNSPacket.query("evil.example"))
        #expect(answer.count >= 12 && answer[0] == 0x12 && answer[1] == 0x34 && answer[3] & 0x0F == 3)
        // A connection that completes its message is answered; closing the idle ones lets
        // the queued connections in.
        let query = DNSPacket.query("evil.example", type: 16)
        let reply = Self.exchange(idle[0], Array(DNSPacket.u16(UInt16(query.count)).dropFirst()) + query)
        #expect(reply.count >= 14 && reply[5] & 0x0F == 3, "\(reply)")
        for fd in idle.prefix(DNSServer.maxConnections) { close(fd) }
        idle.removeFirst(DNSServer.maxConnections)
        let late = Self.exchange(idle[0], Array(DNSPacket.u16(UInt16(query.count)).dropFirst()) + query)
        #expect(late.count >= 14 && late[5] & 0x0F == 3, "\(late)")
    }
}
