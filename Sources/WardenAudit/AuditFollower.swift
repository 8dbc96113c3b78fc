#if canImport(Glibc)
import Glibc
#endif

/// Reads a log from its start through `ChainReader` and, when following, keeps reading what
/// is appended, like `tail -f`.
///
/// Following waits in `sigtimedwait` (SIGINT, SIGTERM, SIGHUP) with a timeout, so it
/// never spins and stops cleanly on a signal. Each idle wake-up checks the path: a file that
/// was replaced (rotated, or removed and recreated) is read to its end and then the new file
/// is followed from its start (a new log: its chain starts at seq 0); a file that shrank is
/// read again from its start. Both are reported through `notice`.
public struct AuditFollower: Sendable {
    public let path: String
    /// How long to sleep between checks for new data, in milliseconds.
    public var pollMilliseconds: Int32

    public init(path: String, pollMilliseconds: Int32 = 200) {
        self.path = path
        self.pollMilliseconds = pollMilliseconds
    }

    /// Reads the log to its end (an unfinished last line is reported), or, with `follow`,
    /// until SIGINT, SIGTERM or SIGHUP. `idle` runs whenever the end of the data is reached
    /// (flush output there); following ends too once `stop` returns true (checked after each
    /// read, e.g. when the destination failed).
    public func run(
        follow: Bool, notice: (String) -> Void = { _ in }, idle: () -> Void = {}, stop: () -> Bool = { false },
        _ emit: (ChainEntry) -> Void
    ) throws(AuditError) {
        var fd = try FileIO.openRegular(path, flags: O_RDONLY, what: "audit log")
        defer { close(fd) }
        var chain = ChainReader()
        var offset: Int64 = 0
        let bufSize = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 16)
        defer { buf.deallocate() }

        func drain() throws(AuditError) {
            while true {
                let n = pread(fd, buf.baseAddress, bufSize, off_t(offset))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .io(path: path, operation: "read", message: FileIO.errnoText(errno))
                }
                if n == 0 { return }
                offset += Int64(n)
                chain.consume(UnsafeRawBufferPointer(rebasing: buf[0..<n]), emit)
            }
        }

        try drain()
        guard follow else {
            chain.finish(emit)
            idle()
            return
        }
        idle()
        let signals = try SignalWaiter()
        defer { signals.close() }
        var missingReported = false
        while !stop() {
            if signals.wait(milliseconds: pollMilliseconds) { return }
            try drain()
            // Replaced or truncated?
            var now = stat()
            var open = stat()
            guard fstat(fd, &open) == 0 else { throw .io(path: path, operation: "stat", message: FileIO.errnoText(errno)) }
            if lstat(path, &now) != 0 {
                if !missingReported { notice("\(path) is gone; waiting for it to reappear") }
                missingReported = true
            } else if now.st_ino != open.st_ino || now.st_dev != open.st_dev {
                try drain()
                guard let next = try? FileIO.openRegular(path, flags: O_RDONLY, what: "audit log") else {
                    if !missingReported { notice("\(path) was replaced by something that is not a regular file; waiting") }
                    missingReported = true
                    idle()
                    continue
                }
                if chain.pendingBytes > 0 { chain.finish(emit) }
                close(fd)
                fd = next
                offset = 0
                chain = ChainReader()
                missingReported = false
                notice("\(path) was replaced (rotated or recreated); following the new file from its start")
                try drain()
            } else if Int64(open.st_size) < offset {
                notice("\(path) shrank from \(offset) to \(open.st_size) bytes (truncated); reading it again from its start")
                offset = 0
                chain = ChainReader()
                try drain()
            }
            idle()
        }
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP for the process and waits for them with `sigtimedwait`
/// (the process sleeps in the kernel between checks; a signal ends the wait at once).
struct SignalWaiter: Sendable {
    private let mask: sigset_t
    private let previous: sigset_t

    init() throws(AuditError) {
        var m = sigset_t()
        sigemptyset(&m)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&m, s) }
        var old = sigset_t()
        guard pthread_sigmask(SIG_BLOCK, &m, &old) == 0 else {
            throw .io(path: "signals", operation: "block", message: FileIO.errnoText(errno))
        }
        mask = m
        previous = old
    }

    /// Sleeps up to `milliseconds`; true when a stop signal arrived.
    func wait(milliseconds: Int32) -> Bool {
        var m = mask
        var ts = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        return sigtimedwait(&m, nil, &ts) > 0
    }

    func close() {
        var old = previous
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }
}
