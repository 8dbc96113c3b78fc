import Foundation
import Testing

/// Shared helpers for the export tests: the built binary, temporary directories, processes.
enum ExportFixture {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let binary = root + "/.build/debug/warden"
    static let checks = root + "/Tests/ExportChecks"
    static let defaultPolicy = root + "/policies/default.warden"

    /// The OCI runtime-spec schema: $WARDEN_OCI_SCHEMA, or shared/reference next to the checkout.
    static let ociSchema: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["WARDEN_OCI_SCHEMA"] { candidates.append(env) }
        var url = URL(fileURLWithPath: root)
        for _ in 0..<3 {
            url.deleteLastPathComponent()
            candidates.append(url.path + "/shared/reference/oci-runtime-spec-schema")
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/config-schema.json") }
    }()

    static func tempDir(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "warden-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    /// Runs a program; returns (status, stdout, stderr).
    @discardableResult
    static func run(_ path: String, _ args: [String], cwd: String? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read stderr on another thread so neither pipe fills up.
        let errData = LockedData()
        let t = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        t.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errData.done { usleep(1000) }
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errData.get(), as: UTF8.self))
    }

    static func warden(_ args: [String], cwd: String? = nil) throws -> (Int32, String, String) {
        try run(binary, args, cwd: cwd)
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); data = d; finished = true; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}

@Suite("warden compile exports")
struct ExportCLITests {
    /// Validates OCI configs with python3-jsonschema; nil when the check must be skipped (reason printed).
    func validate(_ files: [String]) throws -> (Int32, String)? {
        guard let schema = ExportFixture.ociSchema else {
            print("skip: the OCI runtime-spec schema was not found (set WARDEN_OCI_SCHEMA)"); return nil
        }
        let (st, out, err) = try ExportFixture.run("/usr/bin/python3", [ExportFixture.checks + "/validate_oci.py", schema] + files)
        if st == 77 { print(out); return nil }
        return (st, out + err)
    }

    @Test func ociFragmentAndBundleAreValidRuntimeSpecConfigs() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("oci")
        let ws = try ExportFixture.tempDir("ws")
        let (s1, _, e1) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci", "--allow-weaker",
                                                    "--workspace", ws, "-o", dir + "/fragment.json"])
        #expect(s1 == 0, "\(e1)")
        let (s2, _, e2) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci-bundle", "--allow-weaker",
                                                    "--workspace", ws, "--output", dir + "/bundle", "--", "/bin/true"])
        #expect(s2 == 0, "\(e2)")
        #expect(FileManager.default.fileExists(atPath: dir + "/bundle/rootfs"))
        let (s3, _, e3) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "k8s", "--allow-weaker",
                                                    "--output", dir + "/k8s"])
        #expect(s3 == 0, "\(e3)")
        // The node's seccomp profile is an OCI linux.seccomp object: validate it inside a config.
        let profile = try String(contentsOfFile: dir + "/k8s/seccomp/warden/default.json", encoding: .utf8)
        try ExportFixture.write("{\"ociVersion\": \"1.0.2\", \"linux\": {\"seccomp\": \(profile)}}", to: dir + "/node-profile.json")

        guard let (st, log) = try validate([dir + "/fragment.json", dir + "/bundle/config.json", dir + "/node-profile.json"]) else { return }
        #expect(st == 0, "\(log)")
        #expect(log.components(separatedBy: "ok ").count == 4, "\(log)")

        // The validator does reject a broken config (the check can fail).
        let broken = try String(contentsOfFile: dir + "/bundle/config.json", encoding: .utf8)
            .replacingOccurrences(of: "\"SCMP_ACT_ERRNO\"", with: "\"SCMP_ACT_NOPE\"")
        try ExportFixture.write(broken, to: dir + "/broken.json")
        let (bad, badLog) = try validate([dir + "/broken.json"]) ?? (0, "")
        #expect(bad == 1 && badLog.contains("SCMP_ACT_NOPE"), "\(badLog)")
    }

    @Test func bundleConfigBindsOnlyAllowedPathsWithTheirAccess() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("oci")
        let ws = try ExportFixture.tempDir("ws")
        let (st, _, err) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci-bundle", "--allow-weaker",
                                                     "--workspace", ws, "--output", dir, "--", "/bin/sh", "-c", "echo hi"])
        #expect(st == 0, "\(err)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let process = try #require(config["process"] as? [String: Any])
        #expect(process["args"] as? [String] == ["/bin/sh", "-c", "echo hi"])
        #expect(process["noNewPrivileges"] as? Bool == true)
        let caps = try #require(process["capabilities"] as? [String: [String]])
        #expect(caps.values.allSatisfy { $0.isEmpty })
        let mounts = try #require(config["mounts"] as? [[String: Any]])
        func options(_ dest: String) -> [String]? { mounts.first { $0["destination"] as? String == dest }?["options"] as? [String] }
        #expect(options("/usr") == ["bind", "nosuid", "nodev", "ro"])
        #expect(options("/etc") == ["bind", "nosuid", "nodev", "ro", "noexec"])
        #expect(options(ws) == ["bind", "nosuid", "nodev"])
        // The default identity runs what it builds in ${tmp} (go test, Rust doctests): no noexec.
        #expect(options("/tmp") == ["nosuid", "nodev", "mode=1777"])
        #expect(options("/home") == nil && options("/root") == nil, "nothing the policy does not allow")
        let linux = try #require(config["linux"] as? [String: Any])
        #expect((linux["maskedPaths"] as? [String])?.contains("/etc/shadow") == true)
        #expect((linux["readonlyPaths"] as? [String])?.contains(ws + "/.git/hooks") == true)
        let annotations = try #require(config["annotations"] as? [String: String])
        #expect(annotations["warden.weaker"]?.contains("wall-time") == true)
    }

    @Test func weakerExportsAreRefusedUnlessAllowed() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("weak")
        for emit in ["oci", "k8s"] {
            let (st, out, err) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", emit])
            #expect(st == 1, "\(emit): \(err)")
            #expect(out.isEmpty, "\(emit): a refused export writes nothing")
            #expect(err.contains("weaker (\(emit == "oci" ? "oci" : "k8s")):") && err.contains("--allow-weaker"), "\(err)")
            let (ok, text, err2) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", emit, "--allow-weaker"])
            #expect(ok == 0, "\(err2)")
            #expect(err2.contains("weaker"), "the gaps are still printed")
            #expect(text.contains(emit == "oci" ? "\"warden.weaker\"" : "# WEAKER: "), "and recorded in the output")
        }
        // An identity whose rules the engine expresses exactly needs no flag.
        let policy = dir + "/exact.warden"
        try ExportFixture.write("""
        warden 1
        identity exact {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
          allow fs read, write "${workspace}"
          allow syscall @default
          limit open-files 256
        }
        """, to: policy)
        let (st, out, err) = try ExportFixture.warden(["compile", policy, "--emit", "oci-bundle", "--workspace", dir, "--output", dir + "/b", "--", "/bin/true"])
        #expect(st == 0 && out.isEmpty, "\(err)")
        #expect(!err.contains("weaker"))
        let (sd, unit, sdErr) = try ExportFixture.warden(["compile", policy, "--emit", "systemd", "--workspace", dir])
        #expect(sd == 0, "\(sdErr)")
        #expect(unit.contains("SystemCallFilter=") && !sdErr.contains("weaker"))
        // A systemd-only gap: a network deny inside an allowed subnet.
        try ExportFixture.write("""
        warden 1
        identity net {
          allow fs read "/usr"
          allow net connect tcp "10.0.0.0/8:*"
          deny  net connect tcp "10.1.0.0/16:*"
        }
        """, to: policy)
        let (refused, _, why) = try ExportFixture.warden(["compile", policy, "--emit", "systemd", "--workspace", dir])
        #expect(refused == 1 && why.contains("IPAddressDeny"), "\(why)")
    }

    @Test func kubernetesObjectsParseAndUseOnlyKnownFields() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s")
        let policy = dir + "/svc.warden"
        try ExportFixture.write("""
        warden 1
        identity web-agent {
          description "Serves on 8080 and talks to the package mirror"
          allow fs read, exec "/usr", "/bin", "/lib"
          allow fs read, write "${workspace}", "${tmp}"
          deny fs write "${workspace}/.git/hooks"
          allow syscall @default
          allow capability NET_BIND_SERVICE
          allow net connect tcp "10.20.0.0/16:5432", "registry.example.org:443"
          allow net bind tcp "0.0.0.0:8080"
          deny net connect tcp "10.20.9.0/24:*"
          limit memory 1GiB
          limit wall-time 1h
          env set CI = "true"
          env set NOTE = "yes: \\"quoted\\" # not a comment"
        }
        """, to: policy)
        let (st, yaml, err) = try ExportFixture.warden(["compile", policy, "--emit", "k8s", "--allow-weaker", "--image", "registry.example.org/agent:1.0",
                                                        "--", "sh", "-c", "echo 'no: yes'"])
        #expect(st == 0, "\(err)")
        try ExportFixture.write(yaml, to: dir + "/k8s.yaml")
        // The default kind is a Job; the SeccompProfile is not in the workload (see KubernetesKindsTests).
        let (check, log, checkErr) = try ExportFixture.run("/usr/bin/python3", [ExportFixture.checks + "/check_k8s.py",
                                                                               "--expect", "Job,NetworkPolicy", dir + "/k8s.yaml"])
        if check == 77 { print(log); return }
        #expect(check == 0, "\(log)\(checkErr)")
        // Values survive YAML: parse back with PyYAML and compare a few.
        let probe = """
        import sys, yaml
        docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
        pod = docs[0]["spec"]["template"]["spec"]
        c = pod["containers"][0]
        env = {e["name"]: e["value"] for e in c["env"]}
        print(env["NOTE"]); print(c["command"][2]); print(env["CI"] == "true")
        print(c["securityContext"]["capabilities"]["add"], pod["activeDeadlineSeconds"], c["resources"]["limits"]["memory"])
        np = docs[1]["spec"]
        print(np["egress"][0]["to"][0]["ipBlock"], np["ingress"][0]["ports"])
        """
        try ExportFixture.write(probe, to: dir + "/probe.py")
        let (ps, pout, perr) = try ExportFixture.run("/usr/bin/python3", [dir + "/probe.py", dir + "/k8s.yaml"])
        #expect(ps == 0, "\(perr)")
        let lines = pout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(pout)")
        guard lines.count == 5 else { return }
        #expect(lines[0] == "yes: \"quoted\" # not a comment")
        #expect(lines[1] == "echo 'no: yes'")
        #expect(lines[2] == "True")
        #expect(lines[3] == "['NET_BIND_SERVICE'] 3600 1073741824")
        #expect(lines[4] == "{'cidr': '10.20.0.0/16', 'except': ['10.20.9.0/24']} [{'protocol': 'TCP', 'port': 8080}]")
        #expect(yaml.contains("# Not expressible (NetworkPolicy has no domain names): allow connect tcp registry.example.org:443"))
    }

    @Test func systemdDropInPassesSystemdAnalyzeVerify() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { print("skip: systemd-analyze is not installed"); return }
        let dir = try ExportFixture.tempDir("sd")
        let (st, dropIn, err) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "systemd", "--workspace", dir])
        #expect(st == 0, "\(err)")
        #expect(dropIn.contains("SystemCallFilter=") && dropIn.contains("NoNewPrivileges=yes") && dropIn.contains("PrivateNetwork=yes"))
        #expect(dropIn.contains("CapabilityBoundingSet=\n") && dropIn.contains("TasksMax=256") && dropIn.contains("RuntimeMaxSec=1800"))
        #expect(dropIn.contains("ReadOnlyPaths=") && dropIn.contains(" -\(dir)/.git/config ") && dropIn.contains(" -\(dir)/.git/hooks "))
        let unit = dir + "/warden-export-test.service"
        try ExportFixture.write("[Unit]\nDescription=export test\n" + dropIn + "ExecStart=/bin/true\n", to: unit)
        let (vs, vout, verr) = try ExportFixture.run(analyze, ["verify", unit])
        #expect(vs == 0, "\(vout)\(verr)")
        #expect(!(vout + verr).contains("Unknown key") && !(vout + verr).contains("Failed to parse"), "\(vout)\(verr)")
        // A policy with network rules: address filters and socket binds.
        try ExportFixture.write("""
        warden 1
        identity updater {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
          allow fs read, write "${workspace}"
          allow syscall @default
          allow net connect tcp "10.20.0.0/16:*", "registry.example.org:443"
          allow net bind tcp "0.0.0.0:8080"
        }
        """, to: dir + "/net.warden")
        let (ns, netDropIn, nerr) = try ExportFixture.warden(["compile", dir + "/net.warden", "--emit", "systemd", "--workspace", dir])
        #expect(ns == 0, "\(nerr)")
        #expect(netDropIn.contains("IPAddressDeny=any\nIPAddressAllow=10.20.0.0/16\nSocketBindDeny=any\nSocketBindAllow=tcp:8080\n"), "\(netDropIn)")
        #expect(nerr.contains("stricter (systemd)") && nerr.contains("registry.example.org"))
        try ExportFixture.write("[Unit]\nDescription=export test\n" + netDropIn + "ExecStart=/bin/true\n", to: unit)
        let (nv, nvout, nverr) = try ExportFixture.run(analyze, ["verify", unit])
        #expect(nv == 0 && !(nvout + nverr).contains("Unknown key"), "\(nvout)\(nverr)")

        // The check can fail: a misspelt setting is reported.
        try ExportFixture.write("[Unit]\nDescription=t\n[Service]\nSystemCallFilterz=read\nExecStart=/bin/true\n", to: unit)
        let (_, bout, berr) = try ExportFixture.run(analyze, ["verify", unit])
        #expect((bout + berr).contains("Unknown key"), "\(bout)\(berr)")
    }

    /// examples/oci and examples/kubernetes are what scripts/export-examples.sh generates today.
    @Test func committedExamplesAreCurrent() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("examples")
        let root = ExportFixture.root
        let (a, _, ae) = try ExportFixture.warden(["compile", "policies/default.warden", "--emit", "oci", "--allow-weaker",
                                                   "--workspace", "/srv/agent/workspace", "--home", "/home/agent",
                                                   "--output", dir + "/config.json"], cwd: root)
        #expect(a == 0, "\(ae)")
        let (b, _, be) = try ExportFixture.warden(["compile", "policies/default.warden", "--emit", "k8s", "--allow-weaker",
                                                   "--image", "ghcr.io/example/agent:1.0", "--output", dir + "/k8s",
                                                   "--", "/bin/sh", "-c", "make test"], cwd: root)
        #expect(b == 0, "\(be)")
        for (fresh, committed) in [("config.json", "examples/oci/config.json"), ("k8s/kubernetes.yaml", "examples/kubernetes/kubernetes.yaml"),
                                   ("k8s/seccomp-profile.yaml", "examples/kubernetes/seccomp-profile.yaml"),
                                   ("k8s/seccomp/warden/default.json", "examples/kubernetes/seccomp/warden/default.json")] {
            let new = try String(contentsOfFile: dir + "/" + fresh, encoding: .utf8)
            let old = try String(contentsOfFile: root + "/" + committed, encoding: .utf8)
            #expect(new == old, "\(committed) is stale: run scripts/export-examples.sh")
        }
    }

    @Test func usageErrors() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let (a, _, ae) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci-bundle", "--", "/bin/true"])
        #expect(a == 2 && ae.contains("--output"))
        let (b, _, be) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci-bundle", "--output", "/tmp/x"])
        #expect(b == 2 && be.contains("command"))
        let (c, _, ce) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "systemd", "--user", "x:y"])
        #expect(c == 2 && ce.contains("--user"), "\(ce)")
        let (d, _, de) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci-bundle", "--allow-weaker",
                                                   "--workspace", "/nonexistent/ws", "--output", "/tmp/x", "--", "/bin/true"])
        #expect(d == 2 && de.contains("/nonexistent/ws"), "\(de)")
    }
}
