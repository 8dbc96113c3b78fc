import Foundation
import Testing
import WardenAudit
import WardenKubernetes
@testable import WardenServe

/// `warden serve --executor kubernetes` against a fake API server on loopback, with a real
/// audit chain made by `warden run` under the same policy, trigger, decision and event.
@Suite(.serialized) struct KubernetesExecutorTests {
    /// The run's chain comes back, verifies, and is recorded as one signed `run.remote` in the
    /// server's log (which `warden audit verify` then passes); the objects pass check_k8s.py;
    /// the ConfigMap is deleted and the Job left to its TTL.
    @Test func successRecordsTheVerifiedChain() throws {
        let w = try KubeWorld()
        try w.makeChain()
        let url = try w.startServer(mode: "ok", polls: 2)
        let outcome = try w.executor(url: url).launch(w.queuedRun())
        let chainRun = try #require(CLIChain.runID(w.chainPath))
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.exitCode == 0 && outcome.runID == chainRun && !outcome.interrupted, "\(outcome)")

        let records = w.remoteRecords()
        #expect(records.count == 1)
        let rec = try #require(records.first)
        let f = try #require(rec["fields"] as? [String: Any])
        #expect(rec["run"] as? String == chainRun)
        #expect(f["verified"] as? Bool == true && f["outcome"] as? String == "finished", "\(f)")
        #expect(f["exit_code"] as? Int == 0 && f["queue_id"] as? Int == 7 && f["namespace"] as? String == "agents")
        let chainBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: w.chainPath)))
        #expect(f["chain_sha256"] as? String == Digest.sha256Hex(chainBytes))
        let lines = chainBytes.split(separator: 0x0A)
        #expect(f["chain_records"] as? Int == lines.count)
        #expect(f["chain_head"] as? String == Digest.sha256Hex(Array(try #require(lines.last))))
        let inline = try #require(f["records"] as? [[String: Any]])
        #expect(inline.count == lines.count && inline.first?["kind"] as? String == "run.start" && inline.last?["kind"] as? String == "run.exit")

        let (verify, err) = try KubeWorld.runWarden(["audit", "verify", w.serverLog, "--public-key", w.publicKeyPath], in: w.dir.path)
        #expect(verify == 0, "warden audit verify on the server's log: \(err)")

        let requests = w.requests()
        let calls = requests.map { "\($0["method"]!) \(($0["path"] as! String).split(separator: "?")[0])" }
        let name = "warden-run-7-"
        #expect(calls.first == "POST /api/v1/namespaces/agents/configmaps")
        #expect(calls.dropFirst().first == "POST /apis/batch/v1/namespaces/agents/jobs")
        #expect(calls.filter { $0.hasPrefix("GET /apis/batch/v1/namespaces/agents/jobs/\(name)") }.count == 3)
        #expect(calls.contains { $0.hasPrefix("GET /api/v1/namespaces/agents/pods/\(name)") && $0.hasSuffix("/log") })
        #expect(calls.last?.hasPrefix("DELETE /api/v1/namespaces/agents/configmaps/\(name)") == true, "\(calls)")
        #expect(!calls.contains { $0.hasPrefix("DELETE /apis/batch") }, "the Job is left to its TTL")
        #expect(requests.allSatisfy { $0["authorization"] as? String == "Bearer " + KubeWorld.token })

        let configMap = try #require(requests.first?["body"] as? [String: Any])
        let job = try #require(requests.dropFirst().first?["body"] as? [String: Any])
        let (check, log) = try w.checkObjects([configMap, job], expect: "ConfigMap,Job")
        if check != 77 { #expect(check == 0, "\(log)") }
        // The ConfigMap carries the policy's three files and the exact event.
        let data = try #require(configMap["data"] as? [String: String])
        #expect(data["event.json"].map { Array($0.utf8) } == w.event)
        #expect(Set(data.keys) == ["event.json", "policy-0", "policy-1", "policy-2"])
        let spec = try #require((job["spec"] as? [String: Any]))
        #expect(spec["backoffLimit"] as? Int == 0 && spec["ttlSecondsAfterFinished"] as? Int == 3600)
        // No --timeout: the identity's `limit wall-time 30m` plus the setup allowance.
        #expect(spec["activeDeadlineSeconds"] as? Int == 1800 + 600)
        let labels = try #require((job["metadata"] as? [String: Any])?["labels"] as? [String: String])
        #expect(labels["warden-queue-id"] == "7" && labels["warden-trigger"] == "k8s-build" && labels["warden-identity"] == "default")
        let output = try String(contentsOfFile: w.dir.path + "/state/runs/7/output.log", encoding: .utf8)
        #expect(output == "hello from the agent\n")
    }

    /// One byte of the pod's chain edited: refused, recorded as refused (never as verified),
    /// and the run fails with the reason.
    @Test func aTamperedChainIsRefusedAndRecorded() throws {
        let w = try KubeWorld()
        try w.makeChain()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: w.chainPath)))
        let at = try #require(bytes.firstRange(of: Array("\"identity\":\"default\"".utf8))).lowerBound + 13
        bytes[at] = UInt8(ascii: "D")  // "default" -> "Default"
        try Data(bytes).write(to: URL(fileURLWithPath: w.chainPath))
        let url = try w.startServer(mode: "ok")
        let outcome = try w.executor(url: url).launch(w.queuedRun())
        #expect(outcome.runID == nil && outcome.exitCode == nil && outcome.state == .failed, "\(outcome)")
        #expect(outcome.error?.contains("refused") == true && outcome.error?.contains("does not verify") == true, "\(outcome)")
        let f = try #require(w.remoteRecords().first?["fields"] as? [String: Any])
        #expect(f["verified"] as? Bool == false && f["outcome"] as? String == "refused", "\(f)")
        #expect(f["records"] == nil && f["pod_run"] == nil)
        #expect(w.remoteRecords().first?["run"] as? String == KubeWorld.decision)
        let (verify, err) = try KubeWorld.runWarden(["audit", "verify", w.serverLog, "--public-key", w.publicKeyPath], in: w.dir.path)
        #expect(verify == 0, "\(err)")
    }

    /// A valid chain of another run (a replay: here, of another decision) is refused: the
    /// chain must be the queued run's own.
    @Test func aChainOfAnotherRunIsRefused() throws {
        let w = try KubeWorld()
        try w.makeChain()
        let url = try w.startServer(mode: "ok")
        let outcome = try w.executor(url: url).launch(w.queuedRun(decision: "fedcba9876543210"))
        #expect(outcome.exitCode == nil && outcome.error?.contains("trigger_decision") == true, "\(outcome)")
        let f = try #require(w.remoteRecords().first?["fields"] as? [String: Any])
        #expect(f["outcome"] as? String == "refused")
    }

    /// A Job that fails (its pod failed before printing a chain): the run fails with the
    /// Job's reason, recorded.
    @Test func aFailedJobIsRecorded() throws {
        let w = try KubeWorld()
        try w.makeChain()
        let url = try w.startServer(mode: "job-failed")
        let outcome = try w.executor(url: url).launch(w.queuedRun())
        #expect(outcome.state == .failed && outcome.error?.contains("BackoffLimitExceeded") == true, "\(outcome)")
        let f = try #require(w.remoteRecords().first?["fields"] as? [String: Any])
        #expect(f["outcome"] as? String == "failed" && f["job_status"] as? String == "failed", "\(f)")
        #expect((f["reason"] as? String)?.contains("no audit log") == true, "\(f)")
        #expect(w.requests().last.map { "\($0["method"]!)" } == "DELETE")
    }

    /// 403, 500 and an unreachable server each end the run quickly with a clear, recorded
    /// error (no hang, no Job left behind the ConfigMap).
    @Test(arguments: ["forbidden", "error500", "unreachable"])
    func apiErrorsAreClearAndRecorded(mode: String) throws {
        let w = try KubeWorld()
        try w.makeChain()
        var url: String
        if mode == "unreachable" {
            url = try w.startServer(mode: "ok")
            w.stopServer()  // the port is closed now
        } else {
            url = try w.startServer(mode: mode)
        }
        let started = Date()
        let outcome = try w.executor(url: url).launch(w.queuedRun())
        #expect(Date().timeIntervalSince(started) < 20)
        let expected = ["forbidden": "HTTP 403 (the service account lacks a permission", "error500": "HTTP 500",
                        "unreachable": "unreachable"][mode]!
        #expect(outcome.state == .failed && outcome.error?.contains(expected) == true, "\(outcome)")
        let f = try #require(w.remoteRecords().first?["fields"] as? [String: Any])
        #expect(f["outcome"] as? String == "failed" && (f["reason"] as? String)?.contains(expected) == true, "\(f)")
        if mode != "unreachable" {
            #expect(!w.requests().contains { $0["path"] as? String == "/apis/batch/v1/namespaces/agents/jobs" })
        }
    }

    /// On stop, the running Job is deleted (propagationPolicy=Background) and the run
    /// recorded interrupted.
    @Test func stopDeletesTheJobAndRecordsInterrupted() async throws {
        let w = try KubeWorld()
        try w.makeChain()
        let url = try w.startServer(mode: "never-done")
        let executor = try w.executor(url: url)
        let run = w.queuedRun()
        let task = Task.detached { executor.launch(run) }
        for _ in 0..<100 where !w.requests().contains(where: { $0["method"] as? String == "GET" }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        executor.stopAll()
        let outcome = await task.value
        #expect(outcome.interrupted && outcome.state == .interrupted, "\(outcome)")
        #expect(w.requests().contains { ($0["path"] as? String)?.hasSuffix("?propagationPolicy=Background") == true && $0["method"] as? String == "DELETE" })
        let f = try #require(w.remoteRecords().first?["fields"] as? [String: Any])
        #expect(f["outcome"] as? String == "interrupted")
    }
}

/// The run id of a chain file's first record.
enum CLIChain {
    static func runID(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let first = text.split(separator: "\n").first,
              let obj = try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any] else { return nil }
        return obj["run"] as? String
    }
}
