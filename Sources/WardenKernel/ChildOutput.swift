#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a spawned helper program (`git` for `warden diff`, a `secret ... from command`)
/// printed, read with bounds: stdout up to `limit` bytes (past it the program is killed),
/// stderr up to `stderrLimit` (the rest dropped), and at most `timeout` in all (then
/// killed). Killing takes the program's whole process group (it must lead one).
public struct ChildOutput: Sendable {
    /// The raw `waitpid` status.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var timedOut: Bool
    public var tooLarge: Bool

    /// Two close-on-exec pipes for a child's stdout and stderr (`[read, write]` each), or nil
    /// with `errno` set.
    public static func pipes() -> (stdout: [Int32], stderr: [Int32])? {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { return nil }
        guard pipe(&err) == 0 else {
            let saved = errno
            close(out[0]); close(out[1])
            errno = saved
            return nil
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (out, err)
    }

    /// Reads `ends` (the parent's read ends of the child's stdout and stderr pipes, in that
    /// order; each is closed and set to -1 when it ends) until both end, the deadline
    /// passes or stdout passes `limit`; then reaps `pid`.
    public static func collect(pid: pid_t, ends: inout [Int32], limit: Int, stderrLimit: Int, timeout: Duration,
                               bufferSize: Int = 65536) -> ChildOutput {
        var out = ChildOutput(status: 0, stdout: [], stderr: [], timedOut: false, tooLarge: false)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while ends.contains(where: { $0 >= 0 }) {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { out.timedOut = true; break }
            let ms = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var fds = ends.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let n = poll(&fds, nfds_t(fds.count), ms)
            if n < 0 { if errno == EINTR { continue }; break }
            for (i, p) in fds.enumerated() where p.fd >= 0 && p.revents != 0 {
                let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { close(p.fd); ends[i] = -1; continue }
                if i == 0 {
                    out.stdout += buffer.prefix(got)
                    if out.stdout.count > limit { out.tooLarge = true }
                } else if out.stderr.count < stderrLimit {
                    out.stderr += buffer.prefix(min(got, stderrLimit - out.stderr.count))
                }
            }
            if out.tooLarge { break }
        }
        if out.timedOut || out.tooLarge { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
        while waitpid(pid, &out.status, 0) < 0 && errno == EINTR {}
        return out
    }
}
