import CLauncher
import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// The agent's own loopback at run time (`OwnLoopback` states the rule): loopback binds
/// performed and kept by the supervisor, port sharing refused, and the reply path of UDP.
extension NetworkMediator {
    /// Binds the agent's socket to a loopback address (the agent's own loopback, or a
    /// bind rule): decided, checked for port sharing, performed with an explicit port (a
    /// port-0 request gets a free port picked here, so the kernel never releases it while
    /// the socket lives), and the socket kept until the run ends. The bind's result or -errno.
    func bindOwn(_ r: UnsafeMutablePointer<warden_net_request>, address: SocketAddress, pid: Int32) -> Int {
        guard let proto = Self.inetProtocol(r) else { return -Int(Self.bindRefusedErrno) }
        let decision = effective.decideNetMediated(.bind, proto, address.endpoint)
        guard decision.effect == .allow else {
            record(decision, address, proto, domain: nil, pid: pid, kind: .bind)
            return -Int(Self.bindRefusedErrno)
        }
        if let refusal = ownSocketRefusal(r.pointee.fd, proto, decision, address, kind: .bind, pid: pid, keep: false) {
            return -Int(refusal)
        }
        guard own.count < OwnLoopbackSockets.capacity else {
            refuse(address, proto, kind: .bind, pid: pid, decidedBy: "built-in",
                   rule: "built-in: the agent already holds \(OwnLoopbackSockets.capacity) loopback sockets in this run")
            return -Int(Self.bindRefusedErrno)
        }
        var result = -Int(EADDRINUSE)
        for _ in 0..<16 {
            if address.port == 0 {
                let picked = withUnsafeBytes(of: r.pointee.addr) { raw in
                    OwnLoopbackSockets.pickPort(domain: r.pointee.domain, type: r.pointee.type & 0xf,
                                                address: UnsafeRawBufferPointer(rebasing: raw[0..<Int(r.pointee.addrlen)]))
                }
                guard let picked else { return -Int(EADDRINUSE) }
                withUnsafeMutableBytes(of: &r.pointee.addr) { $0[2] = UInt8(picked >> 8); $0[3] = UInt8(picked & 0xff) }
            }
            result = warden_net_perform(r)
            if result == -Int(EADDRINUSE) && address.port != 0 {
                // The port may be held only by a kept socket the agent has closed: let go of it.
                if own.release(proto, address) { result = warden_net_perform(r) }
                break
            }
            if result != -Int(EADDRINUSE) || address.port != 0 { break } // a picked port taken meanwhile: pick again
        }
        guard result >= 0 else { return result }
        _ = own.keep(r.pointee.fd) // capacity checked above; this thread is the only one that binds
        record(decision, SocketAddress.local(of: r.pointee.fd) ?? address, proto, domain: nil, pid: pid, kind: .bind)
        return result
    }

    /// Before a UDP send to a loopback port of the agent's own: a socket that is not bound
    /// yet is bound here to the loopback address of the destination's family, with an
    /// explicit port, and kept, so the reply can come back (the answer's destination is
    /// then one of the agent's own sockets). nil to go on, else the errno to answer.
    func bindBeforeOwnSend(_ r: UnsafeMutablePointer<warden_net_request>, kind: Kind, pid: Int32) -> Int32? {
        guard kind == .sendto || kind == .sendmsg || kind == .sendmmsg, r.pointee.has_addr != 0,
              Self.inetProtocol(r) == .udp, case .address(let to) = SocketAddress.parse(r),
              effective.decideNetMediated(.connect, .udp, to.endpoint).condition == OwnLoopback.connectCondition,
              dns?.serves(.udp, to) != true, let local = SocketAddress.local(of: r.pointee.fd), local.port == 0
        else { return nil }
        let saved = r.pointee.addr
        let savedLen = r.pointee.addrlen
        defer { r.pointee.addr = saved; r.pointee.addrlen = savedLen; r.pointee.kind = kind.rawValue }
        // The loopback source: 127.0.0.1, or ::1 / ::ffff:127.0.0.1 on an IPv6 socket.
        var bytes = [UInt8](repeating: 0, count: r.pointee.domain == AF_INET6 ? 28 : 16)
        bytes[0] = UInt8(r.pointee.domain & 0xff); bytes[1] = UInt8(r.pointee.domain >> 8)
        if r.pointee.domain == AF_INET { bytes[4...7] = [127, 0, 0, 1] }
        else if case .ipv4 = to.host { bytes[18...19] = [0xff, 0xff]; bytes[20...23] = [127, 0, 0, 1] }
        else { bytes[23] = 1 }
        withUnsafeMutableBytes(of: &r.pointee.addr) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        r.pointee.addrlen = UInt32(bytes.count)
        r.pointee.kind = Kind.bind.rawValue
        guard case .address(let source) = SocketAddress.parse(r) else { return nil }
        let result = bindOwn(r, address: source, pid: pid)
        return result < 0 ? Int32(-result) : nil
    }

    /// The refusal of sharing a port with a host service: SO_REUSEPORT on a socket the
    /// own-loopback rule binds or lets listen (it would join a host listener's group on that
    /// port), and for UDP SO_REUSEADDR too (it would share a host socket's port). Then, at
    /// listen, the socket is kept (`keep`). nil when fine, else the errno (recorded).
    func ownSocketRefusal(_ fd: Int32, _ proto: NetProtocol, _ decision: Decision, _ address: SocketAddress,
                          kind: Kind, pid: Int32, keep: Bool = true) -> Int32? {
        if decision.rules.first == OwnLoopback.bindRule {
            let reusePort = OwnLoopbackSockets.intOption(fd, SOL_SOCKET, SO_REUSEPORT) ?? 1
            let reuseAddr = proto == .udp ? (OwnLoopbackSockets.intOption(fd, SOL_SOCKET, SO_REUSEADDR) ?? 1) : 0
            if reusePort != 0 || reuseAddr != 0 {
                refuse(address, proto, kind: kind, pid: pid, decidedBy: "own-loopback",
                       rule: "built-in: own loopback: \(reusePort != 0 ? "SO_REUSEPORT" : "SO_REUSEADDR") is refused on the agent's own loopback sockets (it would share the port with a host service); a bind rule naming the address allows it")
                return Self.bindRefusedErrno
            }
        }
        if keep && !own.keep(fd) {
            refuse(address, proto, kind: kind, pid: pid, decidedBy: "built-in",
                   rule: "built-in: the agent already holds \(OwnLoopbackSockets.capacity) loopback sockets in this run")
            return Self.bindRefusedErrno
        }
        return nil
    }
}
