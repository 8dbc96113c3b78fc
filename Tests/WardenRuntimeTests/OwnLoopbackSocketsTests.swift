import Testing
import WardenPolicy
@testable import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `OwnLoopbackSockets`: what counts as the agent's own is what the kernel says about the
/// kept duplicates now, and a kept socket outlives the descriptor it was taken from.
@Suite("network mediation: own loopback sockets")
struct OwnLoopbackSocketsTests {
    /// A socket of `type` bound to 127.0.0.1:0 (listening for TCP); its fd and port.
    func bound(_ type: Int32, listening: Bool) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(rc == 0)
        if listening { try #require(listen(fd, 4) == 0) }
        let port = try #require(SocketAddress.local(of: fd)?.port)
        return (fd, port)
    }

    @Test func ownershipIsByKeptSocketProtocolAddressAndListening() throws {
        let own = OwnLoopbackSockets()
        let (tcp, port) = try bound(Int32(SOCK_STREAM.rawValue), listening: true)
        let (idle, idlePort) = try bound(Int32(SOCK_STREAM.rawValue), listening: false)
        let (udp, udpPort) = try bound(Int32(SOCK_DGRAM.rawValue), listening: false)
        let here = SocketAddress(ipv4: 0x7f00_0001, port: port)
        #expect(!own.owns(.tcp, here), "nothing kept yet")
        #expect(own.keep(tcp) && own.keep(tcp) && own.keep(idle) && own.keep(udp))
        #expect(own.count == 3, "a socket is kept once")
        #expect(own.owns(.tcp, here))
        #expect(!own.owns(.udp, here), "another protocol")
        #expect(!own.owns(.tcp, SocketAddress(ipv4: 0x7f00_0002, port: port)), "127.0.0.2 is not 127.0.0.1")
        #expect(!own.owns(.tcp, SocketAddress(ipv4: 0x7f00_0001, port: idlePort)), "bound but not listening")
        #expect(own.owns(.udp, SocketAddress(ipv4: 0x7f00_0001, port: udpPort)), "UDP: bound is enough")
        close(tcp)
        #expect(own.owns(.tcp, here), "the kept duplicate outlives the agent's descriptor")
        #expect(own.release(.tcp, here), "only this process holds it now: let go")
        #expect(!own.owns(.tcp, here))
        close(idle); close(udp)
    }

    @Test func pickedPortsAreFreeAndExplicit() throws {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let port = withUnsafeBytes(of: &a) {
            OwnLoopbackSockets.pickPort(domain: AF_INET, type: Int32(SOCK_STREAM.rawValue), address: $0)
        }
        let p = try #require(port)
        #expect(p != 0)
        #expect(OwnLoopbackSockets.isWildcard(.ipv4(IPv4Network(address: 0, prefixLength: 32)), sameFamilyAs: .ipv4(IPv4Network(address: 0x7f00_0001, prefixLength: 32))))
        #expect(!OwnLoopbackSockets.isWildcard(.ipv4(IPv4Network(address: 0, prefixLength: 32)), sameFamilyAs: .ipv6(IPv6Network(bytes: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128))))
    }
}
