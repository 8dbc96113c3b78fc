import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Where Warden's resolver listens, by protocol: the agent's resolver exemption is for
/// exactly these (UDP to its UDP socket, TCP to its own TCP listener when it has one).
public struct DNSResolverEndpoints: Sendable, Equatable {
    public var udp: SocketAddress
    /// Nil when the TCP listener could not be bound (e.g. a host service holds `*:53`):
    /// then TCP to the resolver's address is an ordinary destination, decided by the rules.
    public var tcp: SocketAddress?

    public init(udp: SocketAddress, tcp: SocketAddress?) {
        self.udp = udp
        self.tcp = tcp
    }

    /// Whether a connect or send to `address` over `proto` reaches Warden's resolver.
    public func serves(_ proto: NetProtocol, _ address: SocketAddress) -> Bool {
        switch proto {
        case .udp: return address == udp
        case .tcp: return tcp.map { address == $0 } ?? false
        }
    }
}

/// Warden's filtering resolver for one run: a DNS server on a loopback address of its own
/// (UDP, and TCP for answers too large for a datagram) that the agent's /etc/resolv.conf
/// names. It answers, never forwards: each query is parsed strictly and only a standard
/// query for a hostname the policy allows is looked up, with a query Warden builds, at the
/// host's resolver; the answer the agent gets is built from the parsed answer records, and
/// their A/AAAA addresses become connectable for the name's rules. Every other query is
/// answered (NXDOMAIN, REFUSED, FORMERR or NOTIMP) without leaving the machine and recorded
/// as a refusal, so DNS cannot carry data to arbitrary names.
public final class DNSProxy: Sendable {
    /// Where the agent sends its queries.
    public var address: SocketAddress { endpoints.udp }
    /// The resolver's sockets, by protocol.
    public let endpoints: DNSResolverEndpoints
    /// Where allowed queries go.
    public let upstream: SocketAddress
    private let udp: Int32
    private let tcp: Int32
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
    /// `learn`: observing mode, where names no rule allows are answered from upstream too.
    public init(effective: EffectivePolicy, names: ResolvedNames, audit: AuditRun?,
                upstream: SocketAddress? = nil, learn: LearnedLookups? = nil) throws(StartError) {
        guard let up = upstream ?? Self.configuredUpstream() else {
            throw .upstream("no upstream nameserver (set one in /etc/resolv.conf)")
        }
        self.upstream = up
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard udp >= 0 else { throw .socket(errno) }
        // A loopback address of its own per run (all of 127/8 is local), port 53.
        let pid = UInt32(getpid())
        var bound: SocketAddress?
        var lastError: Int32 = 0
        for attempt in UInt32(0)..<16 {
            let host: UInt32 = 0x7F35_0000 | (((pid &+ attempt) & 0xFFFF) | 1)
            let candidate = SocketAddress(ipv4: host, port: 53)
            if Self.bind(udp, candidate) == 0 { bound = candidate; break }
            lastError = errno
        }
        guard let address = bound else { close(udp); throw .bind("127.53.x.x:53", lastError) }
        // TCP on the same address, without SO_REUSEADDR or SO_REUSEPORT: the bind succeeds
        // only if no other socket (such as a host service on *:53) can receive connections
        // to this address and port, and none can bind it while Warden holds it.
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var listening = false
        if tcp >= 0, Self.bind(tcp, address) == 0, listen(tcp, 16) == 0 { listening = true }
        if !listening, tcp >= 0 { close(tcp) }
        let tcpFD = listening ? tcp : -1
        self.tcp = tcpFD
        self.udp = udp
        endpoints = DNSResolverEndpoints(udp: address, tcp: listening ? address : nil)
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else { close(udp); if listening { close(tcp) }; throw .thread }
        _ = fcntl(p[0], F_SETFD, FD_CLOEXEC); _ = fcntl(p[1], F_SETFD, FD_CLOEXEC)
        stop = (p[0], p[1])
        var responder = DNSResponder(decide: { effective.decideLookup($0) },
                                     resolve: { [up] in DNSUpstream(address: up).resolve($0) },
                                     names: names)
        responder.learn = learn
        responder.allowsHostLocalAnswers = getenv("WARDEN_DNS_ALLOW_LOCAL_ANSWERS").map { String(cString: $0) == "1" } ?? false
        let server = DNSServer(udp: udp, tcp: tcpFD, stop: p[0], responder: responder, audit: audit)
        guard let t = ThreadHandle({ server.serve() }) else {
            close(udp); if listening { close(tcp) }; close(p[0]); close(p[1]); throw .thread
        }
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
        close(udp); if tcp >= 0 { close(tcp) }; close(stop.read); close(stop.write)
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
