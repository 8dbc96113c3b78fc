import CLauncher
import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `secret ... from command` program: posix_spawn without a shell, as the operator
/// (Warden's own user and environment), in its own process group, stdin `/dev/null`,
/// stdout read into memory (at most `limit` bytes), stderr kept (bounded) for the error
/// message, killed with SIGKILL (its whole process group) after `timeout`. Exit status 0
/// is required.
enum SecretCommand {
    /// Bytes of stderr kept for an error message.
    static let stderrLimit = 2048

    static func run(_ argv: [String], timeout: Duration, limit: Int) throws(SecretSource.Refusal) -> [UInt8] {
        guard let program = argv.first, program.hasPrefix("/") else {
            throw .init(reason: "the program must be an absolute path")
        }
        guard let (outPipe, errPipe) = ChildOutput.pipes() else { throw .init(reason: "pipe: \(String(cString: strerror(errno)))") }
        var parentEnds = [outPipe[0], errPipe[0]]
        defer { for fd in parentEnds where fd >= 0 { close(fd) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Nothing else of Warden's (audit log, listening sockets) reaches the program: every
        // descriptor above 2 is closed in the child (closefrom: no list to race with other
        // threads opening descriptors).
        // It runs in `/`, never in Warden's working directory (often the agent's workspace),
        // so a relative path in its arguments cannot name a file the agent planted.
        let moving = warden_spawn_chdir(&actions, "/")
        guard moving == 0 else { throw .init(reason: "cannot prepare the command's directory: \(String(cString: strerror(moving)))") }
        let closing = warden_spawn_closefrom(&actions, 3)
        guard closing == 0 else { throw .init(reason: "cannot prepare the command's descriptors: \(String(cString: strerror(closing)))") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills what it started too; default signal
        // dispositions and an empty mask (Warden may block signals in its threads).
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, &attributes, &cArgs, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else { throw .init(reason: "cannot start \(TerminalText.escape(program)): \(String(cString: strerror(rc)))") }

        let got = ChildOutput.collect(pid: pid, ends: &parentEnds, limit: limit, stderrLimit: stderrLimit, timeout: timeout,
                                      bufferSize: 16384)
        let (status, timedOut, tooLarge, stdout, stderr) = (got.status, got.timedOut, got.tooLarge, got.stdout, got.stderr)
        // Whatever the program left behind in its group goes too.
        kill(-pid, SIGKILL)
        // Error messages say what happened, never what stdout held (it may be the secret).
        if timedOut { throw .init(reason: "the command did not finish within \(timeout.components.seconds) s and was killed") }
        if tooLarge { throw .init(reason: "the command wrote more than \(limit) bytes to stdout and was killed") }
        let signalled = status & 0x7f
        if signalled != 0 {
            throw .init(reason: "the command was killed by signal \(signalled)" + describe(stderr))
        }
        let code = (status >> 8) & 0xff
        guard code == 0 else { throw .init(reason: "the command exited with status \(code)" + describe(stderr)) }
        return stdout
    }

    /// `; stderr: "..."` with the program's stderr made safe for a terminal (its last line
    /// that is not empty, at most 200 characters), or nothing.
    static func describe(_ stderr: [UInt8]) -> String {
        let lines = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline)
        guard let last = lines.last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return "" }
        return "; stderr: \"" + TerminalText.escape(String(last), maxScalars: 200) + "\""
    }
}
