import Foundation
import Testing

/// `warden compile --emit k8s --cilium-output FILE`: a CiliumNetworkPolicy for the policy's
/// domain rules, checked field by field against the CRD's facts (Tests/ExportChecks/check_k8s.py).
@Suite("warden compile --emit k8s --cilium-output")
struct KubernetesCiliumTests {
    static let policy = """
        warden 1
        identity fetcher {
          allow fs read, exec "/usr", "/bin", "/lib"
          allow fs read, write "${workspace}"
          allow syscall @default
          allow net connect tcp "registry.example.org:443", "*.cdn.example.org:443", "10.20.0.0/16:5432"
          allow net connect tcp "mirror.example.org:8000-8080"
          allow net connect udp "time.example.org:123"
        }
        """

    private func check(_ file: String, expect: String) throws -> (Int32, String)? {
        let (st, out, err) = try ExportFixture.run("/usr/bin/python3", [ExportFixture.checks + "/check_k8s.py", "--expect", expect, file])
        if st == 77 { print(out); return nil }
        return (st, out + err)
    }

    @Test func domainRulesBecomeToFQDNsWithTheirDNSRule() throws {
        let dir = try ExportFixture.tempDir("cilium")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ExportFixture.write(Self.policy, to: dir + "/p.warden")
        let (st, yaml, err) = try ExportFixture.warden(
            ["compile", dir + "/p.warden", "--emit", "k8s", "--allow-weaker", "--cilium-output", dir + "/cilium.yaml", "--", "true"])
        #expect(st == 0, "\(err)")
        // The domains are no longer reported unreachable; the one-label wildcard is.
        #expect(!err.contains("a NetworkPolicy cannot name domains"), "\(err)")
        #expect(err.contains("Cilium's `*.` matches one label"), "\(err)")
        try ExportFixture.write(yaml, to: dir + "/k8s.yaml")
        guard let workload = try check(dir + "/k8s.yaml", expect: "Job,NetworkPolicy") else { return }
        #expect(workload.0 == 0, "\(workload.1)")
        guard let cilium = try check(dir + "/cilium.yaml", expect: "CiliumNetworkPolicy") else { return }
        #expect(cilium.0 == 0, "\(cilium.1)")
        let probe = """
            import sys, yaml
            d = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d][0]
            spec = d["spec"]
            print(d["metadata"]["name"], spec["endpointSelector"]["matchLabels"]["warden-identity"])
            dns = spec["egress"][0]
            print(sorted(list(s.items())[0][1] for s in dns["toPorts"][0]["rules"]["dns"]))
            for r in spec["egress"][1:]:
                s = r["toFQDNs"][0]
                p = r["toPorts"][0]["ports"][0]
                print(list(s.values())[0], p["port"], p["protocol"], p.get("endPort"))
            """
        try ExportFixture.write(probe, to: dir + "/probe.py")
        let (ps, out, perr) = try ExportFixture.run("/usr/bin/python3", [dir + "/probe.py", dir + "/cilium.yaml"])
        #expect(ps == 0, "\(perr)")
        #expect(out == """
            warden-fetcher-fqdn fetcher
            ['*.cdn.example.org', 'mirror.example.org', 'registry.example.org', 'time.example.org']
            registry.example.org 443 TCP None
            *.cdn.example.org 443 TCP None
            mirror.example.org 8000 TCP 8080
            time.example.org 123 UDP None

            """)
    }

    @Test func theCheckerRefusesWhatCiliumWouldNotTake() throws {
        let dir = try ExportFixture.tempDir("cilium-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ExportFixture.write(Self.policy, to: dir + "/p.warden")
        let (st, _, err) = try ExportFixture.warden(
            ["compile", dir + "/p.warden", "--emit", "k8s", "--allow-weaker", "--cilium-output", dir + "/cilium.yaml", "--", "true"])
        #expect(st == 0, "\(err)")
        let good = try String(contentsOfFile: dir + "/cilium.yaml", encoding: .utf8)
        let broken: [(String, String)] = [
            // A name Cilium's proxy would never resolve: no DNS rule for it.
            ("              - matchName: \"time.example.org\"\n", ""),
            ("\"443\"", "443"),
            ("protocol: \"UDP\"", "protocol: \"QUIC\""),
            ("toFQDNs:", "toFQDN:"),
            ("\"k8s:k8s-app\": \"kube-dns\"", "\"k8s:k8s-app\": \"coredns\""),
        ]
        for (from, to) in broken {
            #expect(good.contains(from), "the output no longer holds \(from)")
            try ExportFixture.write(good.replacingOccurrences(of: from, with: to), to: dir + "/bad.yaml")
            guard let r = try check(dir + "/bad.yaml", expect: "CiliumNetworkPolicy") else { return }
            #expect(r.0 == 1, "\(from) -> \(to) was accepted: \(r.1)")
        }
    }

    @Test func denyRulesWinOrMakeTheExportWeaker() throws {
        let dir = try ExportFixture.tempDir("cilium-deny")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policy = """
            warden 1
            identity fetcher {
              allow fs read, exec "/usr", "/bin", "/lib"
              allow syscall @default
              allow net connect tcp "*.example.org:443", "gone.example.net:443"
              deny net connect tcp "evil.example.org:443", "gone.example.net:*"
            }
            """
        try ExportFixture.write(policy, to: dir + "/p.warden")
        let args = ["compile", dir + "/p.warden", "--emit", "k8s", "--cilium-output", dir + "/cilium.yaml"]
        // A deny inside an allowed wildcard cannot be expressed: refused without --allow-weaker.
        let (st, _, err) = try ExportFixture.warden(args + ["--", "true"])
        #expect(st == 1 && err.contains("deny evil.example.org:443 cannot be expressed: toFQDNs only allows"), "\(err)")
        let (st2, _, err2) = try ExportFixture.warden(args + ["--allow-weaker", "--", "true"])
        #expect(st2 == 0, "\(err2)")
        // A deny covering a whole allow removes it: that name is neither allowed nor resolvable.
        let cilium = try String(contentsOfFile: dir + "/cilium.yaml", encoding: .utf8)
        #expect(cilium.contains("\"*.example.org\"") && !cilium.contains("gone.example.net"), "\(cilium)")
    }

    @Test func noDomainRuleWritesNoFileAndTheOptionIsK8sOnly() throws {
        let dir = try ExportFixture.tempDir("cilium-none")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cidrOnly = """
            warden 1
            identity fetcher {
              allow fs read, exec "/usr", "/bin", "/lib"
              allow syscall @default
              allow net connect tcp "10.20.0.0/16:5432"
            }
            """
        try ExportFixture.write(cidrOnly, to: dir + "/p.warden")
        let (st, _, err) = try ExportFixture.warden(
            ["compile", dir + "/p.warden", "--emit", "k8s", "--allow-weaker", "--cilium-output", dir + "/cilium.yaml", "--", "true"])
        #expect(st == 0, "\(err)")
        #expect(err.contains("no CiliumNetworkPolicy was written"), "\(err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/cilium.yaml"))
        let (st2, _, err2) = try ExportFixture.warden(["compile", dir + "/p.warden", "--emit", "oci", "--cilium-output", dir + "/c.yaml"])
        #expect(st2 != 0 && err2.contains("--cilium-output is only used by --emit k8s"), "\(err2)")
    }
}
