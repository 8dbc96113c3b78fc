import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Takes the kernel's cgroup-migration grace period off the launch's path.
///
/// Moving a process into a cgroup (init writing itself into the run's `cgroup.procs`)
/// takes the kernel's global threadgroup lock for writing. When no migration happened in
/// the last RCU grace period, that lock first waits for one: 5–8 ms on an idle host, over
/// 20 ms on a busy one, measured on Linux 6.18. Back-to-back migrations do not wait.
///
/// The primer starts a thread as soon as a run knows it will use a cgroup. The thread
/// moves Warden into the cgroup it is already in (a migration that changes nothing, so
/// the wait happens there, in parallel with the policy check and the plan), then repeats
/// that every few milliseconds until `stop()`, so the lock never goes cold before init
/// joins. It stops by itself after two seconds, when Warden's own cgroup changes (someone
/// moved it; the primer never moves it back), or when a write fails.
public final class CgroupMigrationPrimer: Sendable {
    /// Longest the thread keeps the lock warm without a `stop()`.
    static let lifetimeNanoseconds: Int64 = 2_000_000_000
    /// Pause between two migrations: well inside the one to two grace periods after which
    /// the kernel lets the lock go cold again.
    static let periodMilliseconds: Int32 = 4

    private let wake: (read: Int32, write: Int32)
    private let stopped = Mutex(false)
    private let thread: ThreadHandle?
    /// Migrations done (the first pays the grace period); read after `stop()`, for tests.
    private let count: Counter

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Starts priming with `procsFile`, the `cgroup.procs` of the cgroup this process is in
    /// (the line `ownCgroupLine` of /proc/self/cgroup names it). Nil when the file does not
    /// list this process, cannot be opened for writing, or no thread can start.
    init?(procsFile: String, ownCgroupLine: String) {
        // Only a cgroup that lists this process: a path computed wrongly (a cgroup namespace
        // over a host-rooted mount, say) must not become a move to somewhere else.
        let me = String(getpid())
        guard let members = readSmallFile(procsFile, limit: 16 << 20),
              members.split(separator: "\n").contains(where: { $0 == me }) else { return nil }
        let fd = open(procsFile, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else { close(fd); return nil }
        for end in p {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        wake = (p[0], p[1])
        let readEnd = p[0]
        let count = Counter()
        self.count = count
        thread = ThreadHandle {
            defer { close(fd) }
            let deadline = monotonicNow() &+ Self.lifetimeNanoseconds
            while monotonicNow() < deadline, Self.ownCgroupLine(matching: ownCgroupLine) {
                // "0": this process, into the cgroup it is in. Nothing moves.
                guard write(fd, "0", 1) == 1 else { return }
                count.value.add(1, ordering: .relaxed)
                var pfd = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, Self.periodMilliseconds) != 0 { return }
            }
        }
        if thread == nil {
            // deinit runs for a failed init once every property is set: it must find the
            // primer stopped, or it would write to and close these numbers a second time.
            stopped.withLock { $0 = true }
            close(p[0]); close(p[1]); close(fd)
            return nil
        }
    }

    /// A primer for the cgroup hierarchy a run will use: cgroup v2 when `support` can apply
    /// limits there, else the v1 `pids` or `memory` hierarchy. Nil when none is writable.
    public static func start(for support: CgroupSupport) -> CgroupMigrationPrimer? {
        if let dir = support.directory, support.unusableReason == nil,
           let line = ownLine(where: { $0.hasPrefix("0::") }) {
            return CgroupMigrationPrimer(procsFile: dir + "/cgroup.procs", ownCgroupLine: line)
        }
        for controller in ["pids", "memory"] {
            guard let dir = CgroupSupport.v1Directory(controller: controller),
                  let line = ownLine(where: { Self.names(controller, line: $0) }) else { continue }
            return CgroupMigrationPrimer(procsFile: dir + "/cgroup.procs", ownCgroupLine: line)
        }
        return nil
    }

    /// Ends the priming and waits for the thread (at most one write's time). Idempotent.
    public func stop() {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        thread?.join()
        close(wake.read)
        close(wake.write)
    }

    deinit { stop() }

    /// How many migrations the thread did (for tests; meaningful after `stop()`).
    var migrations: Int { count.value.load(ordering: .relaxed) }

    /// Whether /proc/self/cgroup still holds `line` (this process was not moved).
    static func ownCgroupLine(matching line: String) -> Bool {
        ownLine(where: { $0 == line }) != nil
    }

    private static func ownLine(where match: (Substring) -> Bool) -> String? {
        (readSmallFile("/proc/self/cgroup", limit: 64 << 10) ?? "").split(separator: "\n").first(where: match).map(String.init)
    }

    /// Whether a /proc/self/cgroup line is the v1 hierarchy of `controller`.
    private static func names(_ controller: String, line: Substring) -> Bool {
        let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return f.count == 3 && f[1].split(separator: ",").contains(Substring(controller))
    }
}
