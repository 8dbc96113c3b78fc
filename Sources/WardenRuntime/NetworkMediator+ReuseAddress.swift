import CLauncher
#if canImport(Glibc)
import Glibc
#endif

extension NetworkMediator {
    /// Whether a notified setsockopt sets SO_REUSEADDR (level SOL_SOCKET).
    static func setsReuseAddress(_ arguments: [UInt64]) -> Bool {
        arguments.count >= 3 && UInt32(truncatingIfNeeded: arguments[1]) == UInt32(SOL_SOCKET)
            && UInt32(truncatingIfNeeded: arguments[2]) == UInt32(SO_REUSEADDR)
    }

    /// The agent's setsockopt(SOL_SOCKET, SO_REUSEADDR), decided by the socket's kind and
    /// performed by the supervisor on a duplicate of the socket (so a descriptor swapped
    /// after the check changes nothing): applied on stream sockets, where Linux never lets it
    /// share a listening port (servers set it routinely); refused with EACCES, and recorded,
    /// on datagram sockets, where it would share a port with a host service's socket that
    /// also set it (the agent would receive that service's datagrams, or the host's clients
    /// the agent's "own" ones).
    func setReuseAddress(_ n: SeccompNotification, listener: NotificationListener) -> NotificationResponse {
        var args = (n.arguments + [0, 0, 0, 0, 0, 0]).prefix(6).map { $0 }
        let rc = args.withUnsafeMutableBufferPointer {
            warden_net_reuseaddr(listener.fd, n.id, pid_t(bitPattern: n.pid), $0.baseAddress)
        }
        if rc == -EACCES {
            try? audit?.denySyscall(nr: n.syscall, name: "setsockopt", args: n.arguments, pid: Int32(bitPattern: n.pid),
                                    errno: EACCES,
                                    rule: "built-in: SO_REUSEADDR is refused on datagram sockets of an identity with network rules (it would share a port with a host service)")
        }
        return rc < 0 ? .fail(errno: -rc) : .returnValue(0)
    }
}
