import Foundation
import Testing

/// The exported OCI bundle, run by a real OCI runtime (runc), must give the escape probes
/// the same verdicts as `warden run` under the same identity.
@Suite("OCI export under runc", .serialized)
struct RuncExportTests {
    /// Checks whose errno differs by mechanism while the verdict (denied) is the same:
    /// outside the allowed paths `warden run` answers EACCES (Landlock) where the bundle's
    /// rootfs has no such file (ENOENT) or a read-only bind (EROFS).
    static let verdictOnly: Set<String> = ["read_root_home", "read_var_log", "write_usr", "write_etc"]

    /// What the default identity must get, under both (exact values).
    static let expected: [String: String] = [
        "CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "0000000000000000", "CapAmb": "0000000000000000",
        "NoNewPrivs": "1", "Seccomp": "2",
        "ptrace_traceme": "errno:1", "bpf_map_create": "errno:1", "unshare_user": "errno:1", "unshare_ns": "errno:1",
        "clone_newuser": "errno:1", "clone3": "errno:38", "setns": "errno:1", "mount_tmpfs": "errno:1",
        "io_uring_setup": "errno:1", "userfaultfd": "errno:1", "perf_event_open": "errno:1", "keyctl": "errno:1",
        "kexec_load": "errno:1", "init_module": "errno:1", "open_by_handle_at": "errno:1", "tiocsti": "errno:1",
        "chroot": "errno:1", "connect_outside": "errno:101",
        "read_etc_shadow": "ok:0", "read_proc_self": "ok:1",
        "write_workspace": "ok:17", "write_git_hooks": "errno:30", "write_git_config": "errno:30", "write_tmpdir": "ok:17",
        "exec_workspace": "ok:0", "copy_to_tmpdir": "ok:0", "exec_tmpdir": "ok:0", "exec_usr": "ok:0",
        "bind_port_80": "errno:13", "rlimit_nofile": "1024/1024", "rlimit_core": "0/0",
    ]

    static let runc: String? = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// A fresh workspace holding the probe binary and a `.git` with hooks and config.
    func workspace() throws -> String? {
        let ws = try ExportFixture.tempDir("runc-ws")
        try FileManager.default.createDirectory(atPath: ws + "/.git/hooks", withIntermediateDirectories: true)
        try ExportFixture.write("[core]\n", to: ws + "/.git/config")
        let (st, out, err) = try ExportFixture.run("/usr/bin/cc", ["-O1", "-o", ws + "/escape_probe", ExportFixture.checks + "/escape_probe.c"])
        guard st == 0 else { print("skip: cannot compile the probe: \(out)\(err)"); return nil }
        return ws
    }

    @Test func defaultIdentityGetsTheSameVerdictsUnderRuncAndWardenRun() throws {
        try compare(policy: ExportFixture.defaultPolicy, expected: Self.expected, gap: "wall-time")
    }

    /// A granted capability and an rlimit reach the agent the same way under both.
    @Test func grantedCapabilityAndLimitsMatch() throws {
        let dir = try ExportFixture.tempDir("runc-policy")
        let policy = dir + "/service.warden"
        try ExportFixture.write("""
        warden 1
        identity service {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
          allow fs read "/etc"
          deny fs read "/etc/shadow"
          allow fs read, write, exec "${workspace}"
          allow fs read, write "${tmp}"
          deny fs write "${workspace}/.git"
          allow syscall @default
          allow capability NET_BIND_SERVICE because "serves on port 80"
          limit open-files 64
        }
        """, to: policy)
        var expected = Self.expected
        for key in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] { expected[key] = "0000000000000400" }
        expected["bind_port_80"] = "ok:0"
        expected["rlimit_nofile"] = "64/64"
        expected["exec_tmpdir"] = "errno:13"  // ${tmp} without exec here (the default identity has it)
        try compare(policy: policy, expected: expected, gap: nil)
    }

    /// A deny exec inside a tree that allows exec (which `warden run` refuses for now) becomes
    /// a noexec bind in the bundle: the runtime enforces it.
    @Test func denyExecInsideAnAllowedTreeIsEnforcedByRunc() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        guard geteuid() == 0 else { print("skip: runc needs root"); return }
        guard let runc = Self.runc else { print("skip: runc is not installed (apt-get install runc)"); return }
        let ws = try ExportFixture.tempDir("runc-noexec")
        try FileManager.default.createDirectory(atPath: ws + "/downloads", withIntermediateDirectories: true)
        let policy = ws + "/../noexec-\(UUID().uuidString.prefix(8)).warden"
        try ExportFixture.write("""
        warden 1
        identity builder {
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
          allow fs read, write, exec "${workspace}"
          deny fs exec "${workspace}/downloads"
          allow syscall @default
        }
        """, to: policy)
        let bundle = try ExportFixture.tempDir("runc-noexec-bundle")
        let script = "cp /bin/true \(ws)/t && \(ws)/t; echo ws=$?; cp /bin/true \(ws)/downloads/t && \(ws)/downloads/t; echo downloads=$?"
        let (bs, _, berr) = try ExportFixture.warden(["compile", policy, "--emit", "oci-bundle", "--workspace", ws, "--output", bundle,
                                                      "--", "/bin/sh", "-c", script])
        #expect(bs == 0 && !berr.contains("weaker"), "\(berr)")
        let (rs, out, err) = try ExportFixture.run(runc, ["run", "--bundle", bundle, "warden-noexec-\(UUID().uuidString.prefix(8).lowercased())"])
        if rs != 0 && out.isEmpty, let reason = try runcUnusable(runc) { print("skip: \(reason)"); return }
        #expect(out.contains("ws=0\n"), "\(out)\(err)")
        #expect(out.contains("downloads=126\n"), "exec refused in downloads: \(out)\(err)")
    }

    /// Why runc cannot run a minimal bundle (no seccomp, read-only binds, /bin/true), or nil
    /// when it can, so a failure of the exported bundle is the export's fault.
    func runcUnusable(_ runc: String) throws -> String? {
        let dir = try ExportFixture.tempDir("runc-min")
        try FileManager.default.createDirectory(atPath: dir + "/rootfs", withIntermediateDirectories: true)
        let binds = ["/usr", "/bin", "/lib", "/lib64"].filter { FileManager.default.fileExists(atPath: $0) }.map {
            "{\"destination\": \"\($0)\", \"type\": \"bind\", \"source\": \"\($0)\", \"options\": [\"bind\", \"ro\"]}"
        }
        try ExportFixture.write("""
        {"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": true},
         "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/", "env": ["PATH=/usr/bin:/bin"]},
         "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, \(binds.joined(separator: ", "))],
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}}
        """, to: dir + "/config.json")
        let (st, out, err) = try ExportFixture.run(runc, ["run", "--bundle", dir, "warden-min-\(UUID().uuidString.prefix(8).lowercased())"])
        return st == 0 ? nil : "exit \(st): \(out)\(err)"
    }

    func compare(policy: String, expected: [String: String], gap: String?) throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        guard geteuid() == 0 else { print("skip: runc needs root"); return }
        guard let runc = Self.runc else { print("skip: runc is not installed (apt-get install runc)"); return }
        guard let wsW = try workspace(), let wsR = try workspace() else { return }

        // warden run (its audit log outside everything the agent may write).
        let auditDir = try ExportFixture.tempDir("runc-audit")
        let (ws, wout, werr) = try ExportFixture.warden(["run", "--policy", policy, "--workspace", wsW,
                                                         "--audit-log", auditDir + "/audit.jsonl", "-q", "--",
                                                         wsW + "/escape_probe", wsW])
        guard ws == 0 else { print("skip: warden run cannot launch here (\(ws)): \(werr)"); return }

        // The exported bundle under runc (the same identity, the workspace at its own path).
        let bundle = try ExportFixture.tempDir("runc-bundle")
        let (bs, _, berr) = try ExportFixture.warden(["compile", policy, "--emit", "oci-bundle"] + (gap == nil ? [] : ["--allow-weaker"])
                                                     + ["--workspace", wsR, "--output", bundle, "--", wsR + "/escape_probe", wsR])
        #expect(bs == 0, "\(berr)")
        if let gap { #expect(berr.contains(gap), "the identity's gap is printed: \(berr)") } else { #expect(!berr.contains("weaker"), "\(berr)") }
        let id = "warden-export-\(UUID().uuidString.prefix(8).lowercased())"
        let (rs, rout, rerr) = try ExportFixture.run(runc, ["run", "--bundle", bundle, id])
        if rs != 0 && rout.isEmpty, let reason = try runcUnusable(runc) {
            print("skip: runc cannot run even a minimal container here: \(reason)")
            return
        }
        #expect(rs == 0, "\(rerr)")

        let w = parse(wout), r = parse(rout)
        #expect(w.map(\.0) == r.map(\.0), "both ran every check:\nwarden:\n\(wout)\nrunc:\n\(rout)")
        let rmap = Dictionary(r, uniquingKeysWith: { a, _ in a })
        var table = "check                      warden run           runc\n"
        for (key, wv) in w {
            let rv = rmap[key] ?? "missing"
            let same = Self.verdictOnly.contains(key) ? (wv.hasPrefix("errno:") && rv.hasPrefix("errno:")) : wv == rv
            table += "\(same ? " " : "!") \(key.padding(toLength: 25, withPad: " ", startingAt: 0)) \(wv.padding(toLength: 20, withPad: " ", startingAt: 0)) \(rv)\n"
            #expect(same, "\(key): warden run \(wv), runc \(rv)")
            if let want = expected[key] { #expect(wv == want, "\(key): expected \(want), warden run gave \(wv)") }
        }
        for key in Self.verdictOnly { #expect(rmap[key]?.hasPrefix("errno:") == true, "\(key) must be denied under runc") }
        #if arch(x86_64)
        #expect(rmap["x32_getpid"] == "signal:31" && rmap["i386_int80"] == "signal:31", "foreign syscall ABIs kill the process")
        #endif
        print(table)
    }
}
