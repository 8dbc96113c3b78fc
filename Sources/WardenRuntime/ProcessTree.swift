#if canImport(Glibc)
import Glibc
#endif

/// The processes of a sandbox: everything in the PID namespace whose init Warden started.
enum ProcessTree {
    /// Stops every process in `initPid`'s PID namespace but init (SIGSTOP), repeating until
    /// a pass finds none running (a process may fork while the first pass runs).
    static func freeze(initPid: Int32) {
        for _ in 0..<100 {
            var running = 0
            for pid in members(of: initPid) where state(of: pid) != "T" {
                running += 1
                kill(pid, SIGSTOP)
            }
            if running == 0 { return }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)  // let the stops take effect
            nanosleep(&pause, nil)
        }
    }

    /// Resumes every process in `initPid`'s PID namespace (SIGCONT).
    static func thaw(initPid: Int32) {
        for pid in members(of: initPid) { kill(pid, SIGCONT) }
    }

    /// The PIDs (in our namespace) of the processes in `initPid`'s PID namespace, init
    /// excluded. A PID is signalled right after it is seen as a member: the kernel hands out
    /// PIDs cyclically over a large range, so one exiting and being reused by a process
    /// outside the sandbox within that window is not a practical concern.
    static func members(of initPid: Int32) -> [Int32] {
        guard let ns = namespace(of: initPid), let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        var pids: [Int32] = []
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard !name.isEmpty, name.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let pid = Int32(String(decoding: name, as: UTF8.self)), pid != initPid,
                  namespace(of: pid) == ns else { continue }
            pids.append(pid)
        }
        return pids
    }

    private static func namespace(of pid: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/ns/pid", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The state letter from /proc/<pid>/stat ("R", "S", "T", ...).
    private static func state(of pid: Int32) -> Character? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let paren = buf[0..<n].lastIndex(of: UInt8(ascii: ")")), paren + 2 < n else { return nil }
        return Character(Unicode.Scalar(buf[paren + 2]))
    }
}
