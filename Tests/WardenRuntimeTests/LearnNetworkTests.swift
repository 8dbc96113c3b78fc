import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Observing mode's network half, end to end: a name no rule allows is answered (from a
/// fake upstream) and recorded as `learn.dns`; the connect to its address stays refused,
/// checked at the host's listener, and its `deny.net` record names it.
@Suite(.serialized) struct LearnNetworkTests {
    /// A UDP DNS server on loopback that answers every A query with 127.0.0.1 and every
    /// other type with no records; counts the names asked.
    final class FakeDNS: @unchecked Sendable {
        let fd: Int32
        let port: UInt16
        private let lock = NSLock()
        private var asked: [String] = []

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            self.fd = fd
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            port = UInt16(bigEndian: a.sin_port)
            Thread.detachNewThread { [self] in serve() }
        }

        var names: [String] { lock.lock(); defer { lock.unlock() }; return asked }

        private func serve() {
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                var from = sockaddr_storage()
                var fromLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buf, buf.count, 0, $0, &fromLen) }
                }
                if n <= 0 { return }
                let q = Array(buf[0..<n])
                // The question: labels from offset 12, then type and class.
                var i = 12
                var labels: [String] = []
                while i < q.count, q[i] != 0 { let l = Int(q[i]); labels.append(String(decoding: q[(i + 1)..<min(i + 1 + l, q.count)], as: UTF8.self)); i += 1 + l }
                let end = i + 5
                guard end <= q.count else { continue }
                let type = UInt16(q[i + 1]) << 8 | UInt16(q[i + 2])
                lock.lock(); asked.append(labels.joined(separator: ".")); lock.unlock()
                let answers: [UInt8] = type == 1 ? [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1] : []
                let reply = [q[0], q[1], 0x81, 0x80, 0, 1, 0, type == 1 ? 1 : 0, 0, 0, 0, 0] + q[12..<end] + answers
                _ = withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, fromLen) }
                }
            }
        }

        func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    /// A TCP listener on 127.0.0.1 that counts the connections it accepts.
    static func listener() -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    @Test func anUnlistedNameIsAnsweredAndRecordedAndItsConnectStaysRefused() throws {
        let dns = try FakeDNS()
        defer { dns.stop() }
        setenv("WARDEN_DNS_UPSTREAM", "127.0.0.1:\(dns.port)", 1)
        defer { unsetenv("WARDEN_DNS_UPSTREAM") }
        let (listenFd, port) = Self.listener()
        defer { close(listenFd) }
        let w = try LearnModeTests.World()
        defer { w.remove() }
        // A network rule, so the network is mediated; nothing allows learned.example.
        let (summary, records) = try w.run(["connect", "learned.example", "\(port)"],
                                           rules: LearnModeTests.readOnlyWorkspace + "\n  allow net connect tcp \"192.0.2.1:443\"")
        #expect(summary.exitCode == 0)
        #expect(dns.names.contains("learned.example"), "resolved upstream: \(dns.names)")
        let lookups = LearnModeTests.fields(records, "learn.dns").filter { $0["name"] as? String == "learned.example" }
        #expect(lookups.contains { $0["qtype"] as? String == "A" }, "\(lookups)")
        let refused = LearnModeTests.fields(records, "deny.net").filter { ($0["port"] as? Int) == Int(port) }
        #expect(refused.count == 1, "\(LearnModeTests.fields(records, "deny.net"))")
        #expect(refused.first?["domain"] as? String == "learned.example")
        // Nothing reached the host's listener.
        let accepted = accept(listenFd, nil, nil)
        #expect(accepted < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "the connect was refused before the host listener")
        if accepted >= 0 { close(accepted) }
    }
}
