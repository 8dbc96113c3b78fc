import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Prepares a fleet run's workspace, outside the sandbox and before the agent exists: a
/// fresh clone of a git repository (URL or local), or a copy of a plain local directory.
///
/// The operator's credentials stay out of it: a URL's user name and password are removed
/// from the clone's `origin`, hooks are off during the clone (`core.hooksPath=/dev/null`),
/// git may not prompt (`GIT_TERMINAL_PROMPT=0`, set by `warden fleet`), and objects are
/// copied, never hard-linked (`--no-hardlinks`), so the agent cannot reach the source
/// repository's files through its workspace.
enum FleetWorkspace {
    static let cloneTimeout: Duration = .seconds(1800)

    static func prepare(_ repository: FleetRepository, at destination: String) throws(FleetError) {
        switch repository.source {
        case .gitURL(let url):
            try clone(url, to: destination)
            let redacted = FleetRepositoryList.redacted(url)
            if redacted != url { try git(["-C", destination, "remote", "set-url", "origin", redacted]) }
        case .localPath(let path):
            var st = stat()
            guard stat(path, &st) == 0 else { throw FleetError("\(path): \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FleetError("\(path) is not a directory") }
            if isGitRepository(path) {
                try clone(path, to: destination)
            } else {
                try run("cp", ["-a", "-T", "--", path, destination])
            }
        }
    }

    /// A work tree (`.git` inside) or a bare repository (`HEAD` and `objects`).
    static func isGitRepository(_ path: String) -> Bool {
        var st = stat()
        if lstat(path + "/.git", &st) == 0 { return true }
        return lstat(path + "/HEAD", &st) == 0 && lstat(path + "/objects", &st) == 0
    }

    /// Clones `source` into `destination` (hooks off, no `ext::`, no hard links) and, when
    /// given, checks out `commit` detached, fetching it by id when no branch has it (a pull
    /// request from a fork). Also `warden serve`'s `workspace clone`.
    static func clone(_ source: String, to destination: String, commit: String? = nil) throws(FleetError) {
        try git(["-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", "clone", "--no-hardlinks", "--quiet",
                 "--", source, destination])
        guard let commit else { return }
        guard GitObjectID.isValid(commit) else {
            throw FleetError("commit \(TerminalText.escape(commit)) is not a full hexadecimal object id")
        }
        let checkout = ["-C", destination, "-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--detach", commit]
        do { try git(checkout) } catch {
            try git(["-C", destination, "-c", "protocol.ext.allow=never", "fetch", "--quiet", "origin", commit])
            try git(checkout)
        }
    }

    private static func git(_ arguments: [String]) throws(FleetError) { try run("git", arguments) }

    private static func run(_ program: String, _ arguments: [String]) throws(FleetError) {
        let out: HostCommand.Output
        do { out = try HostCommand.run(program, arguments, limit: 1 << 20, timeout: cloneTimeout) } catch {
            throw FleetError(error.description)
        }
        guard out.status == 0 else {
            throw FleetError("\(program) \(arguments.first(where: { !$0.hasPrefix("-") && !$0.contains("=") }) ?? "") failed (exit \(out.status))"
                                + (out.stderr.isEmpty ? "" : ": \(out.stderr)"))
        }
    }
}
