#if canImport(Glibc)
import Glibc
#endif

/// Where the audit log lives when no path is given.
///
/// Order: an explicit path (`--audit-log`), else `$WARDEN_AUDIT_LOG`, else for root
/// `/var/log/warden/audit.jsonl`, else `$XDG_STATE_HOME/warden/audit.jsonl` with
/// `$XDG_STATE_HOME` defaulting to `$HOME/.local/state`.
public enum AuditLocation {
    public static let environmentVariable = "WARDEN_AUDIT_LOG"
    public static let keyEnvironmentVariable = "WARDEN_AUDIT_KEY"
    public static let systemPath = "/var/log/warden/audit.jsonl"

    /// Resolves the log path. `environment` and `uid` default to the process's own. An
    /// explicit empty path is returned as given (writers and readers refuse it) rather than
    /// silently replaced by the default.
    public static func resolve(
        explicit: String?, environment: [String: String]? = nil, uid: UInt32? = nil
    ) -> String {
        if let e = explicit { return e }
        let env: (String) -> String? = { name in
            if let environment { return environment[name] }
            guard let v = getenv(name) else { return nil }
            return String(cString: v)
        }
        if let v = env(environmentVariable), !v.isEmpty { return v }
        if (uid ?? getuid()) == 0 { return systemPath }
        if let state = env("XDG_STATE_HOME"), state.hasPrefix("/") { return state + "/warden/audit.jsonl" }
        let home = env("HOME").flatMap { $0.isEmpty ? nil : $0 } ?? homeFromPasswd() ?? "/"
        return home + "/.local/state/warden/audit.jsonl"
    }

    /// The signing key path from `--signing-key` or `$WARDEN_AUDIT_KEY`, if any. An explicit
    /// empty path is returned as given (loading it fails) rather than meaning "no key".
    public static func signingKeyPath(explicit: String?) -> String? {
        if let e = explicit { return e }
        guard let v = getenv(keyEnvironmentVariable) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    private static func homeFromPasswd() -> String? {
        guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    /// Creates missing parent directories with mode 0700.
    static func createParentDirectories(of path: String) throws(AuditError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        guard !components.isEmpty else { return }
        var current = path.hasPrefix("/") ? "" : "."
        while let c = components.first {
            components = components.dropFirst()
            current += "/" + c
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw .io(path: current, operation: "mkdir", message: FileIO.errnoText(errno))
            }
        }
    }
}

extension AuditLocation {
    /// Paths the agent must not be able to write (the runtime refuses to start a run whose
    /// policy grants write access to any of them or to a parent directory): the log file,
    /// its directory, and the signing key file if any.
    public static func protectedPaths(logPath: String, signingKeyPath: String?) -> [String] {
        var out = [logPath]
        if let slash = logPath.lastIndex(of: "/") {
            let dir = String(logPath[..<slash])
            out.append(dir.isEmpty ? "/" : dir)
        }
        if let k = signingKeyPath { out.append(k) }
        return out
    }
}
