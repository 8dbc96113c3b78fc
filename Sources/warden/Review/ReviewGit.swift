#if canImport(Glibc)
import Glibc
#endif

/// Git as the review artifact runs it: only ever on Warden's own bare repository (never on a
/// tree an agent wrote: its config, hooks, attributes, ignore files and nested repositories
/// are all ways to make a host git run code or lie), with no system or global configuration
/// (so no filter, diff or merge driver of the operator's is defined for attributes to name),
/// no hooks, no excludes file of the operator's, and no prompt.
enum ReviewGit {
    static let environment = ["GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0"]
    static let options = ["-c", "core.hooksPath=/dev/null", "-c", "core.excludesFile=/dev/null", "-c", "core.attributesFile=/dev/null",
                          "-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false"]

    /// Runs git on the bare repository `repository`; stdout when it exits with one of `accepted`.
    @discardableResult
    static func run(_ repository: String, _ arguments: [String], limit: Int = 1 << 20, stdin: String = "/dev/null",
                    accepted: Set<Int32> = [0]) throws(FleetError) -> [UInt8] {
        try plain(options + ["--git-dir=" + repository] + arguments, limit: limit, stdin: stdin, accepted: accepted)
    }

    /// Runs git with `arguments` as given (the hardened environment, `options` not added).
    @discardableResult
    static func plain(_ arguments: [String], limit: Int = 1 << 20, stdin: String = "/dev/null", accepted: Set<Int32> = [0]) throws(FleetError) -> [UInt8] {
        let out: HostCommand.Output
        do { out = try HostCommand.run("git", arguments, limit: limit, timeout: .seconds(600), stdin: stdin, environment: environment) } catch {
            throw FleetError(error.description)
        }
        guard accepted.contains(out.status) else {
            let verb = arguments.first { !$0.hasPrefix("-") && !$0.contains("=") } ?? "git"
            throw FleetError("git \(verb) failed (exit \(out.status))" + (out.stderr.isEmpty ? "" : ": \(out.stderr)"))
        }
        return out.stdout
    }

    /// The first word of `bytes` (up to a blank or the end of the line): an object id git printed.
    static func firstWord(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0x0A && $0 != 0x20 && $0 != 0x0D }, as: UTF8.self)
    }
}
