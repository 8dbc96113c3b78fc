import Foundation
import Testing

/// `warden serve --executor kubernetes`: its options are checked before anything starts,
/// with the reason and exit 2.
@Suite struct ServeKubernetesCLITests {
    @Test func executorOptionsAreCheckedWithTheReason() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { return }
        let dir = try WardenBinary.tempDir("serve-k8s")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = ["serve", "--policy", "default", "--listen", "127.0.0.1:0", "--state-dir", dir + "/state", "--audit-log", dir + "/audit.jsonl"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "KUBERNETES_SERVICE_HOST")
        let cases: [([String], String)] = [
            (["--executor", "kubernetes"], "needs --k8s-image"),
            (["--k8s-image", "warden:1"], "go with --executor kubernetes"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1"], "no API server"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1", "--k8s-api-server", "https://api.example.org/path"], "no path"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1", "--k8s-api-server", "https://api.example.org"], "no bearer token"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1", "--k8s-api-server", "http://127.0.0.1:1", "--k8s-namespace", "Not_A_Label"], "not a DNS label"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1", "--k8s-api-server", "https://api.example.org", "--k8s-token-file", dir + "/t",
              "--k8s-ca-file", dir + "/missing-ca.pem"], "--k8s-ca-file"),
            (["--executor", "nomad"], "--executor"),
            (["--executor", "kubernetes", "--k8s-image", "warden:1", "--clone-mirror", dir], "--clone-mirror"),
        ]
        for (extra, reason) in cases {
            guard let r = try WardenBinary.run(base + extra, environment: environment) else { return }
            #expect(r.status == 2, "\(extra): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(reason), "\(extra): \(r.stderr)")
        }
    }
}
