import Foundation
import Testing

/// `warden compile --emit k8s --kind job|pod|podtemplate`, and the SPO SeccompProfile kept in
/// a file of its own (issue 18: `kubectl apply` of the workload must not need the SPO CRD).
@Suite struct KubernetesKindsTests {
    /// A self-contained policy (capability, network rules, limits, a home cache); its output
    /// before --kind existed is frozen in podtemplate-frozen.yaml. Relative to the checkout,
    /// because note locations name the file as given.
    static let policy = "Tests/ExportChecks/k8s-kinds.warden"
    static let frozen = ExportFixture.checks + "/podtemplate-frozen.yaml"

    static func export(_ extra: [String], command: [String] = ["sh", "-c", "echo hi"]) throws -> (Int32, String, String) {
        try ExportFixture.warden(["compile", policy, "--emit", "k8s", "--allow-weaker", "--arch", "x86_64",
                                  "--image", "registry.example.org/agent:1.0"] + extra + ["--"] + command, cwd: ExportFixture.root)
    }

    /// Runs check_k8s.py; nil when PyYAML is missing.
    static func check(_ file: String, expect kinds: String) throws -> (Int32, String)? {
        let (st, out, err) = try ExportFixture.run("/usr/bin/python3", [ExportFixture.checks + "/check_k8s.py", "--expect", kinds, file])
        if st == 77 { print(out); return nil }
        return (st, out + err)
    }

    /// Runs check_k8s_openapi.py: the built-in objects of `file` against the Kubernetes
    /// API's OpenAPI schema of two minor releases (the official client's wheels, which
    /// scripts/setup.sh downloads); nil, with the reason printed, when the wheels or PyYAML
    /// are missing.
    static func checkOpenAPI(_ file: String, expect kinds: String? = nil) throws -> (Int32, String)? {
        let wheels = ProcessInfo.processInfo.environment["WARDEN_K8S_OPENAPI_WHEELS"] ?? "/var/cache/warden-tests/kubernetes-openapi"
        let (st, out, err) = try ExportFixture.run("/usr/bin/python3", [ExportFixture.checks + "/check_k8s_openapi.py", "--wheels", wheels]
                                                   + (kinds.map { ["--expect", $0] } ?? []) + [file])
        if st == 77 { print(out); return nil }
        return (st, out + err)
    }

    /// The `kind` of every YAML document in `file`, as PyYAML parses it (nil without PyYAML).
    static func kinds(_ file: String) throws -> [String]? {
        let probe = "import sys, yaml\nfor d in yaml.safe_load_all(open(sys.argv[1])):\n    print(d.get('kind') if isinstance(d, dict) else repr(d))\n"
        let (st, out, err) = try ExportFixture.run("/usr/bin/python3", ["-c", probe, file])
        if err.contains("No module named 'yaml'") { return nil }
        #expect(st == 0, "\(err)")
        return out.split(separator: "\n").map(String.init)
    }

    @Test(arguments: ["job", "pod", "podtemplate"])
    func eachKindUsesOnlyKnownFieldsOfItsAPI(kind: String) throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-\(kind)")
        let (st, _, err) = try Self.export(["--kind", kind, "--output", dir])
        #expect(st == 0, "\(err)")
        let expected = ["job": "Job,NetworkPolicy", "pod": "Pod,NetworkPolicy", "podtemplate": "PodTemplate,SeccompProfile,NetworkPolicy"]
        guard let (cs, log) = try Self.check(dir + "/kubernetes.yaml", expect: expected[kind] ?? "") else { return }
        #expect(cs == 0, "\(log)")
        if let (os, openAPILog) = try Self.checkOpenAPI(dir + "/kubernetes.yaml", expect: expected[kind]) {
            #expect(os == 0 && openAPILog.contains("release-1.35 release-1.36"), "\(openAPILog)")
        }
        // The Localhost profile the workload names is where it always was.
        let workload = try String(contentsOfFile: dir + "/kubernetes.yaml", encoding: .utf8)
        #expect(workload.contains("localhostProfile: \"warden/web-agent.json\""))
        #expect(FileManager.default.fileExists(atPath: dir + "/seccomp/warden/web-agent.json"))
        if kind == "podtemplate" {
            #expect(!FileManager.default.fileExists(atPath: dir + "/seccomp-profile.yaml"), "podtemplate keeps its one file")
        } else {
            let spo = try #require(try Self.check(dir + "/seccomp-profile.yaml", expect: "SeccompProfile"))
            #expect(spo.0 == 0, "\(spo.1)")
        }
    }

    /// The OpenAPI check can fail: a misspelt field, a string where the schema has an
    /// integer, and a required field left out are each refused, for both releases.
    @Test func theOpenAPICheckRefusesWhatTheSchemaDoesNotAllow() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-openapi")
        let (st, yaml, err) = try Self.export([])
        #expect(st == 0, "\(err)")
        let cases = [("restartPolicy:", "restartPolcy:", "has no field 'restartPolcy'"), ("backoffLimit: 0", "backoffLimit: \"0\"", "integer expected"),
                     ("containers:", "containerz:", "requires 'containers'")]
        for (from, to, reason) in cases {
            #expect(yaml.contains(from), "\(from)")
            try ExportFixture.write(yaml.replacingOccurrences(of: from, with: to), to: dir + "/bad.yaml")
            guard let (cs, log) = try Self.checkOpenAPI(dir + "/bad.yaml") else { return }
            #expect(cs == 1 && log.contains("release-1.35") && log.contains("release-1.36") && log.contains(reason), "\(to): \(log)")
        }
    }

    @Test func jobRunsOnceWithItsDeadlineOnThePodSpec() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-job")
        let (st, yaml, err) = try Self.export([])   // job is the default
        #expect(st == 0, "\(err)")
        try ExportFixture.write(yaml, to: dir + "/job.yaml")
        let probe = """
        import sys, yaml
        job = next(yaml.safe_load_all(open(sys.argv[1])))
        s = job["spec"]; pod = s["template"]["spec"]
        print(job["apiVersion"], job["kind"], job["metadata"]["name"], s["backoffLimit"], s["ttlSecondsAfterFinished"])
        print(pod["restartPolicy"], pod["activeDeadlineSeconds"], "activeDeadlineSeconds" in s)
        print(s["template"]["metadata"]["labels"], pod["containers"][0]["securityContext"]["capabilities"]["add"])
        """
        let (ps, out, perr) = try ExportFixture.run("/usr/bin/python3", ["-c", probe, dir + "/job.yaml"])
        if perr.contains("No module named 'yaml'") { return }
        #expect(ps == 0, "\(perr)")
        #expect(out == "batch/v1 Job warden-web-agent 0 3600\nNever 3600 False\n{'warden-identity': 'web-agent'} ['NET_BIND_SERVICE']\n", "\(out)")
        #expect(yaml.contains("# Job: `kubectl apply -f` runs the agent once"))

        let (pst, pod, perr2) = try Self.export(["--kind", "pod"])
        #expect(pst == 0, "\(perr2)")
        #expect(pod.contains("apiVersion: \"v1\"\nkind: \"Pod\"\n") && pod.contains("\nspec:\n  activeDeadlineSeconds: 3600\n  restartPolicy: \"Never\"\n"), "\(pod)")
    }

    /// The checker can fail: each kind of mistake in a Job is reported.
    @Test func checkerReportsAnUnknownFieldInAJobSpec() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-bad")
        let (st, yaml, err) = try Self.export([])
        #expect(st == 0, "\(err)")
        guard try Self.check({ try ExportFixture.write(yaml, to: dir + "/good.yaml"); return dir + "/good.yaml" }(), expect: "Job,NetworkPolicy")?.0 == 0 else {
            Issue.record("the unmodified Job does not pass"); return
        }
        let mistakes: [(String, String, String)] = [
            ("spec:\n  backoffLimit: 0\n", "spec:\n  backofLimit: 0\n", "unknown field 'backofLimit' in JobSpec"),
            ("  ttlSecondsAfterFinished: 3600\n", "  ttlSecondsAfterFinished: \"1h\"\n", "must be an integer"),
            ("  backoffLimit: 0\n", "  backoffLimit: -1\n", "out of range"),
            ("restartPolicy: \"Never\"", "restartPolicy: \"Always\"", "must be Never or OnFailure"),
            ("  template:\n    metadata:\n", "  template:\n    metadata:\n      labelz: {}\n", "unknown field 'labelz' in ObjectMeta"),
            ("    spec:\n      activeDeadlineSeconds: 3600\n", "    spec:\n      activeDeadlineSeconds: 0\n", "out of range"),
            ("      hostPID: false\n", "      hostPID: false\n      hostNetwrk: false\n", "unknown field 'hostNetwrk' in PodSpec"),
            ("kind: \"Job\"", "kind: \"CronJob\"", "unknown apiVersion/kind batch/v1/CronJob"),
            ("  name: \"warden-web-agent\"\n", "  name: \"Warden_Web\"\n", "is not a DNS subdomain"),
        ]
        for (i, (from, to, message)) in mistakes.enumerated() {
            #expect(yaml.contains(from), "the output no longer has `\(from)`")
            let file = dir + "/bad-\(i).yaml"
            try ExportFixture.write(yaml.replacingOccurrences(of: from, with: to), to: file)
            let (cs, log) = try Self.check(file, expect: "Job,NetworkPolicy") ?? (1, message)
            #expect(cs == 1 && log.contains(message), "`\(to)`: \(log)")
        }
        // Each kind is checked against its own API: a Job's field in a Pod's spec is unknown.
        let (ps, pod, perr) = try Self.export(["--kind", "pod"])
        #expect(ps == 0 && pod.contains("\nspec:\n  activeDeadlineSeconds:"), "\(perr)")
        try ExportFixture.write(pod, to: dir + "/pod.yaml")
        #expect(try Self.check(dir + "/pod.yaml", expect: "Pod,NetworkPolicy")?.0 ?? 0 == 0)
        try ExportFixture.write(pod.replacingOccurrences(of: "\nspec:\n  activeDeadlineSeconds:", with: "\nspec:\n  backoffLimit: 0\n  activeDeadlineSeconds:"), to: dir + "/pod-bad.yaml")
        let (pcs, plog) = try Self.check(dir + "/pod-bad.yaml", expect: "Pod,NetworkPolicy") ?? (1, "'backoffLimit' in PodSpec")
        #expect(pcs == 1 && plog.contains("unknown field 'backoffLimit' in PodSpec"), "\(plog)")
        // Hostile files are reported, not crashed on.
        for (i, text) in ["apiVersion: [1]\nkind: Job\n", "--- 5\n--- [1]\n", "a: [\n", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\n"].enumerated() {
            try ExportFixture.write(text, to: dir + "/hostile-\(i).yaml")
            let (cs, log) = try Self.check(dir + "/hostile-\(i).yaml", expect: "Job") ?? (1, "error:")
            #expect(cs == 1 && log.contains("error:") && !log.contains("Traceback"), "\(text): \(log)")
        }
        // A SeccompProfile slipped back into the workload file is reported too.
        let spo = try #require(try Self.exportSPO(dir))
        try ExportFixture.write(yaml + spo, to: dir + "/with-spo.yaml")
        let (cs, log) = try Self.check(dir + "/with-spo.yaml", expect: "Job,NetworkPolicy") ?? (1, "expected exactly")
        #expect(cs == 1 && log.contains("expected exactly"), "\(log)")
    }

    static func exportSPO(_ dir: String) throws -> String? {
        let (st, _, err) = try export(["--spo-output", dir + "/spo.yaml"])
        #expect(st == 0, "\(err)")
        return try? String(contentsOfFile: dir + "/spo.yaml", encoding: .utf8)
    }

    @Test(arguments: ["job", "pod"])
    func theWorkloadFileHasNoSeccompProfileAndTheSPOFileExactlyOne(kind: String) throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-spo")
        let (st, _, err) = try Self.export(["--kind", kind, "--output", dir + "/out"])
        #expect(st == 0, "\(err)")
        guard let workload = try Self.kinds(dir + "/out/kubernetes.yaml") else { return }
        #expect(workload == [kind == "job" ? "Job" : "Pod", "NetworkPolicy"], "\(workload)")
        #expect(try Self.kinds(dir + "/out/seccomp-profile.yaml") == ["SeccompProfile"])

        // To standard output: the workload only, and stderr says where the SPO object goes.
        let (ss, stdout, serr) = try Self.export(["--kind", kind])
        #expect(ss == 0, "\(serr)")
        try ExportFixture.write(stdout, to: dir + "/stdout.yaml")
        #expect(try Self.kinds(dir + "/stdout.yaml") == workload)
        #expect(serr.contains("SeccompProfile is not printed") && serr.contains("--spo-output"), "\(serr)")
        #expect(stdout == (try String(contentsOfFile: dir + "/out/kubernetes.yaml", encoding: .utf8)))

        // --spo-output FILE writes it (and the notice goes away).
        let (fs, fout, ferr) = try Self.export(["--kind", kind, "--spo-output", dir + "/spo.yaml"])
        #expect(fs == 0 && fout == stdout && !ferr.contains("not printed"), "\(ferr)")
        #expect(try Self.kinds(dir + "/spo.yaml") == ["SeccompProfile"])
        #expect(try String(contentsOfFile: dir + "/spo.yaml", encoding: .utf8)
                == (try String(contentsOfFile: dir + "/out/seccomp-profile.yaml", encoding: .utf8)))
    }

    /// `--kind podtemplate` prints exactly what `--emit k8s` printed before --kind existed.
    @Test func podtemplateIsByteIdenticalToTheOutputBeforeKinds() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let frozen = try String(contentsOfFile: Self.frozen, encoding: .utf8)
        let (st, yaml, err) = try Self.export(["--kind", "podtemplate"])
        #expect(st == 0, "\(err)")
        #expect(yaml == frozen, "--kind podtemplate changed; the old output is \(Self.frozen)")
        #expect(!err.contains("not printed"), "podtemplate still prints its SeccompProfile")
        let dir = try ExportFixture.tempDir("k8s-pt")
        let (ds, _, derr) = try Self.export(["--kind", "podtemplate", "--output", dir])
        #expect(ds == 0, "\(derr)")
        #expect(try String(contentsOfFile: dir + "/kubernetes.yaml", encoding: .utf8) == frozen)
        // Asked for, the SPO object is written apart for a PodTemplate too (its file is unchanged).
        let (fs, fout, ferr) = try Self.export(["--kind", "podtemplate", "--spo-output", dir + "/spo.yaml"])
        #expect(fs == 0 && fout == frozen, "\(ferr)")
        #expect(try Self.kinds(dir + "/spo.yaml") ?? ["SeccompProfile"] == ["SeccompProfile"])
        // And the default (job) differs from it: the option does something.
        let (_, job, _) = try Self.export([])
        #expect(job != frozen && !job.contains("kind: \"PodTemplate\""))
    }

    @Test func usageErrors() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let (a, _, ae) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--emit", "oci", "--kind", "job"])
        #expect(a == 2 && ae.contains("--kind is only used by --emit k8s"), "\(ae)")
        let (b, _, be) = try ExportFixture.warden(["compile", ExportFixture.defaultPolicy, "--spo-output", "/tmp/x.yaml"])
        #expect(b == 2 && be.contains("--spo-output is only used by --emit k8s"), "\(be)")
        let (c, _, ce) = try Self.export(["--kind", "deployment"])
        #expect(c == 2 && ce.contains("job") && ce.contains("podtemplate"), "\(ce)")
        let (d, dout, de) = try Self.export(["--spo-output", "/nonexistent/dir/spo.yaml"])
        #expect(d == 2 && de.contains("cannot write /nonexistent/dir/spo.yaml") && dout.isEmpty, "\(de)")
        let (h, help, _) = try ExportFixture.warden(["compile", "--help"])
        #expect(h == 0 && help.contains("--kind") && help.contains("--spo-output"))
    }

    /// A Job's name becomes its pods' `job-name` label (63 characters at most): an identity
    /// too long for that is refused for a Job with a way out, and still exports as the others.
    @Test func anIdentityTooLongForAJobNameIsRefused() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-long")
        let id = "a" + String(repeating: "b", count: 56)   // warden- + 57 = 64 characters
        try ExportFixture.write("warden 1\nidentity \(id) {\n  allow fs read, exec \"/usr\"\n  allow syscall @default\n}\n", to: dir + "/long.warden")
        let (j, jout, jerr) = try ExportFixture.warden(["compile", dir + "/long.warden", "--emit", "k8s", "--allow-weaker"])
        #expect(j == 1 && jout.isEmpty && jerr.contains("not a Job name") && jerr.contains("--kind"), "\(jerr)")
        for kind in ["pod", "podtemplate"] {
            let (s, out, err) = try ExportFixture.warden(["compile", dir + "/long.warden", "--emit", "k8s", "--allow-weaker", "--kind", kind])
            #expect(s == 0 && out.contains("name: \"warden-\(id)\""), "\(kind): \(err)")
        }
        let short = String(id.dropLast())   // 63: fits
        try ExportFixture.write("warden 1\nidentity \(short) {\n  allow fs read, exec \"/usr\"\n  allow syscall @default\n}\n", to: dir + "/ok.warden")
        let (o, oout, oerr) = try ExportFixture.warden(["compile", dir + "/ok.warden", "--emit", "k8s", "--allow-weaker"])
        #expect(o == 0 && oout.contains("kind: \"Job\""), "\(oerr)")
    }

    /// Hostile values (an image or command that looks like YAML documents) stay strings: no
    /// document, and no SeccompProfile, is smuggled into the workload file.
    @Test func yamlLookingInputCannotAddDocuments() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let dir = try ExportFixture.tempDir("k8s-hostile")
        let evil = "x\n---\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n"
        let (st, yaml, err) = try ExportFixture.warden(["compile", Self.policy, "--emit", "k8s", "--allow-weaker", "--image", evil,
                                                        "--", evil, "# \u{1b}]0;title\u{7}", String(repeating: "y", count: 100_000)],
                                                       cwd: ExportFixture.root)
        #expect(st == 0, "\(err)")
        try ExportFixture.write(yaml, to: dir + "/job.yaml")
        guard let kinds = try Self.kinds(dir + "/job.yaml") else { return }
        #expect(kinds == ["Job", "NetworkPolicy"], "\(kinds)")
        let probe = "import sys, yaml\nc = next(yaml.safe_load_all(open(sys.argv[1])))['spec']['template']['spec']['containers'][0]\nprint(repr(c['image']), repr(c['command'][0]), repr(c['command'][1]), len(c['command'][2]))\n"
        let (ps, out, perr) = try ExportFixture.run("/usr/bin/python3", ["-c", probe, dir + "/job.yaml"])
        #expect(ps == 0, "\(perr)")
        #expect(out == "\(pyRepr(evil)) \(pyRepr(evil)) '# \\x1b]0;title\\x07' 100000\n", "\(out)")
        #expect(!err.contains("\u{1b}"), "nothing raw reaches the terminal")
    }

    private func pyRepr(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\n", with: "\\n") + "'" }
}
