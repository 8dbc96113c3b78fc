import Synchronization
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// The agent's own loopback sockets in this run (see `OwnLoopback`): a duplicate of every
/// inet socket the supervisor bound, or let listen, on a loopback address.
///
/// The duplicates are what makes the own-loopback rule race-free. The socket stays open
/// for the whole run whatever the agent does with its descriptor, so the port it holds
/// cannot be taken over by a host process after the agent closes it; a port-0 bind is
/// turned into a bind of an explicit port (`pickPort`), which the kernel then keeps even
/// across `shutdown`/`connect(AF_UNSPEC)`. A connect is judged by what the kernel says
/// about the duplicates at that moment (`getsockname`, `SO_ACCEPTCONN`), never by what the
/// agent asked for.
final class OwnLoopbackSockets: Sendable {
    /// At most this many sockets are kept; a further own-loopback bind is refused (EACCES).
    static let capacity = 1024

    private struct Kept {
        var fd: Int32
        var device: UInt64
        var inode: UInt64
    }

    private let kept = Mutex<[Kept]>([])

    init() {}

    deinit {
        kept.withLock { list in
            for k in list { close(k.fd) }
            list.removeAll()
        }
    }

    /// Keeps a duplicate of socket `fd` (once per socket). False when the table is full or
    /// no duplicate can be made.
    func keep(_ fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        return kept.withLock { list in
            if list.contains(where: { $0.device == UInt64(st.st_dev) && $0.inode == UInt64(st.st_ino) }) { return true }
            guard list.count < Self.capacity else { return false }
            let dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard dup >= 0 else { return false }
            list.append(Kept(fd: dup, device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
            return true
        }
    }

    /// Whether a connect or send to `address` reaches one of the agent's own sockets now:
    /// a kept socket of protocol `proto` bound to that port on that address (or on the
    /// wildcard address of its family) and, for TCP, listening.
    func owns(_ proto: NetProtocol, _ address: SocketAddress) -> Bool {
        kept.withLock { list in
            list.contains { k in
                guard Self.type(of: k.fd) == proto, let local = SocketAddress.local(of: k.fd),
                      local.port == address.port, local.port != 0 else { return false }
                if proto == .tcp && !Self.isListening(k.fd) { return false }
                return local.host == address.host || Self.isWildcard(local.host, sameFamilyAs: address.host)
            }
        }
    }

    var count: Int { kept.withLock { $0.count } }

    /// Lets go of the kept socket holding `proto` `address` (exact address and port) when
    /// no process but the supervisor holds it any more, so the agent can bind that port
    /// again (a test suite restarting its server on a fixed port). True when one was let
    /// go. Letting go is always safe: a port is the agent's own only while a kept socket
    /// holds it, so a host process that takes the port afterwards is not reachable.
    func release(_ proto: NetProtocol, _ address: SocketAddress) -> Bool {
        kept.withLock { list in
            guard let i = list.firstIndex(where: { k in
                Self.type(of: k.fd) == proto && SocketAddress.local(of: k.fd) == address
            }) else { return false }
            if Self.isHeldElsewhere(inode: list[i].inode) { return false }
            close(list[i].fd)
            list.remove(at: i)
            return true
        }
    }

    /// Whether a process other than this one has a descriptor for socket `inode` (read
    /// from the `socket:[inode]` links of /proc/PID/fd, which readlink does not follow).
    static func isHeldElsewhere(inode: UInt64) -> Bool {
        let me = getpid()
        let target = "socket:[\(inode)]"
        guard let proc = opendir("/proc") else { return true }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != me else { continue }
            guard let fds = opendir("/proc/\(pid)/fd") else { continue }
            defer { closedir(fds) }
            let dirFd = dirfd(fds)
            var buf = [CChar](repeating: 0, count: 64)
            while let fdEntry = readdir(fds) {
                let n = readlinkat(dirFd, &fdEntry.pointee.d_name.0, &buf, buf.count - 1)
                guard n > 0 else { continue }
                if String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == target { return true }
            }
        }
        return false
    }

    /// After the agent's own socket listens: SO_REUSEADDR off, so that, should the agent
    /// stop listening (shutdown), no host socket can bind the port beside it (address reuse
    /// needs it on both sockets). It no longer matters to the listening socket itself.
    static func disableAddressReuse(_ fd: Int32) {
        var zero: Int32 = 0
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero, socklen_t(MemoryLayout<Int32>.size))
    }

    static func type(of fd: Int32) -> NetProtocol? {
        var t: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) == 0 else { return nil }
        switch t {
        case Int32(SOCK_STREAM.rawValue): return .tcp
        case Int32(SOCK_DGRAM.rawValue): return .udp
        default: return nil
        }
    }

    static func isListening(_ fd: Int32) -> Bool { intOption(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1 }

    /// An integer socket option, nil if it cannot be read.
    static func intOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32? {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &v, &len) == 0 ? v : nil
    }

    static func isWildcard(_ host: EndpointHost, sameFamilyAs other: EndpointHost) -> Bool {
        switch (host, other) {
        case (.ipv4(let n), .ipv4): return n.address == 0
        case (.ipv6(let n), .ipv6): return n.bytes.allSatisfy { $0 == 0 }
        default: return false
        }
    }

    /// A free port on `address` (whose port is 0) for a socket of `domain`/`type`: the port
    /// the kernel assigns to a scratch socket bound there, which is then closed. The caller
    /// binds the agent's socket to it explicitly and tries again if it was taken meanwhile.
    static func pickPort(domain: Int32, type: Int32, address: UnsafeRawBufferPointer) -> UInt16? {
        let s = socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return nil }
        defer { close(s) }
        let rc = address.baseAddress.map {
            bind(s, $0.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
        } ?? -1
        guard rc == 0, let local = SocketAddress.local(of: s), local.port != 0 else { return nil }
        return local.port
    }
}
