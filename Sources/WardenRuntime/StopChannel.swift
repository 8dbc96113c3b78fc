#if canImport(Glibc)
import Glibc
#endif

/// Asks a running `Supervisor` to end the agent, from any thread or a signal handler: a
/// non-blocking pipe the supervisor polls while it waits for the agent.
///
/// Bytes on the pipe: `stopRequest` (SIGTERM to the sandbox, then SIGKILL of the whole tree
/// after the grace period), `killRequest` (SIGKILL now), or the number of a signal Warden
/// forwarded (SIGINT/SIGTERM: the first starts the grace period, the second kills the tree).
public final class StopChannel: Sendable {
    static let stopRequest: UInt8 = 0
    static let killRequest: UInt8 = 255
    let readFD: Int32
    let writeFD: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        if readFD >= 0 { close(readFD) }
        if writeFD >= 0 { close(writeFD) }
    }

    /// SIGTERM to the agent now, SIGKILL of its whole tree after the grace period.
    public func requestStop() { send(Self.stopRequest) }

    /// SIGKILL of the agent's whole tree now.
    public func requestKill() { send(Self.killRequest) }

    private func send(_ byte: UInt8) {
        var b = byte
        _ = write(writeFD, &b, 1)
    }

    /// Everything pending on the pipe (never blocks).
    func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n > 0 { out.append(contentsOf: buf[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            return out
        }
    }
}
