import Foundation
import Testing

/// Every denial is visible: the closing line never counts an unobserved layer as 0, and a
/// run that fails because of a denial says which action, which rule and which
/// `warden explain` command (on stderr and in the audit trail, which still verifies).
@Suite(.serialized) struct DenialVisibilityTests {
    static var isRoot: Bool { geteuid() == 0 }

    /// The `run.digest` record's fields of a run, if any.
    func digest(_ run: StockPolicyRun) -> [String: Any]? { run.record("run.digest")?["fields"] as? [String: Any] }

    @Test func aSuccessfulRunNamesItsUnobservedLayersAndPrintsNoDigest() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let run = try StockPolicyRun.run(policy: "default", script: "true", in: f)
        #expect(run.status == 0, "\(run.transcript)")
        let last = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("0 syscall denials recorded in") || last.contains("0 syscall denials, 0 filesystem denials"), "\(last)")
        // Kernel audit is host-wide: another run may have switched it on meanwhile.
        #expect(last.contains("network and filesystem not observed") || last.contains("network and ENOENT outside the grants not observed")
                || last.contains("network and the mount world's filesystem refusals not observed"), "\(last)")
        #expect(last.contains("warden explain") && last.contains("--fs read|write|exec PATH"), "\(last)")
        #expect(!run.stderr.contains("0 denials recorded"), "never a bare 0 for unobserved layers: \(run.stderr)")
        #expect(!run.stderr.contains("the run failed"), "no digest for a successful run: \(run.stderr)")
        #expect(run.record("run.digest") == nil)
    }

    @Test func aSyscallDenialInAFailedRunNamesTheActionRuleAndExplainCommand() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        // unshare is denied (no rule allows it); the workload fails because of it.
        let run = try StockPolicyRun.run(policy: "default", script: "deny_probe unshare && exit 3", in: f)
        #expect(run.status == 3, "\(run.transcript)")
        #expect(run.stderr.contains("the run failed; denials recorded"), "\(run.stderr)")
        #expect(run.stderr.contains("1. syscall unshare ×1: no rule allows syscall unshare (default deny)"), "\(run.stderr)")
        let policy = WardenBinary.root + "/policies/default.warden"
        let explain = "warden explain \(policy) --identity default --syscall unshare"
        #expect(run.stderr.contains("explain: " + explain), "\(run.stderr)")
        #expect(run.stderr.contains("suggestion: allow syscall unshare"), "\(run.stderr)")
        // Kernel audit is host-wide: another run may have switched it on meanwhile.
        #expect((run.stderr.contains("filesystem: not observed") || run.stderr.contains("filesystem: partly observed"))
                && run.stderr.contains("EROFS"), "\(run.stderr)")
        // The explain command printed shows the same decision.
        let args = Array(explain.split(separator: " ").dropFirst().map(String.init))
        let shown = try #require(try WardenBinary.run(args))
        #expect(shown.status == 1 && shown.stdout.hasPrefix("DENY: "), "\(shown.stdout)\(shown.stderr)")
        // Recorded: run.digest before run.exit, and the log verifies.
        let d = try #require(digest(run), "\(run.records)")
        let items = d["denials"] as? [[String: Any]] ?? []
        #expect(items.first?["action"] as? String == "syscall unshare")
        #expect(items.first?["explain"] as? String == explain)
        let kinds = run.records.compactMap { $0["kind"] as? String }
        #expect(kinds.firstIndex(of: "run.digest").map { $0 < (kinds.firstIndex(of: "run.exit") ?? -1) } == true, "\(kinds)")
        let verify = try f.warden(["audit", "verify", f.log, "--public-key", f.keyPrefix + ".pub"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let show = try f.warden(["audit", "show", f.log])
        #expect(show.stdout.contains("digest") && show.stdout.contains("1. syscall unshare ×1"), "\(show.stdout)")
    }

    @Test func aDeniedRuleIsNamedWithItsFileAndLine() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let policy = f.root + "/deny-kill.warden"
        try """
        warden 1
        include "\(WardenBinary.root)/policies/base.warden"
        identity agent {
          use toolchain, scratch
          allow fs read, write, exec "${workspace}"
          deny syscall setsid
        }
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        let r = try f.warden(["run", "--policy", policy, "--workspace", f.workspace, "--audit-log", f.log,
                              "--", "sh", "-c", "setsid true; setsid true; exit 2"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("syscall setsid ×2: \(policy):6:16: deny syscall setsid"), "\(r.stderr)")
        #expect(r.stderr.contains("the deny at \(policy):6:16 decides"), "\(r.stderr)")
    }

    @Test func aNetworkDenialInAFailedRunNamesTheDestinationAndExplainCommand() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let policy = f.root + "/net.warden"
        try """
        warden 1
        include "\(WardenBinary.root)/policies/base.warden"
        identity agent {
          use toolchain, scratch
          allow fs read, write, exec "${workspace}"
          allow net connect tcp "127.0.0.1:1"
        }
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        let script = "python3 -c 'import socket; socket.create_connection((\"192.0.2.1\", 9), timeout=5)'"
        let r = try f.warden(["run", "--policy", policy, "--workspace", f.workspace, "--audit-log", f.log,
                              "--", "sh", "-c", script])
        #expect(r.status != 0, "\(r.stderr)")
        #expect(r.stderr.contains("connect tcp 192.0.2.1:9 ×1: no rule allows connect tcp 192.0.2.1:9"), "\(r.stderr)")
        #expect(r.stderr.contains("explain: warden explain \(policy) --identity agent --connect tcp 192.0.2.1:9"), "\(r.stderr)")
        #expect(r.stderr.contains("suggestion: allow net connect tcp \"192.0.2.1:9\""), "\(r.stderr)")
        #expect(r.stderr.contains("network denial"), "the network layer is observed and counted: \(r.stderr)")
    }

    @Test func aFilesystemDenialIsAtLeastExplainedWhenUnobserved() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        // Writing .git/config under default fails (a read-only bind: EROFS); the filesystem
        // layer is not observed here, so the digest says so and how to check the path.
        let run = try StockPolicyRun.run(policy: "default", script: "echo x >> .git/config", in: f)
        #expect(run.status != 0, "\(run.transcript)")
        // Without kernel audit, the mount world's EROFS is not observed: the digest says so.
        // (Kernel audit is host-wide: if another run switched it on meanwhile, this run
        // recorded the EROFS itself; MountWorldObservationTests checks that case.)
        if run.stderr.contains("filesystem: not observed") {
            #expect(run.stderr.contains("read-only binds (EROFS"), "\(run.stderr)")
        } else {
            #expect(run.stderr.contains("filesystem: partly observed"), "\(run.stderr)")
        }
        #expect(run.stderr.contains("--fs read|write|exec PATH"), "\(run.stderr)")
        let d = try #require(digest(run))
        #expect((d["unobserved"] as? [String: Any])?["filesystem"] != nil, "\(d)")
        let explain = try #require(try WardenBinary.run(["explain", WardenBinary.root + "/policies/default.warden",
                                                         "--fs", "write", "${workspace}/.git/config"]))
        #expect(explain.status == 1 && explain.stdout.contains("read-only bind"), "\(explain.stdout)")
    }

    /// Whether a run holds kernel audit now (its shared lock on Warden's hold file).
    static func othersHoldKernelAudit() -> Bool {
        let fd = open("/run/warden/kernel-audit.hold", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) != 0
    }

    /// The kernel audit state as `warden doctor --format json` reads it.
    func kernelAudit() throws -> String? {
        guard let r = try WardenBinary.run(["doctor", "--format", "json"]),
              let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return nil }
        return (obj["denials_observed"] as? [String: Any])?["kernel_audit"] as? String
    }

    /// With --observe-filesystem, Landlock's denials become deny.fs records with the deciding
    /// rule, the digest shows them, a flood is aggregated, and the host-wide kernel audit
    /// switch is back where it was after the run.
    @Test func observedLandlockDenialsAreRecordedAndTheAuditSwitchIsRestored() throws {
        guard Self.isRoot else { print("skip: observing filesystem denials needs root"); return }
        guard let before = try kernelAudit(), before == "enabled" || before == "disabled" else {
            print("skip: the kernel audit state cannot be read here"); return
        }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let r = try f.warden(["run", "--observe-filesystem", "--policy", WardenBinary.root + "/policies/default.warden",
                              "--workspace", f.workspace, "--audit-log", f.log, "--signing-key", f.keyPrefix + ".key", "--",
                              "sh", "-c", "i=0; while [ $i -lt 300 ]; do ls / >/dev/null 2>&1; i=$((i+1)); done; exit 5"])
        // Kernel audit is host-wide and other runs (other tests) may hold it meanwhile: the
        // switch is back unless another run holds it, or the run that had switched it on
        // before this one started has finished since (then Warden left no switch behind).
        let after = try kernelAudit()
        #expect(after == before || Self.othersHoldKernelAudit()
                || (before == "enabled" && access("/run/warden/kernel-audit.switched", F_OK) != 0),
                "the kernel audit switch is restored (before \(before), after \(after ?? "?"))")
        #expect(r.status == 5, "\(r.stderr)")
        guard r.stderr.contains("fs.read_dir") else {
            print("skip: this kernel logged no Landlock denial (Landlock ABI < 7?): \(r.stderr)"); return
        }
        #expect(r.stderr.contains("1. fs.read_dir / (EACCES) ×"), "\(r.stderr)")
        #expect(r.stderr.contains("none advised: / is only the way to granted paths"), "\(r.stderr)")
        #expect(r.stderr.contains("filesystem denial") && (r.stderr.contains("(not ENOENT)") || r.stderr.contains("(Landlock only)")), "\(r.stderr)")
        #expect(r.stderr.contains("filesystem: partly observed"), "\(r.stderr)")
        let show = try f.warden(["audit", "show", f.log, "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        let records = ((json?["runs"] as? [[String: Any]])?.last?["records"] as? [[String: Any]]) ?? []
        let fs = records.filter { $0["kind"] as? String == "deny.fs" }.compactMap { $0["fields"] as? [String: Any] }
        let total = fs.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) }
        #expect(fs.count >= 1 && fs.count <= 10, "aggregated: \(fs.count) records")
        #expect(total >= 1 && total <= 300, "\(total)")
        #expect(fs.first?["path"] as? String == "/" && fs.first?["rule"] as? String == "no rule allows read / (default deny)", "\(fs)")
        let start = records.first { $0["kind"] as? String == "run.start" }?["fields"] as? [String: Any]
        #expect((start?["layers_unobserved"] as? [String])?.contains("landlock") == false)
        let verify = try f.warden(["audit", "verify", f.log, "--public-key", f.keyPrefix + ".pub"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// Landlock denials of processes outside the run (another sandbox on the host) are not
    /// the run's: only pids in the run's PID namespace count.
    @Test func landlockDenialsOfOtherProcessesAreNotAttributedToTheRun() throws {
        guard Self.isRoot else { print("skip: observing filesystem denials needs root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        // Outside the sandbox, while the run lasts: a host process in its own Landlock domain
        // (python3 has no Landlock binding: use `warden run` itself with another log).
        let other = f.root + "/other.jsonl"
        let ws2 = f.root + "/ws2"
        try FileManager.default.createDirectory(atPath: ws2, withIntermediateDirectories: true)
        let policy = WardenBinary.root + "/policies/default.warden"
        let done = DispatchSemaphore(value: 0)
        let neighbour = Thread {
            _ = try? WardenBinary.run(["run", "--observe-filesystem", "--policy", policy, "--workspace", ws2, "--audit-log", other, "--",
                                       "sh", "-c", "i=0; while [ $i -lt 150 ]; do ls / >/dev/null 2>&1; sleep 0.02; i=$((i+1)); done"])
            done.signal()
        }
        neighbour.start()
        Thread.sleep(forTimeInterval: 0.4)
        let r = try f.warden(["run", "--observe-filesystem", "--policy", policy, "--workspace", f.workspace,
                              "--audit-log", f.log, "--", "sh", "-c", "sleep 1; exit 6"])
        done.wait()
        #expect(r.status == 6, "\(r.stderr)")
        let theirs = try f.warden(["audit", "show", other, "--kind", "deny.fs"])
        guard theirs.stdout.contains("fs.read_dir") else {
            print("skip: the neighbouring run recorded no Landlock denial here; nothing to attribute: \(theirs.stdout)"); return
        }
        #expect(!r.stderr.contains("fs.read_dir"), "another sandbox's denials are not this run's: \(r.stderr)")
    }

    /// With CAP_SETUID (granted on purpose, with setuid named) the switch to 1000 works and
    /// is one-way: the kernel refuses the return to 0. @default's ID-switch calls are
    /// withdrawn for such an identity (setresuid is denied and recorded).
    @Test func withCapSetuidADropIsOneWayAndDefaultsSwitchCallsAreWithdrawn() throws {
        guard Self.isRoot else { print("skip: needs root (an agent holding CAP_SETUID)"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let policy = f.root + "/cap.warden"
        try """
        warden 1
        include "\(WardenBinary.root)/policies/base.warden"
        identity agent {
          use toolchain, scratch
          allow fs read, write, exec "${workspace}"
          allow capability SETUID because "test: a one-way drop"
          allow syscall setuid because "test: a one-way drop"
        }
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        let script = #"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        def call(f, *a):
            r = f(*[ctypes.c_int(x) for x in a]); return r, ctypes.get_errno()
        print("DROP", *call(libc.setuid, 1000), *os.getresuid())
        print("BACK", *call(libc.setuid, 0), *os.getresuid())
        print("RES", *call(libc.setresuid, -1, 0, -1), *os.getresuid())
        """#
        let r = try f.warden(["run", "--policy", policy, "--workspace", f.workspace, "--audit-log", f.log,
                              "--", "python3", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("DROP 0 0 1000 1000 1000"), "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("BACK -1 1 1000 1000 1000"), "the kernel refuses the return to 0: \(r.stdout)")
        #expect(r.stdout.contains("RES -1 1 1000 1000 1000"), "\(r.stdout)")
        let show = try f.warden(["audit", "show", f.log, "--kind", "deny.syscall"])
        #expect(show.stdout.contains("syscall setresuid"), "@default's allow is withdrawn: \(show.stdout)")
    }

    @Test func doctorSaysWhichDenialsARunObserves() throws {
        guard let r = try WardenBinary.run(["doctor", "--format", "json"]) else { return }
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        let observed = try #require(obj["denials_observed"] as? [String: Any])
        let fs = observed["filesystem"] as? String
        #expect(fs == "landlock,mount" || fs == "mount" || fs == "none", "\(observed)")
        if !Self.isRoot { #expect(fs == "none") }
        let audit = observed["kernel_audit"] as? String ?? ""
        #expect(audit == "enabled" || audit == "disabled" || audit.hasPrefix("unknown: "), "\(audit)")
        if Self.isRoot { #expect(audit != "unknown: EPERM", "root may read the audit state") }
        let text = try #require(try WardenBinary.run(["doctor"]))
        #expect(text.stdout.contains("denials        kernel audit"), "\(text.stdout)")
    }

    /// GNU make calls setresuid(-1, 0, -1) before spawning each child.
    @Test func makeSpawningCcRunsUnderTheStockDefault() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/make"), FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else {
            print("skip: make or cc is not installed"); return
        }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let run = try StockPolicyRun.run(policy: "default", script: "step make make && step run ./hello", in: f)
        #expect(run.status == 0 && run.steps["make"] == 0 && run.steps["run"] == 0, "\(run.transcript)")
        #expect(run.stdout.contains("hello 49") || run.steps["run"] == 0, "\(run.transcript)")
        #expect(!run.deniedSyscalls.contains("setresuid"), "\(run.records)")
    }

    /// The ID-switch calls only permute IDs the agent already holds: the kernel refuses any
    /// other ID (no CAP_SETUID), so nothing is gained.
    @Test func theIDSwitchCallsGainNothing() throws {
        guard Self.isRoot else { print("skip: warden run needs root here"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let script = #"""
        python3 - <<'PY'
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        def call(name, *a):
            r = getattr(libc, name)(*[ctypes.c_int(x) for x in a])
            return r, ctypes.get_errno()
        print("KEEP", call("setresuid", -1, 0, -1)[0])
        r, e = call("setuid", 1000)
        print("SETUID1000", r, e, os.getuid(), os.geteuid())
        r, e = call("setresuid", 1000, 1000, 1000)
        print("RES1000", r, e, os.getresuid())
        libc.setfsuid(1000)
        print("FSUID", libc.setfsuid(-1))
        r, e = call("setgid", 1000)
        print("SETGID1000", r, e, os.getgid())
        PY
        """#
        let run = try StockPolicyRun.run(policy: "default", script: script, in: f)
        #expect(run.status == 0, "\(run.transcript)")
        let uid = run.stdout.split(separator: "\n").first { $0.hasPrefix("SETUID1000") }.map(String.init) ?? ""
        #expect(run.stdout.contains("KEEP 0\n"), "switching to an ID already held works: \(run.transcript)")
        #expect(uid.hasPrefix("SETUID1000 -1 "), "setuid(1000) is refused by the kernel: \(run.transcript)")
        let parts = uid.split(separator: " ")
        #expect(parts.count == 5 && parts[3] == parts[4] && parts[3] != "1000", "the IDs did not change: \(uid)")
        #expect(run.stdout.contains("RES1000 -1 "), "\(run.transcript)")
        #expect(!run.stdout.contains("FSUID 1000"), "the fsuid did not change: \(run.transcript)")
        #expect(run.stdout.contains("SETGID1000 -1 "), "\(run.transcript)")
    }
}

/// The mount world's refusals, observed through kernel audit rules that match the run's own
/// login uid. Part of the serialized suite: kernel audit is host-wide, so these runs must not
/// switch it under the other tests that check its state.
extension DenialVisibilityTests {
    @Test func aProtectedPathsEROFSIsRecordedWithTheDecidingRule() throws {
        guard geteuid() == 0 else { print("skip: observing filesystem denials needs root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let run = try f.warden(["run", "--observe-filesystem", "--policy", WardenBinary.root + "/policies/default.warden",
                                "--workspace", f.workspace, "--audit-log", f.log, "--signing-key", f.keyPrefix + ".key",
                                "--", "sh", "-c", "echo x >> .git/config; exit 9"])
        #expect(run.status == 9, "\(run.stderr)")
        guard run.stderr.contains("(EROFS)") else {
            print("skip: kernel audit rules are not available here: \(run.stderr)"); return
        }
        #expect(run.stderr.contains("1. openat ${workspace}/.git/config (EROFS) ×1: \(WardenBinary.root)/policies/base.warden:"), "\(run.stderr)")
        #expect(run.stderr.contains("explain: warden explain \(WardenBinary.root)/policies/default.warden --identity default --fs write '${workspace}/.git/config'"), "\(run.stderr)")
        #expect(run.stderr.contains("(not ENOENT)") && run.stderr.contains("ENOENT outside the grants not observed"), "\(run.stderr)")
        let show = try f.warden(["audit", "show", f.log, "--kind", "deny.fs"])
        #expect(show.stdout.contains("deny       fs openat \(f.workspace)/.git/config ×1") && show.stdout.contains("via mount"), "\(show.stdout)")
        let verify = try f.warden(["audit", "verify", f.log, "--public-key", f.keyPrefix + ".pub"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // The explain command printed agrees: DENY by the same rule.
        let explain = try #require(try WardenBinary.run(["explain", WardenBinary.root + "/policies/default.warden", "--identity", "default",
                                                         "--fs", "write", "${workspace}/.git/config"]))
        #expect(explain.status == 1 && explain.stdout.contains("base.warden:"), "\(explain.stdout)")
    }

    /// `git config --local` renames its lock file onto the protected .git/config: EBUSY,
    /// "Device or resource busy". The digest names the target and the rule protecting it.
    @Test func gitConfigLocalsEBUSYIsExplained() throws {
        guard geteuid() == 0 else { print("skip: observing filesystem denials needs root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let run = try f.warden(["run", "--observe-filesystem", "--policy", WardenBinary.root + "/policies/default.warden",
                                "--workspace", f.workspace, "--audit-log", f.log, "--", "git", "config", "--local", "user.name", "agent"])
        #expect(run.status != 0, "\(run.stderr)")
        guard run.stderr.contains("(EBUSY)") else { print("skip: kernel audit rules are not available here: \(run.stderr)"); return }
        #expect(run.stderr.contains("Device or resource busy"), "\(run.stderr)")
        #expect(run.stderr.contains("rename ${workspace}/.git/config (EBUSY) ×1: \(WardenBinary.root)/policies/base.warden:"), "\(run.stderr)")
    }

    /// An agent failing in a loop (20,000 refused opens) leaves a few aggregated records
    /// with the true count of what kernel audit delivered, not 20,000 lines.
    @Test func aFloodOfRefusalsIsAggregated() throws {
        guard geteuid() == 0 else { print("skip: observing filesystem denials needs root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let script = """
        import os
        for i in range(20000):
            try: os.open(".git/config", os.O_WRONLY)
            except OSError: pass
        raise SystemExit(4)
        """
        let run = try f.warden(["run", "--observe-filesystem", "--policy", WardenBinary.root + "/policies/default.warden",
                                "--workspace", f.workspace, "--audit-log", f.log, "--", "python3", "-c", script])
        #expect(run.status == 4, "\(run.stderr)")
        guard run.stderr.contains("(EROFS)") else { print("skip: kernel audit rules are not available here: \(run.stderr)"); return }
        let show = try f.warden(["audit", "show", f.log, "--format", "json", "--kind", "deny.fs"])
        let json = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        let records = ((json?["runs"] as? [[String: Any]])?.last?["records"] as? [[String: Any]]) ?? []
        let counts = records.compactMap { ($0["fields"] as? [String: Any])?["count"] as? Int }
        print("flood: \(counts.reduce(0, +)) of 20000 refusals recorded in \(records.count) records")
        #expect(records.count >= 1 && records.count <= 40, "aggregated: \(records.count) records")
        #expect(counts.reduce(0, +) <= 20000)
        // Known gap: records kauditd still holds when the run ends are missed without a
        // counter saying so (measured: 19,650 of 20,000 under load); only drops counted by
        // kernel audit or the socket are reported as a lower bound.
    }

    /// The agent cannot shed the run's login uid (CAP_AUDIT_CONTROL is gone), and a host
    /// process's failures are not the run's.
    @Test func theAgentKeepsTheRunsLoginUIDAndHostFailuresAreNotAttributed() throws {
        guard geteuid() == 0 else { print("skip: needs root"); return }
        guard let f = try StockPolicyFixture.make() else { return }
        defer { f.remove() }
        let script = "cat /proc/self/loginuid; echo; echo 4294967295 > /proc/self/loginuid && echo CHANGED; sleep 1; exit 3"
        let hostFile = f.root + "/ro-host"
        try "x".write(toFile: hostFile, atomically: true, encoding: .utf8)
        let done = DispatchSemaphore(value: 0)
        let host = Thread {
            // Outside the sandbox, during the run: failed opens of the host's own.
            for _ in 0..<20 { _ = open("/proc/1/mem", O_RDWR); usleep(20_000) }
            done.signal()
        }
        host.start()
        let run = try f.warden(["run", "--observe-filesystem", "--policy", WardenBinary.root + "/policies/default.warden",
                                "--workspace", f.workspace, "--audit-log", f.log, "--", "sh", "-c", script])
        done.wait()
        #expect(run.status == 3, "\(run.stderr)")
        #expect(!run.stdout.contains("CHANGED"), "the agent cannot change its login uid: \(run.stdout)")
        #expect(!run.stderr.contains("/proc/1/mem"), "the host's failures are not the run's: \(run.stderr)")
    }
}
