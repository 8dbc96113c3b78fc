import CLauncher
import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Decides and performs the agent's mediated socket calls (connect, bind, listen, and sends
/// with an address) for an identity with network rules.
///
/// Each call is fetched once (`warden_net_fetch`: a duplicate of the socket from
/// pidfd_getfd and a copy of every pointer argument, then a check that the notification is
/// still pending), decided on the copy, and performed by the supervisor on the duplicate
/// with the copy. The agent's syscall returns that result. Nothing is ever answered with
/// CONTINUE, so neither a racing thread rewriting the address nor one swapping the file
/// descriptor can change what the kernel does after the decision.
public final class NetworkMediator: Sendable {
    /// Mediated call kinds, by syscall name.
    public enum Kind: Int32, Sendable {
        case connect = 1, bind, listen, sendto, sendmsg, sendmmsg

        public init?(syscall name: String) {
            switch name {
            case "connect": self = .connect
            case "bind": self = .bind
            case "listen": self = .listen
            case "sendto": self = .sendto
            case "sendmsg": self = .sendmsg
            case "sendmmsg": self = .sendmmsg
            default: return nil
            }
        }

        /// The operation's name in audit records (field `operation`).
        public var operation: String {
            switch self {
            case .connect: return "connect"
            case .bind: return "bind"
            case .listen: return "listen"
            case .sendto: return "sendto"
            case .sendmsg: return "sendmsg"
            case .sendmmsg: return "sendmmsg"
            }
        }
    }

    /// The errno of a refused connection or send.
    public static let refusedErrno: Int32 = ECONNREFUSED
    /// The errno of a refused bind, listen or unix abstract address.
    public static let bindRefusedErrno: Int32 = EACCES

    let effective: EffectivePolicy
    let audit: AuditRun?
    let names: ResolvedNames
    let dns: DNSResolverEndpoints?
    /// The run's credential broker, when HTTP rules govern some destinations.
    let broker: BrokerRedirect?
    /// Observing mode: addresses of names no rule allows, looked up in this run (they name
    /// refused connects in `deny.net`; they never allow one).
    let learnedNames: ResolvedNames?
    /// The agent's own loopback sockets (see `OwnLoopback`), kept until the run ends.
    let own = OwnLoopbackSockets()

    /// - Parameters:
    ///   - names: addresses learned from allowed DNS answers (connectable for their domain).
    ///   - dns: where Warden's filtering resolver listens, by protocol (always reachable), if one runs.
    ///   - broker: where connects that HTTP rules govern go instead of their destination.
    public init(effective: EffectivePolicy, audit: AuditRun?, names: ResolvedNames = ResolvedNames(),
                dns: DNSResolverEndpoints? = nil, broker: BrokerRedirect? = nil, learnedNames: ResolvedNames? = nil) {
        self.learnedNames = learnedNames
        self.effective = effective
        self.audit = audit
        self.names = names
        self.dns = dns
        self.broker = broker
    }

    /// Handles a mediated call. Returns nil when it is answered later from a worker thread
    /// (a blocking connect or send).
    public func handle(_ n: SeccompNotification, kind: Kind, listener: NotificationListener) -> NotificationResponse? {
        let request = UnsafeMutablePointer<warden_net_request>.allocate(capacity: 1)
        var args = (n.arguments + [0, 0, 0, 0, 0, 0]).prefix(6).map { $0 }
        let rc = args.withUnsafeMutableBufferPointer { buf in
            warden_net_fetch(listener.fd, n.id, pid_t(bitPattern: n.pid), kind.rawValue, buf.baseAddress, request)
        }
        func finish() { warden_net_release(request); request.deallocate() }
        if rc < 0 { finish(); return .fail(errno: -rc) }

        // Destinations HTTP rules govern are reached through the broker only: a connect is
        // redirected to it, a send with such an address (TCP Fast Open) is refused.
        let brokered = kind == .bind || kind == .listen ? nil : brokeredTarget(request)
        if let brokered, let broker {
            guard kind == .connect else { finish(); return .fail(errno: EOPNOTSUPP) }
            redirectToBroker(request, broker)
            recordBrokered(brokered, pid: Int32(bitPattern: n.pid))
        } else if let refusal = decide(request, kind: kind, pid: Int32(bitPattern: n.pid)) {
            finish()
            return .fail(errno: refusal)
        }
        if request.pointee.domain == AF_UNIX, case .relay(let path) = decideUnix(request, kind: kind) {
            let refusal = relayUnix(request, kind: kind, path: path, id: n.id, listener: listener, pid: Int32(bitPattern: n.pid))
            finish()
            return refusal.map { .fail(errno: $0) } ?? .returnValue(0)
        }
        if request.pointee.domain == AF_INET || request.pointee.domain == AF_INET6 {
            if kind == .bind, case .address(let a) = SocketAddress.parse(request), OwnLoopback.isLoopback(a.host) {
                let result = bindOwn(request, address: a, pid: Int32(bitPattern: n.pid))
                finish()
                return result < 0 ? .fail(errno: Int32(-result)) : .returnValue(Int64(result))
            }
            if let refusal = bindBeforeOwnSend(request, kind: kind, pid: Int32(bitPattern: n.pid)) {
                finish()
                return .fail(errno: refusal)
            }
        }
        let mayBlock = request.pointee.nonblocking == 0 && kind != .bind && kind != .listen
        if mayBlock, let answer = listener.retained() {
            let box = RequestBox(request)
            let id = n.id
            if WorkerPool.shared.submit({ [self] in
                let result = warden_net_perform(box.pointer)
                if let brokered { registerBrokered(box.pointer.pointee.fd, result: result, target: brokered) }
                answer.respond(id, result < 0 ? .fail(errno: Int32(-result)) : .returnValue(Int64(result)))
                answer.close()
                warden_net_release(box.pointer)
                box.pointer.deallocate()
            }) {
                return nil
            }
            // Too many calls already block in the supervisor: answer as a full backlog would.
            answer.close()
            finish()
            return .fail(errno: EAGAIN)
        }
        let result = warden_net_perform(request)
        if let brokered { registerBrokered(request.pointee.fd, result: result, target: brokered) }
        if kind == .listen, result == 0, let local = SocketAddress.local(of: request.pointee.fd), OwnLoopback.isLoopback(local.host) {
            OwnLoopbackSockets.disableAddressReuse(request.pointee.fd)
        }
        if kind == .bind, result == 0, request.pointee.domain != AF_UNIX, case .address(let asked) = SocketAddress.parse(request),
           asked.port != 0, OwnLoopbackSockets.isWildcard(asked.host, sameFamilyAs: asked.host) {
            // A wildcard bind a rule allowed listens on loopback too: the agent's own there.
            _ = own.keep(request.pointee.fd)
        }
        finish()
        return result < 0 ? .fail(errno: Int32(-result)) : .returnValue(Int64(result))
    }

    /// Decides a fetched call; nil to perform it, else the errno to answer. May rewrite the
    /// destination (DNS redirection). Records allowed and refused inet destinations.
    func decide(_ r: UnsafeMutablePointer<warden_net_request>, kind: Kind, pid: Int32) -> Int32? {
        let domain = r.pointee.domain
        switch domain {
        case AF_UNIX:
            switch decideUnix(r, kind: kind) {
            case .perform, .relay: return nil
            case .refuse(let e, let what):
                if let what { recordUnix(path: what.path, pid: pid, reason: what.reason, kind: kind) }
                return e
            }
        case AF_INET, AF_INET6:
            break
        default:
            return Self.bindRefusedErrno
        }
        let sockType = r.pointee.type & 0xf
        let proto: NetProtocol
        switch Int(sockType) {
        case Int(SOCK_STREAM.rawValue): proto = .tcp
        case Int(SOCK_DGRAM.rawValue) where r.pointee.protocol == 0 || r.pointee.protocol == Int32(IPPROTO_UDP): proto = .udp
        default: return Self.bindRefusedErrno // ping, SCTP, ... are not mediated: refused
        }

        if kind == .listen {
            // Decided on the address the socket is bound to now: an unbound socket would be
            // bound by listen to an ephemeral port on every address, and a socket bound to
            // port 0 has an ephemeral port no bind rule was asked about.
            guard let local = SocketAddress.local(of: r.pointee.fd), local.port != 0 else {
                let any = SocketAddress(host: domain == AF_INET6 ? .ipv6(IPv6Network(bytes: [UInt8](repeating: 0, count: 16), prefixLength: 128))
                                                                  : .ipv4(IPv4Network(address: 0, prefixLength: 32)), port: 0)
                refuse(any, proto, kind: kind, pid: pid, decidedBy: "built-in",
                       rule: "built-in: listen on an unbound socket would listen on an ephemeral port of every address: bind a loopback address (or one a bind rule allows) first")
                return Self.bindRefusedErrno
            }
            let decision = effective.decideNetMediated(.bind, proto, local.endpoint)
            guard decision.effect == .allow else {
                record(decision, local, proto, domain: nil, pid: pid, kind: kind)
                return Self.bindRefusedErrno
            }
            if OwnLoopback.isLoopback(local.host) {
                if let refusal = ownSocketRefusal(r.pointee.fd, proto, decision, local, kind: kind, pid: pid) { return refusal }
            }
            return nil
        }
        guard r.pointee.has_addr != 0 else { return nil } // sends on a connected socket
        let address: SocketAddress
        switch SocketAddress.parse(r) {
        case .unspecified: return kind == .connect ? nil : EAFNOSUPPORT // AF_UNSPEC: dissolve
        case .invalid(let e): return e
        case .address(let a): address = a
        }

        if kind == .bind {
            // Port 0 picks an ephemeral port, as sending from an unbound socket does anyway;
            // listening on it is decided at listen. A loopback address is the agent's own
            // (decided again, and performed, by `bindOwn`).
            if address.port == 0 || OwnLoopback.isLoopback(address.host) { return nil }
            let decision = effective.decideNetMediated(.bind, proto, address.endpoint)
            record(decision, address, proto, domain: nil, pid: pid, kind: kind)
            return decision.effect == .allow ? nil : Self.bindRefusedErrno
        }

        if let dns, dns.serves(proto, address) {
            return nil // Warden's own resolver (by protocol), which only answers for allowed names
        }
        let (decision, name) = decideConnect(proto, address)
        if decision.condition == OwnLoopback.connectCondition {
            // A loopback destination no rule decides: the agent's own sockets only.
            let owned = own.owns(proto, address)
            let rule = owned ? "\(OwnLoopback.connectRule.location): \(OwnLoopback.connectRule.rule)"
                : "no rule allows connect \(proto.rawValue) \(address.endpoint), and no socket of the agent \(proto == .tcp ? "listens" : "is bound") there (own loopback: host loopback services are refused)"
            try? audit?.network(denied: !owned, destination: address.hostText, port: Int32(address.port), proto: proto.rawValue,
                                domain: owned ? nil : learnedName(address), pid: pid, rule: rule,
                                detail: NetworkDetail(operation: kind.operation, decidedBy: "own-loopback",
                                                      explain: Self.explainArguments(kind, proto, address.endpoint)))
            return owned ? nil : Self.refusedErrno
        }
        record(decision, address, proto, domain: name ?? (decision.effect == .allow ? nil : learnedName(address)), pid: pid, kind: kind)
        return decision.effect == .allow ? nil : Self.refusedErrno
    }

    /// Observing mode: the name a refused destination was looked up by, if any.
    func learnedName(_ address: SocketAddress) -> String? { learnedNames?.names(for: address.host).first }

    /// TCP or UDP for a fetched inet request; nil for anything else.
    static func inetProtocol(_ r: UnsafeMutablePointer<warden_net_request>) -> NetProtocol? {
        switch Int(r.pointee.type & 0xf) {
        case Int(SOCK_STREAM.rawValue): return .tcp
        case Int(SOCK_DGRAM.rawValue) where r.pointee.protocol == 0 || r.pointee.protocol == Int32(IPPROTO_UDP): return .udp
        default: return nil
        }
    }

    /// The `warden explain` arguments that reproduce a decision on `endpoint`.
    static func explainArguments(_ kind: Kind, _ proto: NetProtocol, _ endpoint: Endpoint) -> [String] {
        [kind == .bind || kind == .listen ? "--bind" : "--connect", proto.rawValue, endpoint.description]
    }

    /// The decision for an inet destination: by address, else by a domain that resolved to
    /// it in this run. An explicit deny of the address wins over any domain.
    public func decideConnect(_ proto: NetProtocol, _ address: SocketAddress) -> (Decision, String?) {
        let direct = effective.decideNetMediated(.connect, proto, address.endpoint)
        if direct.effect == .allow || (!direct.rules.isEmpty && direct.condition == nil) { return (direct, nil) }
        for name in names.names(for: address.host) {
            let byName = effective.decideNet(.connect, proto, Endpoint(host: .domain(name), ports: PortRange(lower: address.port, upper: address.port)))
            if byName.effect == .allow { return (byName, name) }
        }
        return (direct, nil)
    }

    /// Unix sockets: abstract addresses are refused (the agent shares the host's abstract
    /// namespace, which holds host services); a pathname connect or bind is performed by the
    /// in-sandbox helper (`relayUnix`), never by the supervisor; a send to a pathname
    /// address (unconnected datagram) is refused: connect first.
    func decideUnix(_ r: UnsafeMutablePointer<warden_net_request>, kind: Kind) -> UnixDecision {
        guard r.pointee.has_addr != 0, kind != .listen else { return .perform }
        let len = Int(r.pointee.addrlen)
        if len <= 2 { return kind == .bind ? .perform : .refuse(EINVAL, nil) } // autobind; unnamed peers do not exist
        let family = withUnsafeBytes(of: r.pointee.addr) { Int32(UInt16($0[0]) | UInt16($0[1]) << 8) }
        if family != AF_UNIX { return .refuse(EINVAL, nil) } // what the kernel answers for a unix socket
        let path = withUnsafeBytes(of: r.pointee.addr) { raw -> [UInt8] in Array(raw[2..<min(len, raw.count)]) }
        if path.first == 0 {
            let name = "@" + String(decoding: path.dropFirst().prefix { $0 != 0 }, as: UTF8.self)
            return .refuse(Self.bindRefusedErrno, (name, "abstract unix sockets are the host's: never reachable"))
        }
        let text = String(decoding: path.prefix { $0 != 0 }, as: UTF8.self)
        guard kind == .connect || kind == .bind else {
            return .refuse(Self.bindRefusedErrno, (text, "sends to a unix path address are refused: connect the socket first"))
        }
        return .relay(text)
    }

    enum UnixDecision {
        case perform
        case refuse(Int32, (path: String, reason: String)?)
        case relay(String)
    }

    /// Has the helper inside the sandbox connect or bind the duplicate of the agent's socket:
    /// the kernel resolves the path in the agent's world, with its credentials and Landlock
    /// domain. A relative path is resolved from the calling thread's working directory,
    /// handed over as a descriptor (taken from /proc, then the notification is checked to
    /// be still pending, so the thread id was not reused meanwhile).
    func relayUnix(_ r: UnsafeMutablePointer<warden_net_request>, kind: Kind, path: String, id: UInt64,
                   listener: NotificationListener, pid: Int32) -> Int32? {
        var cwd: Int32 = -1
        defer { if cwd >= 0 { close(cwd) } }
        if !path.hasPrefix("/") {
            cwd = open("/proc/\(r.pointee.tid)/cwd", NoFollowFiles.oPath | O_DIRECTORY | O_CLOEXEC)
            guard cwd >= 0, listener.isValid(id) else { return ENOENT }
        }
        let result = withUnsafeBytes(of: r.pointee.addr) { raw in
            warden_unix_relay(listener.unixHelper, kind.rawValue, r.pointee.fd, cwd, raw.baseAddress, r.pointee.addrlen, 5000)
        }
        guard result < 0 else { return nil }
        let e = Int32(-result)
        if [EACCES, EPERM, EROFS, ENOENT].contains(e) {
            recordUnix(path: path, pid: pid, reason: "\(kind == .bind ? "bind" : "connect") refused in the agent's world: \(errnoName(e))", kind: kind)
        }
        return e
    }

    func recordUnix(path: String, pid: Int32, reason: String, kind: Kind) {
        try? audit?.network(denied: true, destination: path, port: 0, proto: "unix", domain: nil, pid: pid, rule: reason,
                            detail: NetworkDetail(operation: kind.operation, decidedBy: "built-in"))
    }

    /// Records a decided inet call: the deciding rule (`file:line:col: text`, a built-in, or
    /// "no rule allows ..."), how it was decided, and the `warden explain` arguments.
    func record(_ decision: Decision, _ address: SocketAddress, _ proto: NetProtocol, domain: String?, pid: Int32, kind: Kind) {
        let endpoint = domain.map { Endpoint(host: .domain($0), ports: PortRange(lower: address.port, upper: address.port)) } ?? address.endpoint
        let direction = kind == .bind || kind == .listen ? "bind" : "connect"
        let first = decision.rules.first
        let rule = first.map { "\($0.location): \($0.rule)" } ?? "no rule allows \(direction) \(proto.rawValue) \(endpoint)"
        let decidedBy: String
        switch first {
        case nil: decidedBy = "default"
        case OwnLoopback.bindRule, OwnLoopback.connectRule: decidedBy = "own-loopback"
        case let p? where p.file == nil: decidedBy = "built-in"
        default: decidedBy = "rule"
        }
        try? audit?.network(denied: decision.effect != .allow, destination: address.hostText, port: Int32(address.port),
                            proto: proto.rawValue, domain: domain, pid: pid, rule: rule,
                            detail: NetworkDetail(operation: kind.operation, decidedBy: decidedBy,
                                                  explain: Self.explainArguments(kind, proto, endpoint)))
    }

    /// Records a refusal Warden makes whatever the rules say.
    func refuse(_ address: SocketAddress, _ proto: NetProtocol, kind: Kind, pid: Int32, decidedBy: String, rule: String) {
        try? audit?.network(denied: true, destination: address.hostText, port: Int32(address.port), proto: proto.rawValue,
                            domain: nil, pid: pid, rule: rule,
                            detail: NetworkDetail(operation: kind.operation, decidedBy: decidedBy,
                                                  explain: Self.explainArguments(kind, proto, address.endpoint)))
    }

    /// Runs `body` on a detached thread; false if no thread could be started.
    static func detach(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(ClosureBox(body)).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, 256 * 1024)
        defer { pthread_attr_destroy(&attr) }
        var t = pthread_t()
        let r = pthread_create(&t, &attr, { raw in
            guard let raw else { return nil }
            Unmanaged<ClosureBox>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        if r != 0 { Unmanaged<ClosureBox>.fromOpaque(box).release(); return false }
        return true
    }
}

private final class ClosureBox: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Hands a fetched request to the worker thread that owns it from then on.
private final class RequestBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<warden_net_request>
    init(_ p: UnsafeMutablePointer<warden_net_request>) { pointer = p }
}
