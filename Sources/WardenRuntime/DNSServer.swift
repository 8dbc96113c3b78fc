import WardenAudit
#if canImport(Glibc)
import Glibc
#endif

/// The resolver's loop on its own thread: datagrams on the UDP socket, connections on the
/// TCP listener (at most `maxConnections` at once, each bounded by DNSStreamConnection),
/// one query at a time (a lookup waits at most DNSUpstream's timeout). Each packet's
/// outcome is recorded in the audit trail.
struct DNSServer: Sendable {
    static let maxConnections = 16

    let udp: Int32
    /// -1 without a TCP listener.
    let tcp: Int32
    let stop: Int32
    let responder: DNSResponder
    let audit: AuditRun?

    func serve() {
        var connections: [DNSStreamConnection] = []
        defer { for c in connections { close(c.fd) } }
        var datagram = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds = [pollfd(fd: stop, events: Int16(POLLIN), revents: 0), pollfd(fd: udp, events: Int16(POLLIN), revents: 0)]
            if tcp >= 0 {
                fds.append(pollfd(fd: tcp, events: connections.count < Self.maxConnections ? Int16(POLLIN) : 0, revents: 0))
            }
            let first = fds.count
            for c in connections { fds.append(pollfd(fd: c.fd, events: c.events, revents: 0)) }
            let now = monotonicNow()
            let timeout = connections.map { max(($0.deadline - now) / 1_000_000 + 1, 0) }.min().map { Int32(min($0, 60_000)) } ?? -1
            let r = poll(&fds, nfds_t(fds.count), timeout)
            if r < 0 { if errno == EINTR { continue }; return }
            if fds[0].revents != 0 { return }
            if fds[1].revents & Int16(POLLIN) != 0 { answerDatagram(&datagram) }

            // The connections polled (fds[first...]); new ones are accepted after.
            let later = monotonicNow()
            var kept: [DNSStreamConnection] = []
            for i in connections.indices {
                var c = connections[i]
                let revents = fds[first + i].revents
                var open = later < c.deadline
                if open && revents != 0 {
                    open = c.service(revents, now: later) { answer($0, overTCP: true) }
                }
                if open { kept.append(c) } else { close(c.fd) }
            }
            connections = kept
            if tcp >= 0, fds[2].revents & Int16(POLLIN) != 0 { accept(into: &connections) }
        }
    }

    private func answerDatagram(_ buf: inout [UInt8]) {
        var from = sockaddr_storage()
        var fromLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buf, buf.count, Int32(MSG_DONTWAIT), $0, &fromLen) }
        }
        guard n >= 0 else { return }
        guard var reply = answer(Array(buf[0..<n]), overTCP: false) else { return }
        _ = withUnsafePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, &reply, reply.count, Int32(MSG_DONTWAIT), $0, fromLen) }
        }
    }

    private func accept(into connections: inout [DNSStreamConnection]) {
        while connections.count < Self.maxConnections {
            let c = Glibc.accept(tcp, nil, nil)
            guard c >= 0 else { return }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            connections.append(DNSStreamConnection(fd: c, now: monotonicNow()))
        }
    }

    private func answer(_ packet: [UInt8], overTCP: Bool) -> [UInt8]? {
        let (reply, record) = responder.answer(packet, overTCP: overTCP)
        try? audit?.network(denied: record.denied, destination: record.name, port: 53, proto: "dns",
                            domain: record.name == "-" ? nil : record.name, pid: 0, rule: record.rule)
        return reply
    }
}
