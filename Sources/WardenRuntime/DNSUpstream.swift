#if canImport(Glibc)
import Glibc
#endif

/// Asks the host's resolver a question with a query Warden builds: a fresh random id,
/// RD set, the parsed question, and an OPT record of Warden's own (UDP payload 1232, no
/// options) so that ordinary answers fit in one datagram. A truncated UDP answer is asked
/// again over TCP. The answer must carry the query's id, QR and the question echoed.
struct DNSUpstream: Sendable {
    let address: SocketAddress
    /// The whole exchange (UDP and a TCP retry) ends by then.
    var timeout: Int64 = 3_000_000_000

    enum Failure: Error, Equatable, CustomStringConvertible {
        case socket(Int32), timedOut, response(DNSResponseError)
        var description: String {
            switch self {
            case .socket(let e): return "upstream socket: errno \(e)"
            case .timedOut: return "upstream did not answer in time"
            case .response(let e): return "upstream: \(e)"
            }
        }
    }

    func resolve(_ question: DNSQuestion) -> Result<DNSResponse, Failure> {
        let deadline = monotonicNow() + timeout
        let query = DNSQuery(id: Self.randomID(), recursionDesired: true, question: question,
                             ednsPayloadSize: UInt16(DNSQuery.ednsSize))
        let udp = exchangeUDP(query, deadline: deadline)
        guard case .success(let response) = udp, response.truncated else { return udp }
        var overTCP = query
        overTCP.id = Self.randomID()
        return exchangeTCP(overTCP, deadline: deadline)
    }

    /// From the system's CSPRNG (getrandom), so an off-path sender cannot guess it.
    static func randomID() -> UInt16 { UInt16.random(in: .min ... .max) }

    func exchangeUDP(_ query: DNSQuery, deadline: Int64) -> Result<DNSResponse, Failure> {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return .failure(.socket(errno)) }
        defer { close(s) }
        let bytes = query.encoded()
        guard connectTo(s) == 0, send(s, bytes, bytes.count, 0) == bytes.count else { return .failure(.socket(errno)) }
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            guard Self.waitReadable(s, until: deadline) else { return .failure(.timedOut) }
            let got = recv(s, &buf, buf.count, 0)
            if got < 0 { if errno == EINTR { continue }; return .failure(.socket(errno)) }
            // Answers to other queries (late or forged) are skipped until the deadline.
            switch Result(catching: { () throws(DNSResponseError) in
                try DNSResponse.parse(Array(buf[0..<got]), id: query.id, question: query.question)
            }) {
            case .success(let response): return .success(response)
            case .failure(.wrongID), .failure(.wrongQuestion): continue
            case .failure(let e): return .failure(.response(e))
            }
        }
    }

    func exchangeTCP(_ query: DNSQuery, deadline: Int64) -> Result<DNSResponse, Failure> {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard s >= 0 else { return .failure(.socket(errno)) }
        defer { close(s) }
        if connectTo(s) != 0 {
            guard errno == EINPROGRESS else { return .failure(.socket(errno)) }
            var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
            guard Self.poll(&p, until: deadline) else { return .failure(.timedOut) }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len)
            guard err == 0 else { return .failure(.socket(err)) }
        }
        let body = query.encoded()
        let framed = [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        var sent = 0
        while sent < framed.count {
            let n = framed[sent...].withUnsafeBytes { send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                guard errno == EAGAIN || errno == EINTR else { return .failure(.socket(errno)) }
                var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
                guard Self.poll(&p, until: deadline) else { return .failure(.timedOut) }
                continue
            }
            sent += n
        }
        guard let prefix = readExactly(s, 2, deadline: deadline) else { return .failure(.timedOut) }
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard let message = readExactly(s, length, deadline: deadline) else { return .failure(.timedOut) }
        return Result { () throws(DNSResponseError) in try DNSResponse.parse(message, id: query.id, question: query.question) }
            .mapError { Failure.response($0) }
    }

    private func readExactly(_ s: Int32, _ count: Int, deadline: Int64) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(s, $0.baseAddress, $0.count, 0) }
            if n > 0 { got += n; continue }
            if n == 0 { return nil }
            guard errno == EAGAIN || errno == EINTR, Self.waitReadable(s, until: deadline) else { return nil }
        }
        return out
    }

    private func connectTo(_ s: Int32) -> Int32 {
        guard case .ipv4(let n) = address.host else { errno = EAFNOSUPPORT; return -1 }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = address.port.bigEndian
        sa.sin_addr.s_addr = n.address.bigEndian
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    static func waitReadable(_ s: Int32, until deadline: Int64) -> Bool {
        var p = pollfd(fd: s, events: Int16(POLLIN), revents: 0)
        return poll(&p, until: deadline)
    }

    /// Polls one descriptor until it is ready (true) or the deadline passes (false).
    static func poll(_ p: inout pollfd, until deadline: Int64) -> Bool {
        while true {
            let left = deadline - monotonicNow()
            guard left > 0 else { return false }
            p.revents = 0
            let r = Glibc.poll(&p, 1, Int32(min(left / 1_000_000 + 1, 60_000)))
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }
}
