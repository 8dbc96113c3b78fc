#if canImport(Glibc)
import Glibc
#endif

/// Reads a small text file; nil when it cannot be read.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = read(fd, &buf, buf.count)
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

func writeSmallFile(_ path: String, _ text: String) -> Int32 {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    let n = write(fd, bytes, bytes.count)
    return n == bytes.count ? 0 : (n < 0 ? errno : EIO)
}

/// The cgroup hierarchies mounted on this host, from /proc/self/mounts.
///
/// Read once per process (`host`): hierarchies are mounted at boot and Warden never mounts
/// any, while the kernel's text of the mount table is costly to produce (a launch asked for
/// it six times, 1.8 ms in all). Which cgroup this process is in is read afresh each time.
struct CgroupMounts: Sendable, Equatable {
    /// Where the cgroup2 hierarchy is mounted, if it is.
    var v2: String?
    /// Each cgroup v1 hierarchy: its mount point and its mount options (which name its
    /// controllers).
    var v1: [(point: String, options: [String])]

    static let host: CgroupMounts? = readSmallFile("/proc/self/mounts").map(parse)

    /// The cgroup entries of a mount table (fields: source, mount point, type, options).
    static func parse(_ table: String) -> CgroupMounts {
        var mounts = CgroupMounts(v2: nil, v1: [])
        for line in table.utf8.split(separator: UInt8(ascii: "\n")) {
            let f = line.split(separator: UInt8(ascii: " "))
            guard f.count >= 4 else { continue }
            let type = String(decoding: f[2], as: UTF8.self), point = String(decoding: f[1], as: UTF8.self)
            if type == "cgroup2", mounts.v2 == nil {
                mounts.v2 = point
            } else if type == "cgroup" {
                mounts.v1.append((point, f[3].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }))
            }
        }
        return mounts
    }

    static func == (a: CgroupMounts, b: CgroupMounts) -> Bool {
        a.v2 == b.v2 && a.v1.map(\.point) == b.v1.map(\.point) && a.v1.map(\.options) == b.v1.map(\.options)
    }
}

/// Where and whether cgroup v2 limits can be applied by this process.
public struct CgroupSupport: Sendable, Equatable {
    /// The cgroup v2 directory of this process, when a cgroup2 hierarchy is mounted.
    public var directory: String?
    /// Controllers available to children of `directory`.
    public var controllers: Set<String>
    /// Why limits cannot be applied, or nil when they can.
    public var unusableReason: String?

    /// Inspects /proc/self/mounts and /proc/self/cgroup.
    public static func detect() -> CgroupSupport {
        guard let mounts = CgroupMounts.host else {
            return .init(directory: nil, controllers: [], unusableReason: "cannot read /proc/self/mounts")
        }
        guard let root = mounts.v2 else {
            return .init(directory: nil, controllers: [], unusableReason: "no cgroup v2 hierarchy is mounted")
        }
        var relative = "/"
        for line in (readSmallFile("/proc/self/cgroup") ?? "").split(separator: "\n") where line.hasPrefix("0::") {
            relative = String(line.dropFirst(3))
        }
        let dir = relative == "/" ? root : root + relative
        let ctl = Set((readSmallFile(dir + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        var reason: String?
        let missing = ["memory", "pids"].filter { !ctl.contains($0) }
        if !missing.isEmpty {
            reason = "cgroup v2 at \(dir) lacks the \(missing.joined(separator: " and ")) controller"
                + (missing.count > 1 ? "s" : "") + " (bound to cgroup v1 on this hybrid system?)"
        } else if access(dir, W_OK) != 0 {
            reason = "cgroup v2 directory \(dir) is not writable by this user"
        }
        return .init(directory: dir, controllers: ctl, unusableReason: reason)
    }
}

extension CgroupSupport {
    /// This process's directory in a writable cgroup v1 `pids` hierarchy (hybrid systems),
    /// or nil. Used for `limit processes` when cgroup v2 is unusable and the agent runs as
    /// root, for whom the RLIMIT_NPROC fallback does not count (the kernel exempts uid 0).
    public static func v1PidsDirectory() -> String? { v1Directory(controller: "pids") }

    /// This process's directory in a writable cgroup v1 `memory` hierarchy (hybrid
    /// systems), or nil. Used for `limit memory` when cgroup v2 is unusable.
    public static func v1MemoryDirectory() -> String? { v1Directory(controller: "memory") }

    /// This process's directory in the writable cgroup v1 hierarchy of `controller`, or nil.
    static func v1Directory(controller: String) -> String? {
        guard let root = CgroupMounts.host?.v1.first(where: { $0.options.contains(controller) })?.point else { return nil }
        var relative: String?
        for line in (readSmallFile("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if f.count == 3, f[1].split(separator: ",").contains(Substring(controller)) { relative = String(f[2]) }
        }
        guard let rel = relative else { return nil }
        let dir = rel == "/" ? root : root + rel
        return access(dir, W_OK) == 0 ? dir : nil
    }

    /// Whether `limits` can be applied: through cgroup v2, or through the cgroup v1 memory
    /// and pids controllers (hybrid systems).
    func canApply(_ limits: CgroupLimits) -> Bool {
        unusableReason == nil
            || ((limits.memoryMax == nil || Self.v1MemoryDirectory() != nil) && (limits.pidsMax == nil || Self.v1PidsDirectory() != nil))
    }
}

/// A per-run child cgroup with limits, in cgroup v2 or in the cgroup v1 memory and pids
/// hierarchies (one directory each); removed after the run.
final class RunCgroup {
    /// The run's cgroup directories (one for v2; one per v1 hierarchy used).
    let paths: [String]
    /// cgroup.procs of each directory in `paths`, open for writing (init writes itself in).
    let procsFds: [Int32]
    /// The directory that holds the memory limit, and whether it is a v1 one.
    let memoryPath: String?
    let memoryIsV1: Bool

    /// Creates the cgroup(s), enables the controllers and writes the limits. Also removes
    /// the cgroups of earlier runs whose supervisor is gone (see `removeAbandoned`).
    init(limits: CgroupLimits, support: CgroupSupport) throws(LaunchFailure) {
        // (directory, files to write in order) for each cgroup to create.
        var plan: [(parent: String, files: [(String, UInt64)])] = []
        var memoryIndex: Int?
        var v1 = false
        if let v2 = support.directory, support.unusableReason == nil {
            let wanted = [limits.memoryMax != nil ? "+memory" : nil, limits.pidsMax != nil ? "+pids" : nil].compactMap { $0 }
            _ = writeSmallFile(v2 + "/cgroup.subtree_control", wanted.joined(separator: " "))
            var files: [(String, UInt64)] = []
            if let m = limits.memoryMax { files.append(("memory.max", m)); files.append(("memory.swap.max", 0)); memoryIndex = 0 }
            if let p = limits.pidsMax { files.append(("pids.max", p)) }
            plan.append((v2, files))
        } else {
            // Hybrid system: the v1 memory and pids controllers, each in its own hierarchy.
            v1 = true
            if let m = limits.memoryMax {
                guard let dir = CgroupSupport.v1MemoryDirectory() else {
                    throw LaunchFailure(stage: .cgroup, errno: EOPNOTSUPP,
                                        message: "warden: cgroup: \(support.unusableReason ?? "unusable"), and no writable cgroup v1 memory controller")
                }
                memoryIndex = plan.count
                // memsw (memory + swap) must be set after, and at least, the memory limit.
                plan.append((dir, [("memory.limit_in_bytes", m), ("memory.memsw.limit_in_bytes", m)]))
            }
            if let p = limits.pidsMax {
                guard let dir = CgroupSupport.v1PidsDirectory() else {
                    throw LaunchFailure(stage: .cgroup, errno: EOPNOTSUPP,
                                        message: "warden: cgroup: \(support.unusableReason ?? "unusable"), and no writable cgroup v1 pids controller")
                }
                plan.append((dir, [("pids.max", p)]))
            }
        }
        let name = "\(Self.prefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var made: [String] = []
        var fds: [Int32] = []
        func undo() { for fd in fds { close(fd) }; for p in made { rmdir(p) } }
        for (parent, files) in plan {
            Self.removeAbandoned(in: parent)
            let path = parent + "/" + name
            guard mkdir(path, 0o755) == 0 else {
                let e = errno
                undo()
                throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot create \(path): \(errnoName(e))")
            }
            made.append(path)
            for (file, value) in files {
                let e = writeSmallFile(path + "/" + file, String(value))
                // Swap accounting may be off (no memory.memsw.* / memory.swap.max): the memory limit still holds.
                if e == ENOENT, file == "memory.memsw.limit_in_bytes" || file == "memory.swap.max" { continue }
                if e != 0 {
                    undo()
                    throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot write \(file): \(errnoName(e))")
                }
            }
            let fd = open(path + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let e = errno
                undo()
                throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot open cgroup.procs: \(errnoName(e))")
            }
            fds.append(fd)
        }
        paths = made
        procsFds = fds
        memoryPath = memoryIndex.map { made[$0] }
        memoryIsV1 = v1
    }

    /// Names of the run cgroups: `warden-<supervisor pid>-<random>`.
    static let prefix = "warden-"

    /// How many processes of the run the kernel's OOM killer killed for the memory limit
    /// (`oom_kill` in memory.events, v2, or memory.oom_control, v1); nil when unknown.
    func oomKills() -> UInt64? {
        guard let memoryPath else { return nil }
        let file = memoryPath + (memoryIsV1 ? "/memory.oom_control" : "/memory.events")
        for line in (readSmallFile(file) ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == "oom_kill", let n = UInt64(f[1]) { return n }
        }
        return nil
    }

    /// Closes the descriptors and removes the directories. The agent's processes are gone
    /// by now (its PID namespace ended with init), but the kernel may still be tearing the
    /// last ones down: an EBUSY rmdir is retried briefly.
    func remove() {
        for fd in procsFds { close(fd) }
        for path in paths {
            var tries = 0
            while rmdir(path) != 0, errno == EBUSY, tries < 50 {
                tries += 1
                usleep(10_000)
            }
        }
    }

    /// Removes run cgroups under `parent` left by supervisors that no longer exist (killed
    /// before their cleanup). Only empty cgroups can be removed (rmdir fails otherwise), and a
    /// directory whose supervisor pid is alive is left alone.
    static func removeAbandoned(in parent: String) {
        guard let dir = opendir(parent) else { return }
        defer { closedir(dir) }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix) else { continue }
            let fields = name.dropFirst(prefix.count).split(separator: "-")
            guard fields.count == 2, let pid = Int32(fields[0]), UInt32(fields[1]) != nil, pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { stale.append(name) }
        }
        for name in stale { rmdir(parent + "/" + name) }
    }
}
