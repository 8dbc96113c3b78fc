import Foundation
import Testing

/// Everything the broker end-to-end tests need outside the sandbox, all on loopback: a test
/// PKI (Tests/WardenCLITests/BrokerFixtures/make-certs.sh), a recording HTTPS upstream with
/// two ports (the first brokered, the second reached directly), optionally a git smart-HTTP
/// upstream over TLS with a bare repository `acme/app.git`, and a DNS upstream answering the
/// test names with 127.0.0.1. `run` launches `warden run` with Warden's environment set up
/// for them (`WARDEN_BROKER_UPSTREAM_CA`, `WARDEN_DNS_UPSTREAM`,
/// `WARDEN_DNS_ALLOW_LOCAL_ANSWERS`, the secret in `WARDEN_E2E_TOKEN`).
final class BrokerWorld: @unchecked Sendable {
    static let fixtures = WardenBinary.root + "/Tests/WardenCLITests/BrokerFixtures"
    static let python = "/usr/bin/python3"
    static let dnsHost = "127.0.0.23"
    /// The names the fixtures serve; the DNS upstream answers each with 127.0.0.1.
    static let names = ["api.broker.test", "git.broker.test", "other.broker.test", "slow.broker.test"]

    /// Why the broker end-to-end tests cannot run here, or nil.
    static var skipReason: String? {
        if let reason = NetFixture.skipReason { return reason }
        for tool in ["/usr/bin/openssl", python, "/usr/bin/git", "/usr/lib/git-core/git-http-backend"]
            where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (scripts/setup.sh installs it)"
        }
        return nil
    }

    /// Host-only directory: certificates, server logs, the bare repository. Never granted to the agent.
    let dir: String
    /// The agent's workspace.
    let workspace: String
    let certs: String
    /// The secret's value. It must reach the upstream servers and never the agent.
    let token: String
    let http: FixtureServer
    let git: FixtureServer?
    let dns: DNSUpstreamRecorder
    var apiPort: UInt16 { http.ports[0] }
    var directPort: UInt16 { http.ports[1] }
    var gitPort: UInt16 { git?.ports[0] ?? 0 }
    var bareRepository: String { dir + "/git/acme/app.git" }
    var httpLog: String { dir + "/https.jsonl" }
    var gitLog: String { dir + "/git.jsonl" }
    var auditLog: String { workspace + ".audit.jsonl" }

    init(tag: String, withGit: Bool = false) throws {
        dir = try NetFixture.tempDir("broker-\(tag)-host")
        chmod(dir, 0o700)
        workspace = try NetFixture.tempDir("broker-\(tag)")
        certs = dir + "/pki"
        token = "ghs_e2e" + (0..<5).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()
        let (st, log) = try NetFixture.sh("/bin/sh", [Self.fixtures + "/make-certs.sh", certs])
        try #require(st == 0, "make-certs.sh failed: \(log)")
        // The agent may bring the other CAs and the upstream's certificate (to pin it); not the keys.
        for name in ["agent-ca.pem", "ca.pem", "server.pem"] {
            try FileManager.default.copyItem(atPath: certs + "/" + name, toPath: workspace + "/" + name)
        }
        http = try FixtureServer(Self.python, [Self.fixtures + "/https_server.py", "--cert", certs + "/server.pem",
                                               "--key", certs + "/server.key", "--log", dir + "/https.jsonl",
                                               "--ports", "2", "--token", token])
        if withGit {
            try Self.makeBareRepository(dir + "/git/acme/app.git", scratch: dir + "/seed")
            git = try FixtureServer(Self.python, [Self.fixtures + "/git_server.py", "--cert", certs + "/server.pem",
                                                  "--key", certs + "/server.key", "--root", dir + "/git",
                                                  "--log", dir + "/git.jsonl", "--auth", "x-access-token:" + token])
        } else {
            git = nil
        }
        var records: [String: [[UInt8]]] = [:]
        for name in Self.names { records[name] = [[127, 0, 0, 1]] }
        dns = try DNSUpstreamRecorder(Self.dnsHost, records: records)
    }

    /// Stops the servers and removes the world's files (kept, with the agent's output in
    /// `agent.out`, when WARDEN_KEEP_BROKER_E2E=1).
    func stop() {
        http.stop()
        git?.stop()
        dns.stop()
        if ProcessInfo.processInfo.environment["WARDEN_KEEP_BROKER_E2E"] == "1" {
            print("broker e2e: kept \(dir) and \(workspace)")
            return
        }
        for path in [dir, workspace, auditLog] { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A bare repository with one commit on main, accepting pushes over smart HTTP.
    static func makeBareRepository(_ path: String, scratch: String) throws {
        let git = "/usr/bin/git"
        let env = ["PATH": "/usr/bin:/bin", "HOME": scratch, "GIT_CONFIG_NOSYSTEM": "1",
                   "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@broker.test",
                   "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@broker.test"]
        try FileManager.default.createDirectory(atPath: scratch + "/work", withIntermediateDirectories: true)
        try "seed\n".write(toFile: scratch + "/work/README", atomically: true, encoding: .utf8)
        for args in [["init", "-q", "--bare", "-b", "main", path],
                     ["-C", path, "config", "http.receivepack", "true"],
                     ["-C", scratch + "/work", "init", "-q", "-b", "main"],
                     ["-C", scratch + "/work", "add", "README"],
                     ["-C", scratch + "/work", "commit", "-qm", "seed"],
                     ["-C", scratch + "/work", "push", "-q", path, "main"]] {
            let (st, log) = try NetFixture.sh(git, args, env: env)
            let command = args.joined(separator: " ")
            try #require(st == 0, "git \(command): \(log)")
        }
    }

    /// `git for-each-ref` of the bare repository, seen from the host: ref -> object id.
    func refs() throws -> [String: String] {
        let (st, out) = try NetFixture.sh("/usr/bin/git", ["-C", bareRepository, "for-each-ref", "--format=%(refname) %(objectname)"],
                                          env: ["PATH": "/usr/bin:/bin", "HOME": dir])
        try #require(st == 0, "\(out)")
        var refs: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { refs[String(parts[0])] = String(parts[1]) }
        }
        return refs
    }

    /// The `secret` declaration and an identity `agent` holding the toolchain, the workspace,
    /// `${tmp}`, and `rules`; `PORT`, `DIRECT` and `GITPORT` in `rules` become the fixture ports.
    func policy(_ rules: String, top: String = "") throws -> String {
        let filled = rules.replacingOccurrences(of: "GITPORT", with: String(gitPort))
            .replacingOccurrences(of: "DIRECT", with: String(directPort))
            .replacingOccurrences(of: "PORT", with: String(apiPort))
        let text = """
        warden 1
        secret gh-token from env "WARDEN_E2E_TOKEN"
        \(top)
        identity agent {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64", "/sbin"
          allow fs read "/etc"
          allow fs read, write, exec "${workspace}"
          allow fs read, write "${tmp}"
          allow syscall @default
        \(filled)
          env pass PATH, HOME
          env set LANG = "C.UTF-8"
          env set GIT_TERMINAL_PROMPT = "0"
          limit wall-time 5m
        }

        """
        let path = dir + "/policy.warden"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Warden's own environment for a run against these fixtures.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "/usr/bin:/bin"
        env["WARDEN_E2E_TOKEN"] = token
        env["WARDEN_BROKER_UPSTREAM_CA"] = certs + "/ca.pem"
        env["WARDEN_DNS_UPSTREAM"] = "\(Self.dnsHost):\(dns.port)"
        env["WARDEN_DNS_ALLOW_LOCAL_ANSWERS"] = "1"
        env["WARDEN_IDENTITY_KEYS"] = dir + "/identity-keys"  // this world's issuer keys, read back by `warden identity jwks`
        for (k, v) in extra { env[k] = v }
        return env
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        /// `key=value` lines of stdout (the last one wins).
        var values: [String: String]
        var all: String { stdout + stderr }
    }

    /// `warden run` of the agent script `fixture` (from BrokerFixtures, copied into the
    /// workspace; `.py` runs with python3, others with sh) with `arguments`, killed after `timeout`.
    func run(_ fixture: String, _ arguments: [String], policy: String, timeout: Double = 90) throws -> Run {
        let script = workspace + "/" + fixture
        try? FileManager.default.removeItem(atPath: script)
        try FileManager.default.copyItem(atPath: Self.fixtures + "/" + fixture, toPath: script)
        let interpreter = fixture.hasSuffix(".py") ? Self.python : "/bin/sh"
        let args = ["run", "--policy", policy, "--workspace", workspace, "--audit-log", auditLog, "-q", "--",
                    interpreter, script] + arguments
        let r = try TimedProcess.run(NetFixture.binary, args, cwd: workspace, environment: environment(), timeout: timeout)
        var values: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            if let eq = line.firstIndex(of: "=") { values[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
        }
        try? (r.stdout + "\n--- stderr\n" + r.stderr).write(toFile: dir + "/agent.out", atomically: true, encoding: .utf8)
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr, values: values)
    }

    /// JSON lines of a fixture log.
    static func jsonLines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Requests the HTTPS upstream received whose target starts with `prefix`.
    func upstreamRequests(_ prefix: String = "") -> [[String: Any]] {
        Self.jsonLines(httpLog).filter { ($0["target"] as? String)?.hasPrefix(prefix) == true }
    }

    /// Values of header `name` (case-insensitive) in a logged request.
    static func headerValues(_ request: [String: Any], _ name: String) -> [String] {
        ((request["headers"] as? [[String]]) ?? []).filter { $0.count == 2 && $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }

    /// The run's audit records of `kind`, their `fields`.
    func audit(_ kind: String) -> [[String: Any]] {
        Self.jsonLines(auditLog).filter { ($0["kind"] as? String) == kind }.map { ($0["fields"] as? [String: Any]) ?? [:] }
    }

    /// Every form the secret could leak in: itself, base64 of the basic credentials, hex.
    var secretForms: [[UInt8]] {
        let basic = Data("x-access-token:\(token)".utf8).base64EncodedString()
        return [Array(token.utf8), Array(basic.utf8), Array(token.utf8.map { String(format: "%02x", $0) }.joined().utf8)]
    }

    /// Files under `root` (recursively) whose bytes contain a form of the secret.
    func filesHoldingSecret(under root: String) -> [String] {
        var hits: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return hits }
        for case let rel as String in walker {
            let path = root + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            if secretForms.contains(where: { data.range(of: Data($0)) != nil }) { hits.append(rel) }
        }
        return hits
    }

    func containsSecret(_ text: String) -> Bool {
        secretForms.contains { text.utf8.count >= $0.count && Data(text.utf8).range(of: Data($0)) != nil }
    }
}

/// A fixture server (a Python script) that prints `port=P` lines then `ready`, and runs until
/// its stdin closes.
final class FixtureServer: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    private(set) var ports: [UInt16] = []

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        var buffer = ""
        let handle = out.fileHandleForReading
        while !buffer.contains("ready\n") {
            let data = handle.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
        }
        try #require(buffer.contains("ready\n"), "fixture \(arguments.first ?? "") did not start: \(buffer)")
        ports = buffer.split(separator: "\n").compactMap { $0.hasPrefix("port=") ? UInt16($0.dropFirst(5)) : nil }
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// Runs a program with output in files and a deadline (SIGTERM, then SIGKILL 5 s later).
enum TimedProcess {
    static func run(_ executable: String, _ arguments: [String], cwd: String, environment: [String: String],
                    timeout: Double) throws -> (status: Int32, stdout: String, stderr: String, seconds: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        let capture = try OutputCapture(attachedTo: p)
        defer { capture.remove() }
        let start = Date()
        try p.run()
        let pid = p.processIdentifier
        let deadline = DispatchWorkItem {
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { kill(pid, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
        p.waitUntilExit()
        deadline.cancel()
        var (stdout, stderr) = try capture.read()
        if Date().timeIntervalSince(start) >= timeout { stderr += "\n[test: killed after \(Int(timeout)) s]" }
        return (p.terminationStatus, stdout, stderr, Date().timeIntervalSince(start))
    }
}
