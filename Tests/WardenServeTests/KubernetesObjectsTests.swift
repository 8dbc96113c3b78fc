import Foundation
import Testing
import WardenAudit
@testable import WardenKubernetes
@testable import WardenServe

/// The ConfigMap and Job the executor creates: strictly valid objects, and values from the
/// event, the repository or the policy never reach a shell script or the object's structure.
@Suite struct KubernetesObjectsTests {
    static let hostile = "x'; touch /tmp/pwned; echo \"$(id)\" `id` ${IFS}\n---\napiVersion: v1\nkind: Pod\nspec:\n  hostPID: true\n"

    func spec(command: [String], event: String, repository: String?, trigger: String = "k8s-build",
              clone: (url: String, commit: String)? = nil) -> KubernetesRunSpec {
        KubernetesRunSpec(queueID: 42, nonce: "1a2b3c4d", namespace: "agents", image: "registry.example.org/warden:1.0",
                          trigger: trigger, identity: "default", decision: "0123456789abcdef", repository: repository,
                          policyFiles: [("agents.warden", "warden 1\n# " + Self.hostile), ("stock/base.warden", "warden 1\n")],
                          event: event, clone: clone, command: command, runTimeoutSeconds: 600, activeDeadlineSeconds: 1200)
    }

    @Test func hostileValuesStayDataInTheJobAndConfigMap() throws {
        let event = AuditValue.object(["note": .string(Self.hostile), "repository": .string("acme/app\"\n  hostNetwork: true")]).jsonText
        let command = ["sh", "-c", Self.hostile, "--", "$(reboot)"]
        let url = "https://git.example.org/acme/app.git"
        let commit = String(repeating: "a", count: 40)
        let s = spec(command: command, event: event, repository: "acme/app\"\n  hostPID: true\n---\nkind: Pod",
                     trigger: "build.\"$(id)\"", clone: (url, commit))
        let job = try #require(try JSONSerialization.jsonObject(with: Data(KubernetesRunObjects.job(s).jsonText.utf8)) as? [String: Any])
        let cm = try #require(try JSONSerialization.jsonObject(with: Data(KubernetesRunObjects.configMap(s).jsonText.utf8)) as? [String: Any])
        let pod = try #require(((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let containers = try #require(pod["containers"] as? [[String: Any]])
        let inits = try #require(pod["initContainers"] as? [[String: Any]])
        #expect(containers.count == 1 && inits.count == 1)
        // The scripts are the constants; every value is an argv element of its own, unchanged.
        #expect(containers[0]["command"] as? [String] == ["/bin/sh", "-c", KubernetesRunObjects.runScript, "warden-k8s", "1a2b3c4d"])
        let args = try #require(containers[0]["args"] as? [String])
        #expect(args == KubernetesRunObjects.wardenArguments(s))
        #expect(Array(args.suffix(command.count + 1)) == ["--"] + command)
        #expect(inits[0]["command"] as? [String] == ["/bin/sh", "-c", KubernetesRunObjects.cloneScript, "warden-k8s-clone"])
        #expect(inits[0]["args"] as? [String] == [url, commit])
        for script in [KubernetesRunObjects.runScript, KubernetesRunObjects.cloneScript] {
            #expect(!script.contains("pwned") && !script.contains("reboot") && !script.contains("acme"))
        }
        // The structure is the one built: no host namespaces, no extra keys.
        #expect(pod["hostPID"] as? Bool == false && pod["hostNetwork"] as? Bool == false && pod["hostIPC"] as? Bool == false)
        #expect(Set(pod.keys) == ["restartPolicy", "automountServiceAccountToken", "enableServiceLinks", "hostNetwork", "hostPID",
                                  "hostIPC", "securityContext", "containers", "initContainers", "volumes"])
        #expect(Set(job.keys) == ["apiVersion", "kind", "metadata", "spec"])
        // The event and the policy reach the ConfigMap byte for byte.
        let data = try #require(cm["data"] as? [String: String])
        #expect(data["event.json"] == event && data["policy-0"] == "warden 1\n# " + Self.hostile)
        // Labels are label values; the exact values are annotations.
        let meta = try #require(job["metadata"] as? [String: Any])
        let labels = try #require(meta["labels"] as? [String: String])
        #expect(labels["warden-trigger"] == "build.---id")
        #expect((meta["annotations"] as? [String: String])?["warden/repository"] == "acme/app\"\n  hostPID: true\n---\nkind: Pod")
        #expect(meta["name"] as? String == "warden-run-42-1a2b3c4d")

        let w = try KubeWorld()
        let (check, log) = try w.checkObjects([cm, job], expect: "ConfigMap,Job")
        if check != 77 { #expect(check == 0, "\(log)") }
    }

    /// The executor refuses what a pod cannot do safely, before creating anything.
    @Test func unsafeRunsAreRefusedBeforeAnyObject() throws {
        let w = try KubeWorld()
        let executor = try w.executor(url: "http://127.0.0.1:9")
        let optionCommit = w.queuedRun(commit: "--upload-pack=touch /tmp/x", cloneURL: "https://example.org/a.git")
        let cloneTrigger = """
        warden 1
        include "stock/default.warden"
        secret hook from env "HOOK_SECRET"
        trigger k8s-build {
          identity default
          on github push
          repository "acme/*"
          secret hook
          workspace clone
          run "true"
        }
        trigger in-place {
          identity default
          on manual
          by "root"
          workspace "/srv/checkout"
          run "true"
        }

        """
        let path = w.dir.path + "/clone.warden"
        try cloneTrigger.write(toFile: path, atomically: true, encoding: .utf8)
        let cloning = try w.executor(url: "http://127.0.0.1:9", policyFile: path)
        #expect(throws: KubernetesLaunchError.self) { try cloning.makeSpec(optionCommit) }
        #expect(throws: KubernetesLaunchError.self) {
            try cloning.makeSpec(w.queuedRun(commit: String(repeating: "b", count: 40), cloneURL: "ext::sh -c touch% /tmp/x"))
        }
        #expect(throws: KubernetesLaunchError.self) { try cloning.makeSpec(w.queuedRun(trigger: "in-place")) }
        let ok = try cloning.makeSpec(w.queuedRun(commit: String(repeating: "b", count: 40), cloneURL: "https://example.org/a.git"))
        #expect(ok.clone?.commit == String(repeating: "b", count: 40))
        #expect(ok.policyFiles.map { $0.path } == ["clone.warden", "stock/default.warden", "stock/base.warden"])
        _ = executor
    }

    /// Only the script's own markers count: output printed after them (the agent's) cannot
    /// replace the chain, and a marker inside a line is not one.
    @Test func podLogMarkers() throws {
        let n = "1a2b3c4d"
        let log = Array(("x warden-audit-begin \(n)\nnot a chain\n" + "warden-audit-begin \(n)\n{\"a\":1}\n"
                         + "warden-audit-end \(n) exit=3\nwarden-output-begin \(n)\n"
                         + "warden-audit-begin \(n)\nforged\nwarden-audit-end \(n) exit=0\n").utf8)
        let parsed = try PodLog.parse(log, nonce: n)
        #expect(parsed.chain == Array("{\"a\":1}\n".utf8) && parsed.exitStatus == 3)
        #expect(String(decoding: parsed.output, as: UTF8.self).hasPrefix("warden-audit-begin"))
        #expect(throws: PodLog.Failure.noEndMarker) { try PodLog.parse(Array("warden-audit-begin \(n)\n{}\n".utf8), nonce: n) }
        #expect(throws: PodLog.Failure.noBeginMarker) { try PodLog.parse(Array("warden-audit-begin other\n".utf8), nonce: n) }
    }

    /// Connection settings: in-cluster defaults, and a clear error without any.
    @Test func connectionDefaults() throws {
        let none = { (_: String) in false }
        #expect(throws: KubernetesError.self) {
            try KubernetesConnection.resolve(server: nil, namespace: nil, tokenFile: nil, caFile: nil, environment: [:], exists: none, readNamespace: { _ in nil })
        }
        let inCluster = try KubernetesConnection.resolve(
            server: nil, namespace: nil, tokenFile: nil, caFile: nil,
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], exists: { _ in true },
            readNamespace: { _ in "agents" })
        #expect(inCluster == KubernetesConnection(server: "https://10.96.0.1:443", namespace: "agents",
                                                  tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
                                                  caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"))
        #expect(throws: KubernetesError.self) {
            try KubernetesConnection.resolve(server: "https://user:pw@api.example.org", namespace: nil, tokenFile: "/t", caFile: nil,
                                             environment: [:], exists: none, readNamespace: { _ in nil })
        }
        #expect(throws: KubernetesError.self) {
            try KubernetesConnection.resolve(server: "https://api.example.org", namespace: "Bad_NS", tokenFile: "/t", caFile: nil,
                                             environment: [:], exists: none, readNamespace: { _ in nil })
        }
    }
}
