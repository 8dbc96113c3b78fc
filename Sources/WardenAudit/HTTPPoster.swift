#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client for one kind of request: `POST` a JSON body to an `http://`
/// endpoint (an OpenTelemetry collector on this host or the local network) and read the
/// status line. One connection per request (`Connection: close`), bounded in time (connect,
/// send and the answer) and in what it reads back. No TLS: a collector across an untrusted
/// network belongs behind a local collector or proxy.
public struct HTTPPoster: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let host: String
    public let port: UInt16
    public let path: String
    public var timeoutSeconds: Int = 10

    /// Parses `http://HOST[:PORT]/PATH` (IPv4 literal, `localhost` or a name; default port 80).
    public init(endpoint: String) throws(Failure) {
        guard endpoint.hasPrefix("http://") else {
            throw Failure(description: "the endpoint must be http://HOST:PORT/PATH (no TLS here: send to a local collector)")
        }
        let rest = endpoint.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard !authority.isEmpty, parts.count <= 2, !parts[0].isEmpty,
              parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }),
              path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Failure(description: "the endpoint must be http://HOST:PORT/PATH")
        }
        host = String(parts[0])
        if parts.count == 2 {
            guard let p = UInt16(parts[1]), p > 0 else { throw Failure(description: "the endpoint's port is not 1-65535") }
            port = p
        } else {
            port = 80
        }
    }

    /// POSTs `body`; throws unless the answer is 2xx.
    public func post(_ body: [UInt8], contentType: String = "application/json") throws(Failure) {
        let fd = try connectSocket()
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try sendAll(fd, Array(head.utf8) + body)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < 4096, !answer.contains(0x0A) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        let line = String(decoding: answer.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let fields = line.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let status = Int(fields[1]) else {
            throw Failure(description: "\(host):\(port) gave no HTTP answer")
        }
        guard (200..<300).contains(status) else {
            throw Failure(description: "\(host):\(port)\(path) answered \(status)")
        }
    }

    private func connectSocket() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let a = entry {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                lastError = errno
                close(fd)
            }
            entry = a.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "sending to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }
}
