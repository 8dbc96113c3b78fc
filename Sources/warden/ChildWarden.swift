#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A child Warden this process starts and waits for (a fleet's or a server's `warden run`):
/// standard input `/dev/null`, standard output and error into `output`.
enum ChildWarden {
    /// Spawns `path ARGUMENTS` and waits; its exit status (128+N when killed by signal N).
    ///
    /// `admit` gets the spawn to run under the caller's lock, so a stop arriving meanwhile
    /// finds the pid registered (or prevents the start: return `(0, ECANCELED)`, which throws
    /// `canceled`). `forget` is called, after the child exited but before it is reaped, to
    /// unregister it: a stop can never reach a process that was given the pid afterwards.
    static func run(_ path: String, _ arguments: [String], output: String, canceled: String,
                    admit: (_ spawn: () -> (pid: pid_t, rc: Int32)) -> (pid: pid_t, rc: Int32),
                    forget: () -> Void) throws(FleetError) -> Int32 {
        let out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard out >= 0 else { throw FleetError("cannot create \(output): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, out, 2)
        // `warden run` learns who its parent is meant to be (see `RunOriginOptions.parentPID`).
        let tied = arguments.first == "run" ? ["run", "--parent-pid", String(getpid())] + arguments.dropFirst() : arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([path] + tied).map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let (pid, rc) = admit {
            var pid: pid_t = 0
            let rc = ChildSpawn.withAttributes { posix_spawn(&pid, path, &actions, &$0, &cArgs, environ) }
            return (pid, rc)
        }
        guard rc == 0 else {
            if rc == ECANCELED { throw FleetError(canceled) }
            throw FleetError("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
        forget()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
