import Testing
import WardenPolicy
@testable import WardenRuntime

@Suite("network mediation: addresses and DNS messages")
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

    static func query(_ name: String, type: UInt8 = 1) -> [UInt8] {
        var m: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { m.append(UInt8(label.utf8.count)); m += Array(label.utf8) }
        return m + [0, 0, type, 0, 1]
    }

    @Test func questionsAreParsedAndRefusedWithNXDOMAIN() throws {
        let q = try #require(DNSMessage.question(Self.query("Api.Example.ORG")))
        #expect(q.name == "api.example.org")
        let reply = DNSMessage.nxdomain(q)
        #expect(reply[0] == 0x12 && reply[1] == 0x34)
        #expect(reply[2] & 0x80 != 0)          // a response
        #expect(reply[2] & 0x01 != 0)          // RD echoed
        #expect(reply[3] & 0x0f == 3)          // NXDOMAIN
        #expect(Array(reply[12...]) == Array(Self.query("Api.Example.ORG")[12...]))
        // Not queries: responses, several questions, truncated names.
        var response = Self.query("a.b"); response[2] |= 0x80
        #expect(DNSMessage.question(response) == nil)
        var two = Self.query("a.b"); two[5] = 2
        #expect(DNSMessage.question(two) == nil)
        #expect(DNSMessage.question(Array(Self.query("a.b").dropLast(3))) == nil)
        #expect(DNSMessage.question([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63]) == nil)
    }

    @Test func answersYieldTheirAddresses() {
        var m = Self.query("a.example")
        m[2] = 0x81; m[3] = 0x80; m[7] = 3
        m += [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 98, 0xC0, 12]              // CNAME (skipped)
        m += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 3]                  // A
        m += [0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + [UInt8](repeating: 0, count: 15) + [1] // AAAA ::1
        let hosts = DNSMessage.addresses(m)
        #expect(hosts.count == 2)
        #expect(hosts.first == .ipv4(IPv4Network(address: 0x7F00_0003, prefixLength: 32)))
        #expect(hosts.last.map { "\($0)" } == "[::1]")
        // Truncated answers give what was complete, never a crash.
        for cut in stride(from: m.count - 1, to: 12, by: -3) { _ = DNSMessage.addresses(Array(m[0..<cut])) }
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
