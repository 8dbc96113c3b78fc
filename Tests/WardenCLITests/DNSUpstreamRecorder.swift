import Foundation
import Testing

/// A fake upstream resolver on a loopback address, UDP and TCP on the same port, that keeps
/// every packet it receives (to check from outside the sandbox what reached it) and answers
/// A queries from a table. An answer too large for `udpLimit` goes out over UDP with TC set
/// and no records, so the asker must come back over TCP.
final class DNSUpstreamRecorder: @unchecked Sendable {
    let host: String
    let port: UInt16
    let records: [String: [[UInt8]]]
    let udpLimit: Int
    private let udp: Int32
    private let tcp: Int32
    private let lock = NSLock()
    private var packets: [(tcp: Bool, bytes: [UInt8])] = []

    init(_ host: String, records: [String: [[UInt8]]], udpLimit: Int = 1232) throws {
        self.host = host
        self.records = records
        self.udpLimit = udpLimit
        udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(udp >= 0 && tcp >= 0)
        port = try LoopbackServer.bind(udp, host, 0, false)
        _ = try LoopbackServer.bind(tcp, host, port, false)
        try #require(listen(tcp, 16) == 0)
        Thread { [self] in self.serveUDP() }.start()
        Thread { [self] in self.serveTCP() }.start()
    }

    /// Every packet received, in order, and whether it came over TCP.
    var received: [(tcp: Bool, bytes: [UInt8])] { lock.lock(); defer { lock.unlock() }; return packets }

    /// The question names of the received packets, as dotted text (labels joined; a label
    /// holding a dot would show as more labels, so `labels` is checked separately).
    static func labels(_ m: [UInt8]) -> [[UInt8]]? {
        guard m.count > 12 else { return nil }
        var i = 12
        var out: [[UInt8]] = []
        while i < m.count, m[i] != 0 {
            let n = Int(m[i])
            guard n < 64, i + 1 + n <= m.count else { return nil }
            out.append(Array(m[(i + 1)..<(i + 1 + n)]))
            i += 1 + n
        }
        return out
    }

    func stop() { shutdown(tcp, Int32(SHUT_RDWR)); close(tcp); shutdown(udp, Int32(SHUT_RDWR)); close(udp) }

    private func answer(_ m: [UInt8], overTCP: Bool) -> [UInt8]? {
        lock.lock(); packets.append((overTCP, m)); lock.unlock()
        guard let labels = Self.labels(m) else { return nil }
        var i = 12 + labels.reduce(1) { $0 + 1 + $1.count }
        guard i + 4 <= m.count else { return nil }
        let qtype = Int(m[i]) << 8 | Int(m[i + 1])
        i += 4
        let name = labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".").lowercased()
        var reply = Array(m[0..<i])
        reply[2] = 0x84 | (m[2] & 0x01)
        reply[3] = 0x80
        for k in 6..<12 { reply[k] = 0 }
        guard let addresses = records[name] else { reply[3] = 0x83; return reply }
        guard qtype == 1 else { return reply }
        var answers: [UInt8] = []
        for a in addresses { answers += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4] + a }
        if !overTCP && reply.count + answers.count > udpLimit { reply[2] |= 0x02; return reply }
        reply[6] = UInt8(addresses.count >> 8); reply[7] = UInt8(addresses.count & 0xFF)
        return reply + answers
    }

    private func serveUDP() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            var from = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buf, buf.count, 0, $0, &len) } }
            if n < 0 { if errno == EINTR { continue }; return }
            guard let reply = answer(Array(buf[0..<n]), overTCP: false) else { continue }
            _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, reply, reply.count, 0, $0, len) } }
        }
    }

    private func serveTCP() {
        while true {
            let c = accept(tcp, nil, nil)
            if c < 0 { if errno == EINTR || errno == ECONNABORTED { continue }; return }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            while let prefix = readExactly(c, 2), let m = readExactly(c, Int(prefix[0]) << 8 | Int(prefix[1])),
                  let reply = answer(m, overTCP: true) {
                let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
                _ = framed.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(c)
        }
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return nil }
            got += n
        }
        return out
    }
}

/// A TCP listener on `*:53` standing in for a host DNS service (dnsmasq, a container
/// runtime's resolver); nil when the port is taken. Counts accepted connections.
final class WildcardPort53: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var accepted = 0

    init?() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(53).bigEndian
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0, listen(fd, 16) == 0 else { close(fd); return nil }
        Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR || errno == ECONNABORTED { continue }; return }
                lock.lock(); accepted += 1; lock.unlock()
                close(c)
            }
        }.start()
    }

    var acceptCount: Int { lock.lock(); defer { lock.unlock() }; return accepted }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
