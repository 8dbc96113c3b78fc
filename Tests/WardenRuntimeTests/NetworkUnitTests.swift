import Testing
import WardenPolicy
@testable import WardenRuntime

@Suite("network mediation: addresses")
struct NetworkUnitTests {
    @Test func ipv4MappedIPv6IsTheIPv4Address() {
        let mapped = SocketAddress(ipv6: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 9], port: 80)
        #expect(mapped == SocketAddress(ipv4: 0x7F00_0009, port: 80))
        #expect(mapped.hostText == "127.0.0.9")
        let loopback = SocketAddress(ipv6: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], port: 80)
        #expect(loopback.hostText == "::1")
        // Not mapped: the ::ffff:0:0/96 prefix only.
        let compat = SocketAddress(ipv6: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 9], port: 80)
        if case .ipv6 = compat.host {} else { Issue.record("IPv4-compatible address became IPv4") }
    }

    @Test func resolvedNamesRememberWhichNameGaveAnAddress() {
        let names = ResolvedNames()
        let host = EndpointHost.ipv4(IPv4Network(address: 0x0A00_0001, prefixLength: 32))
        names.add(host, for: "b.example")
        names.add(host, for: "a.example")
        #expect(names.names(for: host) == ["a.example", "b.example"])
        #expect(names.names(for: .ipv4(IPv4Network(address: 0x0A00_0002, prefixLength: 32))).isEmpty)
    }
}

@Suite("network mediation: hosts file")
struct HostsFileTests {
    @Test func allowedNamesFromTheHostsFileAreRemembered() {
        let names = ResolvedNames()
        names.addHostsFile("""
        127.0.0.1\tlocalhost  # loopback
        ::1 localhost ip6-localhost
        10.1.2.3 Build.Example.  other.example
        # 10.9.9.9 commented.example
        not-an-ip broken.example
        """) { $0 == "localhost" || $0 == "build.example" || $0 == "commented.example" }
        #expect(names.names(for: .ipv4(IPv4Network(address: 0x7F00_0001, prefixLength: 32))) == ["localhost"])
        #expect(names.names(for: SocketAddress(ipv6: [UInt8](repeating: 0, count: 15) + [1], port: 0).host) == ["localhost"])
        #expect(names.names(for: .ipv4(IPv4Network(address: 0x0A01_0203, prefixLength: 32))) == ["build.example"])
        #expect(names.names(for: .ipv4(IPv4Network(address: 0x0A09_0909, prefixLength: 32))).isEmpty)
    }
}
