#if canImport(Glibc)
import Glibc
#endif

/// One client connection to the resolver's TCP listener (RFC 7766): messages framed by a
/// 2-byte length, answered one at a time in order. Bounded: at most `maxQueries` queries,
/// idle at most `idleTimeout`, input at most one message plus one read, one answer queued.
/// A length prefix the bytes do not fill before the peer closes or the connection idles
/// out gets no answer; a message of fewer than 12 bytes closes the connection.
struct DNSStreamConnection {
    static let maxQueries = 32
    static let idleTimeout: Int64 = 10_000_000_000
    static let lifetime: Int64 = 60_000_000_000

    let fd: Int32
    /// When the connection is closed unless it is active: idle timeout, capped by lifetime.
    private(set) var deadline: Int64
    private let expires: Int64
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var answered = 0
    private var peerClosed = false

    init(fd: Int32, now: Int64) {
        self.fd = fd
        expires = now + Self.lifetime
        deadline = now + Self.idleTimeout
    }

    /// Poll events to wait for: a queued answer first, then more input.
    var events: Int16 { Int16(output.isEmpty ? POLLIN : POLLOUT) }

    /// Handles `revents`; false when the connection is done and must be closed.
    mutating func service(_ revents: Int16, now: Int64, answer: ([UInt8]) -> [UInt8]?) -> Bool {
        if revents & Int16(POLLOUT) != 0 || !output.isEmpty {
            guard flush() else { return false }
        }
        if output.isEmpty, revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if n > 0 { input += chunk[0..<n]; deadline = min(now + Self.idleTimeout, expires) }
            else if n == 0 { peerClosed = true }
            else if errno != EAGAIN && errno != EINTR { return false }
        }
        while output.isEmpty, answered < Self.maxQueries, let message = nextMessage() {
            guard message.count >= DNSMessage.headerSize else { return false }
            answered += 1
            if let reply = answer(message) {
                output = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
                guard flush() else { return false }
            }
        }
        if !output.isEmpty { return true }
        return !peerClosed && answered < Self.maxQueries
    }

    /// Takes one complete framed message off the input.
    private mutating func nextMessage() -> [UInt8]? {
        guard input.count >= 2 else { return nil }
        let length = Int(input[0]) << 8 | Int(input[1])
        guard input.count >= 2 + length else { return nil }
        let message = Array(input[2..<(2 + length)])
        input.removeFirst(2 + length)
        return message
    }

    /// Writes what it can of the queued answer; false on a broken connection.
    private mutating func flush() -> Bool {
        while !output.isEmpty {
            let n = output.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n > 0 { output.removeFirst(n); continue }
            return n < 0 && (errno == EAGAIN || errno == EINTR)
        }
        return true
    }
}
