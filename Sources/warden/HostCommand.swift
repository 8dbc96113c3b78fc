import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a host program (`git`, `cp`) with an argument vector (posix_spawnp, never a shell):
/// stdin `/dev/null` (or the file `stdin`), stdout read into memory up to `limit` bytes
/// (more: killed and refused), stderr kept (bounded) for the message, killed after
/// `timeout`; the environment is Warden's, with `environment` (`NAME=value`) set over it.
enum HostCommand {
    static let stderrLimit = 2048

    struct Output { var status: Int32; var stdout: [UInt8]; var stderr: String }

    static func run(_ program: String, _ arguments: [String], limit: Int, timeout: Duration = .seconds(60),
                    stdin: String = "/dev/null", environment: [String] = []) throws(GitError) -> Output {
        guard let (outPipe, errPipe) = ChildOutput.pipes() else { throw GitError(description: "pipe: \(String(cString: strerror(errno)))") }
        var parentEnds = [outPipe[0], errPipe[0]]
        defer { for fd in parentEnds where fd >= 0 { close(fd) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY | O_NOFOLLOW, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = [program] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc: Int32
        if environment.isEmpty {
            rc = ChildSpawn.withAttributes { posix_spawnp(&pid, program, &actions, &$0, &cArgs, environ) }
        } else {
            let names = Set(environment.map { $0.prefix { $0 != "=" } })
            var inherited: [String] = []
            var p = environ
            while let entry = p.pointee {
                let text = String(cString: entry)
                if !names.contains(text.prefix { $0 != "=" }) { inherited.append(text) }
                p += 1
            }
            var cEnv: [UnsafeMutablePointer<CChar>?] = (inherited + environment).map { strdup($0) } + [nil]
            defer { for e in cEnv { free(e) } }
            rc = ChildSpawn.withAttributes { posix_spawnp(&pid, program, &actions, &$0, &cArgs, &cEnv) }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else { throw GitError(description: "cannot run \(program): \(String(cString: strerror(rc))) (is it installed and on PATH?)") }

        let got = ChildOutput.collect(pid: pid, ends: &parentEnds, limit: limit, stderrLimit: stderrLimit, timeout: timeout)
        let (status, timedOut, tooLarge, stdout, stderr) = (got.status, got.timedOut, got.tooLarge, got.stdout, got.stderr)
        let command = argv.map { TerminalText.escape($0) }.joined(separator: " ")
        if timedOut { throw GitError(description: "`\(command)` did not finish within \(timeout.components.seconds) s") }
        if tooLarge { throw GitError(description: "`\(command)` printed more than \(BoundedFileReader.describe(bytes: limit))") }
        if status & 0x7f != 0 { throw GitError(description: "`\(command)` was killed by signal \(status & 0x7f)") }
        let lines = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline)
        let last = lines.last(where: { !$0.allSatisfy(\.isWhitespace) }).map { TerminalText.escape(String($0), maxScalars: 300) } ?? ""
        return Output(status: (status >> 8) & 0xff, stdout: stdout, stderr: last)
    }
}

/// The attributes of every child Warden starts itself (git, cp, the runs of a fleet): no
/// signal blocked whatever this process blocks, SIGINT, SIGTERM, SIGHUP and SIGPIPE at
/// their defaults, and a process group of its own, so a Ctrl-C on the terminal reaches
/// Warden, which decides what its children get.
enum ChildSpawn {
    static func withAttributes<T>(_ body: (inout posix_spawnattr_t) -> T) -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        return body(&attributes)
    }
}
