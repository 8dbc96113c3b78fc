import Foundation
import Synchronization
import Testing

/// Builds the escape-probe binary once, and runs it under the real `warden run`.
enum Escape {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let warden = packageRoot + "/.build/debug/warden"
    static let defaultPolicy = packageRoot + "/policies/default.warden"

    /// Why the suite cannot run here, or nil.
    static let unavailable: String? = {
        if !FileManager.default.isExecutableFile(atPath: warden) { return "\(warden) not built (run `make test`)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") { return "no C compiler at /usr/bin/cc" }
        if probe == nil { return "the escape probe did not compile" }
        return nil
    }()

    /// Root with neither a usable cgroup v2 nor a cgroup v1 pids controller: `limit processes`
    /// falls back to RLIMIT_NPROC, which the kernel does not apply to uid 0 (a known gap).
    static let processLimitIsIneffective: Bool = {
        guard geteuid() == 0 else { return false }
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        let v1Pids = mounts.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count >= 4 && f[2] == "cgroup" && f[3].split(separator: ",").contains("pids")
        }
        if v1Pids { return false }
        guard let (_, out) = try? sh(warden, ["doctor"]) else { return true }
        return out.contains("NO  cgroup v2")
    }()

    /// policies/default.warden with one line changed; fails the test if `old` is not there.
    static func defaultPolicy(replacing old: String, with new: String) throws -> String {
        let text = try String(contentsOfFile: defaultPolicy, encoding: .utf8)
        try #require(text.contains(old), "policies/default.warden no longer contains `\(old)`")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// A world-readable temporary directory.
    static func tempDir(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "warden-esc-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    /// The directory of the compiled probe, removed when the test process exits.
    static let builtIn = Mutex<String?>(nil)

    /// The probe, compiled once per test process.
    static let probe: String? = {
        guard let dir = try? tempDir("bin") else { return nil }
        let out = dir + "/escape"
        let (st, log) = (try? sh("/usr/bin/cc", ["-O1", "-pthread", "-o", out, packageRoot + "/Tests/EscapeProbes/escape.c"])) ?? (-1, "")
        if st != 0 { print("escape probe build failed: \(log)"); return nil }
        builtIn.withLock { $0 = dir }
        atexit { if let d = Escape.builtIn.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: d) } }
        return out
    }()

    /// Runs a host tool; returns (status, stdout+stderr).
    @discardableResult
    static func sh(_ path: String, _ args: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// One scratch world for one run: a workspace (with the probe in it), a fake home with a
/// fake SSH key and a shell rc file, a directory outside every grant with a sentinel file,
/// and an audit log in a directory the policy does not grant.
struct Scratch {
    let root: String
    let workspace: String
    let home: String
    let outside: String
    let auditLog: String
    /// A file directly in the temporary directory, beside the scratch root: a regular file in
    /// a directory on the way to the workspace is not masked, so only Landlock guards it.
    let looseFile: String
    var policy: String
    /// The probe's path inside the workspace.
    var probe: String { workspace + "/escape" }

    init(git: Bool = false, policyText: String? = nil, owner: uid_t? = nil) throws {
        root = try Escape.tempDir("run")
        workspace = root + "/ws"
        home = root + "/home"
        outside = root + "/outside"
        let audit = root + "/audit"
        auditLog = audit + "/audit.jsonl"
        // Outside /tmp, whose name the agent sees as its own private directory.
        looseFile = "/var/tmp/" + (root as NSString).lastPathComponent + ".loose"
        let fm = FileManager.default
        for d in [workspace, home + "/.ssh", outside, audit] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        try "-----BEGIN OPENSSH PRIVATE KEY----- fake\n".write(toFile: home + "/.ssh/id_ed25519", atomically: false, encoding: .utf8)
        try "# rc\n".write(toFile: home + "/.bashrc", atomically: false, encoding: .utf8)
        try "sentinel\n".write(toFile: outside + "/sentinel", atomically: false, encoding: .utf8)
        try "loose\n".write(toFile: looseFile, atomically: false, encoding: .utf8)
        // The policy is a copy outside the workspace (with the stock policies it may include),
        // so an escaped write cannot damage the repository's.
        let stock = (Escape.defaultPolicy as NSString).deletingLastPathComponent
        for name in (try? fm.contentsOfDirectory(atPath: stock)) ?? [] where name.hasSuffix(".warden") {
            try? fm.copyItem(atPath: stock + "/" + name, toPath: outside + "/" + name)
        }
        policy = outside + "/policy.warden"
        var text = try policyText ?? String(contentsOfFile: Escape.defaultPolicy, encoding: .utf8)
        if let owner, owner != 0 {
            // Unprivileged, a hybrid host has no memory controller for `limit memory` (the
            // launch is refused); ask by name for the address-space limit it used to become.
            text = text.replacingOccurrences(of: "limit memory", with: "limit address-space")
            for name in (try? fm.contentsOfDirectory(atPath: outside)) ?? [] where name.hasSuffix(".warden") {
                let path = outside + "/" + name
                if let t = try? String(contentsOfFile: path, encoding: .utf8) {
                    try t.replacingOccurrences(of: "limit memory", with: "limit address-space").write(toFile: path, atomically: false, encoding: .utf8)
                }
            }
        }
        try text.write(toFile: policy, atomically: false, encoding: .utf8)
        if let probe = Escape.probe { try fm.copyItem(atPath: probe, toPath: self.probe) }
        if git {
            let env = ["PATH": "/usr/bin:/bin", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1"]
            try Escape.sh("/usr/bin/git", ["init", "-q", workspace], environment: env)
        }
        if let owner {
            try Escape.sh("/bin/chown", ["-R", "\(owner):\(owner)", root, looseFile])
        }
    }

    /// The environment warden runs with: the fake home, a plain PATH.
    var environment: [String: String] {
        ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"]
    }

    struct Run {
        var status: Int32
        var output: String
        /// `VERDICT <attack> <what> <detail>` lines, as (attack, "<what> <detail>").
        var verdicts: [(attack: String, result: String)] {
            output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 2)
                guard parts.count == 3, parts[0] == "VERDICT" else { return nil }
                return (String(parts[1]), String(parts[2]))
            }
        }
        func verdict(_ attack: String) -> String? { verdicts.last { $0.attack == attack }?.result }
    }

    /// `warden run` of `command` in this scratch world.
    /// With `terminal`, warden (and so the agent) runs with a pty as its standard input,
    /// output and error (`script`, standard input /dev/null); the output's CRs are dropped.
    func run(_ command: [String], wardenArgs: [String] = [], asUser: uid_t? = nil, warden: String = Escape.warden,
             shellPrefix: String? = nil, terminal: Bool = false) throws -> Run {
        var args = ["run", "--policy", policy, "--workspace", workspace, "--audit-log", auditLog, "-q",
                    "--timeout", "60s"] + wardenArgs + ["--"] + command
        var exe = warden
        if terminal {
            func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let line = ([exe] + args).map(quoted).joined(separator: " ")
            let (st, out) = try Escape.sh("/bin/sh", ["-c", "exec /usr/bin/script -qec \(quoted(line)) /dev/null </dev/null"],
                                          environment: environment, cwd: workspace)
            return Run(status: st, output: out.replacingOccurrences(of: "\r", with: ""))
        }
        if let prefix = shellPrefix {
            // `sh -c 'PREFIX; exec "$0" "$@"' warden args...`
            args = ["-c", prefix + "; exec \"$0\" \"$@\"", warden] + args
            exe = "/bin/sh"
        }
        if let uid = asUser {
            args = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", exe] + args
            exe = "/usr/bin/setpriv"
        }
        let (st, out) = try Escape.sh(exe, args, environment: environment, cwd: workspace)
        return Run(status: st, output: out)
    }

    /// The probe under warden: `escape <attack> args...`.
    func attack(_ attack: String, _ args: [String] = [], wardenArgs: [String] = [], asUser: uid_t? = nil,
                warden: String = Escape.warden, shellPrefix: String? = nil, terminal: Bool = false) throws -> Run {
        try run([probe, attack] + args, wardenArgs: wardenArgs, asUser: asUser, warden: warden, shellPrefix: shellPrefix,
                terminal: terminal)
    }

    /// The `deny.syscall` records of the audit log, as raw JSON lines.
    func deniedSyscalls() -> [String] {
        guard let text = try? String(contentsOfFile: auditLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter { $0.contains("\"deny.syscall\"") }
    }

    /// Whether the audit log has a `deny.syscall` record for `name`.
    func auditDenied(_ name: String) -> Bool {
        deniedSyscalls().contains { $0.contains("\"name\":\"\(name)\"") }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: looseFile)
    }
}
