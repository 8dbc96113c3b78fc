#if canImport(Glibc)
import Glibc
#endif

/// A read-only file Warden gives the agent (its identity token, a trigger's event): written
/// into the run directory with mode 0444 and shown at `/run/warden/<name>` through a
/// read-only bind, unless a grant covers that path; then at `/tmp/.warden/<name>` in the
/// run's own `${tmp}` when the agent has one. An environment variable names where it is.
struct RunFile {
    /// The directory in the agent's world that holds these files.
    static let mountedDirectory = "/run/warden"

    var name: String
    var bytes: [UInt8]
    /// The variable that tells the agent the file's path.
    var environmentVariable: String
    /// What the file is, for error messages ("identity token").
    var what: String

    var mountedPath: String { Self.mountedDirectory + "/" + name }
    var tmpRelativePath: String { ".warden/" + name }

    /// Writes the file and shows it to the agent: adds the mount (or writes into `${tmp}`), a
    /// Landlock read rule and the environment variable to `plan`. Returns the agent's path,
    /// or nil when its world has neither a free `/run/warden` nor a private `/tmp`.
    func install(runDirectory: String, plan: inout AgentLaunchPlan) throws(RunSetupError) -> String? {
        let covered = plan.world.grants.contains { $0.path == "/" ? HostPath.isAbsolute(mountedPath) : HostPath.isBelow(mountedPath, $0.path) }
            || plan.world.symlinks.contains { HostPath.isBelow(mountedPath, $0.path) }
        let agentPath: String
        if !covered {
            let file = runDirectory + "/" + name
            try write(file)
            plan.spec.mounts.append(.grant(path: mountedPath, source: file, writable: false, exec: false))
            plan.spec.landlock?.rules.append(.init(path: mountedPath, access: .read))
            agentPath = mountedPath
        } else if plan.world.grants.contains(where: { $0.path == AgentWorld.agentTmp }) {
            let dir = plan.hostTmp + "/.warden"
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw RunSetupError("\(what): cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            try write(plan.hostTmp + "/" + tmpRelativePath)
            agentPath = AgentWorld.agentTmp + "/" + tmpRelativePath
        } else {
            return nil
        }
        plan.spec.environment.removeAll { $0.hasPrefix(environmentVariable + "=") }
        plan.spec.environment.append(environmentVariable + "=" + agentPath)
        return agentPath
    }

    /// Creates `path` (never through a link, never over an existing file) with the bytes, mode 0444.
    func write(_ path: String) throws(RunSetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw RunSetupError("\(what): cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RunSetupError("\(what): cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        _ = fchmod(fd, 0o444)
    }
}
