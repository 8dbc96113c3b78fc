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
        guard let mounts = readSmallFile("/proc/self/mounts") else {
            return .init(directory: nil, controllers: [], unusableReason: "cannot read /proc/self/mounts")
        }
        var mountPoint: String?
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count >= 3, f[2] == "cgroup2" { mountPoint = String(f[1]); break }
        }
        guard let root = mountPoint else {
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
    public static func v1PidsDirectory() -> String? {
        guard let mounts = readSmallFile("/proc/self/mounts") else { return nil }
        var mountPoint: String?
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count >= 4, f[2] == "cgroup", f[3].split(separator: ",").contains("pids") { mountPoint = String(f[1]); break }
        }
        guard let root = mountPoint else { return nil }
        var relative: String?
        for line in (readSmallFile("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if f.count == 3, f[1].split(separator: ",").contains("pids") { relative = String(f[2]) }
        }
        guard let rel = relative else { return nil }
        let dir = rel == "/" ? root : root + rel
        return access(dir, W_OK) == 0 ? dir : nil
    }

    /// Whether `limits` can be applied: through cgroup v2, or (only a pids limit) through
    /// the cgroup v1 pids controller.
    func canApply(_ limits: CgroupLimits) -> Bool {
        unusableReason == nil || (limits.memoryMax == nil && limits.pidsMax != nil && Self.v1PidsDirectory() != nil)
    }
}

/// A per-run child cgroup with limits; removed after the run.
final class RunCgroup {
    let path: String
    let procsFd: Int32

    /// Creates the cgroup, enables the controllers and writes the limits.
    init(limits: CgroupLimits, support: CgroupSupport) throws(LaunchFailure) {
        let dir: String
        if let v2 = support.directory, support.unusableReason == nil {
            dir = v2
            let wanted = [limits.memoryMax != nil ? "+memory" : nil, limits.pidsMax != nil ? "+pids" : nil].compactMap { $0 }
            _ = writeSmallFile(dir + "/cgroup.subtree_control", wanted.joined(separator: " "))
        } else if limits.memoryMax == nil, limits.pidsMax != nil, let v1 = CgroupSupport.v1PidsDirectory() {
            dir = v1 // hybrid system: the v1 pids controller has the same pids.max and cgroup.procs
        } else {
            throw LaunchFailure(stage: .cgroup, errno: EOPNOTSUPP,
                                message: "warden: cgroup: \(support.unusableReason ?? "unusable")")
        }
        path = dir + "/warden-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else {
            let e = errno
            throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot create \(path): \(errnoName(e))")
        }
        for (file, value) in [("memory.max", limits.memoryMax), ("pids.max", limits.pidsMax)] {
            guard let value else { continue }
            let e = writeSmallFile(path + "/" + file, String(value))
            if e != 0 {
                rmdir(path)
                throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot write \(file): \(errnoName(e))")
            }
        }
        let fd = open(path + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            rmdir(path)
            throw LaunchFailure(stage: .cgroup, errno: e, message: "warden: cgroup: cannot open cgroup.procs: \(errnoName(e))")
        }
        procsFd = fd
    }

    func remove() {
        close(procsFd)
        rmdir(path)
    }
}
