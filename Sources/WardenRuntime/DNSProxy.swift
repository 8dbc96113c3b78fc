import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Warden's filtering resolver for one run: a UDP DNS server on a loopback address that the
/// agent's /etc/resolv.conf names. Queries for names the policy allows are forwarded to the
/// host's resolver and the A/AAAA answers remembered (those addresses become connectable for
/// the name's rules); every other query gets NXDOMAIN without leaving the machine, so DNS
/// cannot carry data to arbitrary names.
public final class DNSProxy: Sendable {
    /// Where the agent sends its queries.
    public let address: SocketAddress
    /// Where allowed queries go.
    public let upstream: SocketAddress
    private let fd: Int32
    private let stop: (read: Int32, write: Int32)
    private let thread: ThreadHandle

    public enum StartError: Error, CustomStringConvertible {
        case socket(Int32), bind(String, Int32), upstream(String), thread
        public var description: String {
            switch self {
            case .socket(let e): return "DNS resolver: cannot create its socket: \(errnoName(e))"
            case .bind(let a, let e): return "DNS resolver: cannot listen on \(a): \(errnoName(e)) (it needs CAP_NET_BIND_SERVICE for port 53)"
            case .upstream(let m): return "DNS resolver: \(m)"
            case .thread: return "DNS resolver: cannot start its thread"
            }
        }
    }

    /// Starts the resolver. `upstream` nil: `WARDEN_DNS_UPSTREAM` (`IP:PORT`, for tests), else
    /// the first nameserver of the host's /etc/resolv.conf.
    public init(effective: EffectivePolicy, names: ResolvedNames, audit: AuditRun?,
                upstream: SocketAddress? = nil) throws(StartError) {
        guard let up = upstream ?? Self.configuredUpstream() else {
            throw .upstream("no upstream nameserver (set one in /etc/resolv.conf)")
        }
        self.upstream = up
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(errno) }
        // A loopback address of its own per run (all of 127/8 is local), port 53.
        let pid = UInt32(getpid())
        var bound: SocketAddress?
        var lastError: Int32 = 0
        for attempt in UInt32(0)..<16 {
            let host: UInt32 = 0x7F35_0000 | (((pid &+ attempt) & 0xFFFF) | 1)
            let candidate = SocketAddress(ipv4: host, port: 53)
            if Self.bind(fd, candidate) == 0 { bound = candidate; break }
            lastError = errno
        }
        guard let address = bound else { close(fd); throw .bind("127.53.x.x:53", lastError) }
        self.address = address
        self.fd = fd
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else { close(fd); throw .thread }
        _ = fcntl(p[0], F_SETFD, FD_CLOEXEC); _ = fcntl(p[1], F_SETFD, FD_CLOEXEC)
        stop = (p[0], p[1])
        let server = Server(fd: fd, stop: p[0], upstream: up, effective: effective, names: names, audit: audit)
        guard let t = ThreadHandle({ server.serve() }) else { close(fd); close(p[0]); close(p[1]); throw .thread }
        thread = t
    }

    /// The resolv.conf the agent sees.
    public var resolvConf: String { "# Warden's filtering resolver for this run\nnameserver \(address.hostText)\noptions attempts:2 timeout:3\n" }

    /// Writes `resolvConf` into a fresh private directory; the mount that shows it to the
    /// agent as its /etc/resolv.conf, and the directory to remove after the run.
    public func resolvConfMount() -> (MountOperation, String)? {
        guard let target = AgentLaunchPlan.resolve("/etc/resolv.conf") else { return nil }
        guard let dir = RunDirectory.create(runID: "dns") else { return nil }
        _ = chmod(dir, 0o711)
        let file = dir + "/resolv.conf"
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { rmdir(dir); return nil }
        let bytes = Array(resolvConf.utf8)
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
        close(fd)
        guard ok else { unlink(file); rmdir(dir); return nil }
        return (.bindFile(source: file, target: target), dir)
    }

    /// Removes what `resolvConfMount` created.
    public static func removeResolvConf(_ dir: String) {
        RunDirectory.remove(dir)
    }

    /// Stops the server thread and closes its socket.
    public func shutdown() {
        var one: UInt8 = 1
        _ = write(stop.write, &one, 1)
        thread.join()
        close(fd); close(stop.read); close(stop.write)
    }

    static func configuredUpstream() -> SocketAddress? {
        if let raw = getenv("WARDEN_DNS_UPSTREAM") {
            let text = String(cString: raw)
            var a = in_addr()
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
                  inet_pton(AF_INET, String(text[..<colon]), &a) == 1 else { return nil }
            return SocketAddress(ipv4: UInt32(bigEndian: a.s_addr), port: port)
        }
        guard let conf = readSmallFile("/etc/resolv.conf", limit: 65536) else { return nil }
        for line in conf.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, parts[0] == "nameserver" else { continue }
            var a = in_addr()
            if inet_pton(AF_INET, String(parts[1]), &a) == 1 {
                return SocketAddress(ipv4: UInt32(bigEndian: a.s_addr), port: 53)
            }
        }
        return nil
    }

    static func bind(_ fd: Int32, _ a: SocketAddress) -> Int32 {
        guard case .ipv4(let n) = a.host else { return -1 }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = a.port.bigEndian
        sa.sin_addr.s_addr = n.address.bigEndian
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// The resolver's loop (one query at a time; each forwarded query waits at most 3 s).
private struct Server: Sendable {
    let fd: Int32
    let stop: Int32
    let upstream: SocketAddress
    let effective: EffectivePolicy
    let names: ResolvedNames
    let audit: AuditRun?

    func serve() {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let r = poll(&fds, 2, -1)
            if r < 0 { if errno == EINTR { continue }; return }
            if fds[1].revents != 0 { return }
            var from = sockaddr_storage()
            var fromLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buf, buf.count, 0, $0, &fromLen) }
            }
            guard n > 0, let query = DNSMessage.question(Array(buf[0..<n])) else { continue }
            let decision = effective.decideLookup(query.name)
            let rule = decision.rules.first.map { "\($0.location): \($0.rule)" }
            var reply: [UInt8]
            if decision.effect == .allow, let answer = forward(Array(buf[0..<n])) {
                reply = answer
                for host in DNSMessage.addresses(answer) { names.add(host, for: query.name) }
                try? audit?.network(denied: false, destination: query.name, port: 53, proto: "dns", domain: query.name, pid: 0, rule: rule)
            } else if decision.effect == .allow {
                continue // upstream silent: the client retries
            } else {
                reply = DNSMessage.nxdomain(query)
                try? audit?.network(denied: true, destination: query.name, port: 53, proto: "dns", domain: query.name, pid: 0, rule: rule)
            }
            _ = withUnsafePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, &reply, reply.count, 0, $0, fromLen) }
            }
        }
    }

    /// Sends `query` to the upstream resolver; its answer if it matches the query's id.
    func forward(_ query: [UInt8]) -> [UInt8]? {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return nil }
        defer { close(s) }
        guard case .ipv4(let n) = upstream.host else { return nil }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = upstream.port.bigEndian
        sa.sin_addr.s_addr = n.address.bigEndian
        let c = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard c == 0, send(s, query, query.count, 0) == query.count else { return nil }
        var p = pollfd(fd: s, events: Int16(POLLIN), revents: 0)
        var buf = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicNow() + 3_000_000_000
        while true {
            let left = Int32(max((deadline - monotonicNow()) / 1_000_000, 0))
            let r = poll(&p, 1, left)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return nil }
            let got = recv(s, &buf, buf.count, 0)
            guard got >= 12 else { return nil }
            if buf[0] == query[0] && buf[1] == query[1] { return Array(buf[0..<got]) }
        }
    }
}

/// The little of the DNS wire format the resolver needs (RFC 1035).
enum DNSMessage {
    struct Question { var name: String; var header: [UInt8]; var section: [UInt8] }

    /// The single question of a query, lower-cased; nil for anything else.
    static func question(_ m: [UInt8]) -> Question? {
        guard m.count >= 12, m[2] & 0x80 == 0, m[4] == 0, m[5] == 1 else { return nil }
        var i = 12
        var labels: [String] = []
        while true {
            guard i < m.count else { return nil }
            let len = Int(m[i])
            if len == 0 { i += 1; break }
            guard len < 64, i + 1 + len <= m.count else { return nil }
            labels.append(String(decoding: m[(i + 1)...(i + len)], as: UTF8.self).lowercased())
            i += 1 + len
        }
        guard i + 4 <= m.count else { return nil }
        return Question(name: labels.joined(separator: "."), header: Array(m[0..<12]), section: Array(m[12..<(i + 4)]))
    }

    /// NXDOMAIN for `q` (recursion available, the question echoed).
    static func nxdomain(_ q: Question) -> [UInt8] {
        var h = q.header
        h[2] = 0x80 | (h[2] & 0x79) // QR, opcode and RD kept, AA/TC cleared
        h[3] = 0x80 | 3             // RA, NXDOMAIN
        h[4] = 0; h[5] = 1
        for k in 6..<12 { h[k] = 0 }
        return h + q.section
    }

    /// The A and AAAA addresses in the answer section.
    static func addresses(_ m: [UInt8]) -> [EndpointHost] {
        guard m.count >= 12 else { return [] }
        let qd = Int(m[4]) << 8 | Int(m[5])
        let an = Int(m[6]) << 8 | Int(m[7])
        var i = 12
        func skipName() -> Bool {
            while i < m.count {
                let len = Int(m[i])
                if len == 0 { i += 1; return true }
                if len & 0xC0 == 0xC0 { i += 2; return i <= m.count }
                i += 1 + len
            }
            return false
        }
        for _ in 0..<qd { guard skipName(), i + 4 <= m.count else { return [] }; i += 4 }
        var out: [EndpointHost] = []
        for _ in 0..<an {
            guard skipName(), i + 10 <= m.count else { break }
            let type = Int(m[i]) << 8 | Int(m[i + 1])
            let rdlen = Int(m[i + 8]) << 8 | Int(m[i + 9])
            i += 10
            guard i + rdlen <= m.count else { break }
            if type == 1, rdlen == 4 {
                out.append(.ipv4(IPv4Network(address: m[i..<(i + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, prefixLength: 32)))
            } else if type == 28, rdlen == 16 {
                out.append(SocketAddress(ipv6: Array(m[i..<(i + 16)]), port: 0).host)
            }
            i += rdlen
        }
        return out
    }
}

/// A joinable thread that can be stored in a Sendable class.
final class ThreadHandle: @unchecked Sendable {
    private let handle: pthread_t
    private var joined = false

    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    init?(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var t = pthread_t()
        let r = pthread_create(&t, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        guard r == 0 else { Unmanaged<Box>.fromOpaque(box).release(); return nil }
        handle = t
    }

    /// Joins once (call from one thread).
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}
