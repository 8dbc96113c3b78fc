import WardenKernel
import WardenServe
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A restart after the server died (even by `kill -9`): the runs it had going are settled
/// only once their `warden run`s are gone. Each of those got SIGTERM from the kernel when the
/// server died (`--stop-with-parent`/parent-death) and is stopping its agent and writing its
/// `run.exit`; deciding before it is gone could queue a fleet repository again while its
/// first attempt still runs. Each run's `child.pid` (pid and start time, written at spawn)
/// says whom to wait for; the start time tells a reused pid from the child.
enum ServeRecovery {
    static let pidFileName = "child.pid"
    /// How long to wait for the previous server's runs to stop before killing them.
    static let patience: Duration = .seconds(60)

    /// Writes `pid` and its start time to `path` (best effort: a missing file only means the
    /// restart does not wait for this child).
    static func writePidFile(_ path: String, pid: pid_t) {
        guard let start = startTime(pid) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let text = Array("\(pid) \(start)\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Waits until the `warden run` of each of `runs` (by its `child.pid`) has exited; after
    /// `patience`, SIGKILLs the ones left and waits a little more. Returns the queue ids of
    /// runs that had to be killed.
    static func waitForPreviousRuns(_ runs: [QueuedRun], stateDirectory: String, report: (String) -> Void) -> [Int64] {
        var waiting: [(id: Int64, pid: pid_t, start: UInt64)] = []
        for run in runs {
            let path = stateDirectory + "/runs/" + String(run.id) + "/" + pidFileName
            guard let bytes = try? BoundedFileReader.read(path, limit: 128) else { continue }
            let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 1, let start = UInt64(parts[1]) else { continue }
            if startTime(pid) == start { waiting.append((run.id, pid, start)) }
        }
        guard !waiting.isEmpty else { return [] }
        report("warden serve: waiting for \(waiting.count) run\(waiting.count == 1 ? "" : "s") of the previous server to stop")
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        var killed: [Int64] = []
        while !waiting.isEmpty {
            waiting.removeAll { startTime($0.pid) != $0.start }
            if waiting.isEmpty { break }
            if clock.now >= deadline {
                if killed.isEmpty {
                    for w in waiting {
                        kill(w.pid, SIGKILL)
                        killed.append(w.id)
                    }
                } else if clock.now >= deadline + .seconds(10) {
                    break
                }
            }
            usleep(50_000)
        }
        return killed
    }

    /// The start time (clock ticks after boot, field 22 of /proc/PID/stat) of `pid`; nil
    /// when no such process is alive (a zombie counts as gone).
    static func startTime(_ pid: pid_t) -> UInt64? {
        guard let bytes = try? BoundedFileReader.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is the state (field 3); the start time is field 22.
        guard fields.count > 19, fields[0].first != UInt8(ascii: "Z") else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }
}
