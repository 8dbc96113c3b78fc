import Foundation
import Testing
import WardenAudit
import WardenKubernetes
import WardenPolicy
@testable import WardenServe
import WardenTestSupport

/// The pieces the Kubernetes executor's tests share: a policy (the stock default identity,
/// its files under `stock/`, and a trigger), a real audit chain made by running `warden run`
/// here under that policy with the run's trigger, decision and event, a signing key for the
/// server's log, and a fake API server (Tests/ExportChecks/fake_kube_api.py) on loopback.
final class KubeWorld: @unchecked Sendable {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static let warden = root + "/.build/debug/warden"
    static let decision = "0123456789abcdef"
    static let token = "k8s-test-token-0123456789"

    let dir = StoreTempDir()
    var policyPath: String { dir.path + "/agents.warden" }
    var chainPath: String { dir.path + "/pod-chain.jsonl" }
    var serverLog: String { dir.path + "/server-audit.jsonl" }
    var requestsPath: String { dir.path + "/requests.jsonl" }
    var keyPath: String { dir.path + "/server-key.key" }
    var publicKeyPath: String { dir.path + "/server-key.pub" }
    let event: [UInt8]
    private var server: Process?

    init(command: String = "echo hi from the pod", eventNote: String = "a note") throws {
        let doc: AuditValue = ["source": "manual", "trigger": "k8s-build", "note": .string(eventNote)]
        event = Array(doc.jsonText.utf8)
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.path + "/stock", withIntermediateDirectories: true)
        for f in ["default.warden", "base.warden"] {
            try fm.copyItem(atPath: Self.root + "/policies/" + f, toPath: dir.path + "/stock/" + f)
        }
        try """
        warden 1
        include "stock/default.warden"

        trigger k8s-build {
          identity default
          on manual
          by "root"
          workspace empty
          run "sh", "-c", \(Self.quoted(command))
        }

        """.write(toFile: policyPath, atomically: true, encoding: .utf8)
        try Data(event).write(to: URL(fileURLWithPath: dir.path + "/event.json"))
    }

    deinit { stopServer() }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Runs the built `warden` (status, stderr).
    static func runWarden(_ arguments: [String], in directory: String) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: warden)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The pod's chain: `warden run` here, as the pod would run it.
    func makeChain() throws {
        let workspace = dir.path + "/workspace"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let (status, err) = try Self.runWarden(["run", "--policy", policyPath, "--identity", "default", "--workspace", workspace, "--quiet",
                                                "--trigger", "k8s-build", "--trigger-decision", Self.decision,
                                                "--event", dir.path + "/event.json", "--audit-log", chainPath,
                                                "--", "sh", "-c", "echo hi from the pod"], in: dir.path)
        #expect(status == 0, "warden run: \(err)")
        let (k, kerr) = try Self.runWarden(["audit", "keygen", "--output", dir.path + "/server-key"], in: dir.path)
        #expect(k == 0, "keygen: \(kerr)")
    }

    /// Starts the fake API server in `mode`; returns its URL.
    func startServer(mode: String, exit: Int = 0, polls: Int = 1) throws -> String {
        let config: [String: Any] = ["requests": requestsPath, "mode": mode, "chain": chainPath, "exit": exit, "polls": polls]
        let configPath = dir.path + "/fake-\(mode).json"
        let (process, url) = try FakePeer.start(script: Self.root + "/Tests/ExportChecks/fake_kube_api.py", config: config, configPath: configPath)
        server = process
        return url
    }

    func stopServer() {
        // SIGKILL: the test process's children may inherit a blocked SIGTERM.
        if let server, server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        server = nil
    }

    /// The executor, talking to `url` through the real HTTP client.
    func executor(url: String, policyFile: String? = nil, poll: Int64 = 50, attempts: Int = 3) throws -> KubernetesExecutor {
        try Self.token.write(toFile: dir.path + "/token", atomically: true, encoding: .utf8)
        let connection = KubernetesConnection(server: url, namespace: "agents", tokenFile: dir.path + "/token", caFile: nil)
        let client = try KubernetesHTTPClient(connection: connection, requestTimeoutSeconds: 5)
        let analysis = try PolicyLoader().analyze(policyFile ?? policyPath)
        let policy = ServePolicy(path: policyFile ?? policyPath, triggers: analysis.policy.triggers, secrets: [:])
        let settings = KubernetesExecutor.Settings(namespace: "agents", image: "registry.example.org/warden:1.0",
                                                   pollMilliseconds: poll, pollAttempts: attempts)
        try FileManager.default.createDirectory(atPath: dir.path + "/state/runs", withIntermediateDirectories: true)
        return KubernetesExecutor(api: client, settings: settings, stateDirectory: dir.path + "/state",
                                  recorder: RemoteRunRecorder(logPath: serverLog, signingKeyPath: keyPath), policy: { policy })
    }

    func queuedRun(id: Int64 = 7, trigger: String = "k8s-build", decision: String = KubeWorld.decision,
                   repository: String? = nil, commit: String? = nil, cloneURL: String? = nil) -> QueuedRun {
        QueuedRun(id: id, trigger: trigger, identity: "default", source: "manual", repository: repository, deliveryID: nil,
                  decision: decision, commit: commit, cloneURL: cloneURL, eventDocument: event, state: .running,
                  enqueuedAt: 0, startedAt: 0, finishedAt: nil, runID: nil, exitCode: nil, error: nil, workspace: nil)
    }

    /// Every request the fake server received, in order.
    func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: requestsPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The `run.remote` records of the server's log.
    func remoteRecords() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: serverLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["kind"] as? String == "run.remote" }
    }

    /// Runs check_k8s.py on `documents` (JSON objects), then check_k8s_openapi.py; (status, output).
    func checkObjects(_ documents: [Any], expect: String) throws -> (Int32, String) {
        let path = dir.path + "/objects-\(UUID().uuidString.prefix(6)).yaml"
        let text = try documents.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n---\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Self.root + "/Tests/ExportChecks/check_k8s.py", "--expect", expect, path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return (p.terminationStatus, String(decoding: data, as: UTF8.self)) }
        // And against the API's OpenAPI schema of two releases (skipped, said, without the wheels).
        let wheels = ProcessInfo.processInfo.environment["WARDEN_K8S_OPENAPI_WHEELS"] ?? "/var/cache/warden-tests/kubernetes-openapi"
        let q = Process()
        q.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        q.arguments = [Self.root + "/Tests/ExportChecks/check_k8s_openapi.py", "--wheels", wheels, "--expect", expect, path]
        let qOut = Pipe()
        q.standardOutput = qOut
        try q.run()
        let qData = qOut.fileHandleForReading.readDataToEndOfFile()
        q.waitUntilExit()
        let output = String(decoding: data + qData, as: UTF8.self)
        if q.terminationStatus == 77 { print(String(decoding: qData, as: UTF8.self)); return (0, output) }
        return (q.terminationStatus, output)
    }
}
