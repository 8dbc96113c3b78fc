import Foundation
import Testing

/// One `warden run` of a stock policy over a shell workload in a `StockPolicyFixture`, with
/// the workload's step results and the run's audit records.
struct StockPolicyRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// `step NAME CMD...` in the workload prints `STEP NAME RC`; this maps NAME to RC.
    var steps: [String: Int32]
    /// This run's audit records (`warden audit show --format json`), oldest first.
    var records: [[String: Any]]

    /// Shell functions every workload can use:
    /// - `step NAME CMD...` runs CMD, prints `STEP NAME RC`, and its output only when it failed;
    /// - `deny_probe SYSCALL` calls SYSCALL through python3 ctypes and succeeds when it got EPERM;
    /// - `commit ARGS...` is `git commit -q` as the agent.
    static let prelude = #"""
        step() { n=$1; shift; "$@" > "$TMPDIR/step.out" 2>&1; rc=$?; echo "STEP $n $rc"; if [ $rc -ne 0 ]; then sed 's/^/  | /' "$TMPDIR/step.out"; fi; }
        deny_probe() { python3 - "$1" <<'PY'
        import ctypes, platform, sys
        numbers = {"x86_64": {"ptrace": 101, "bpf": 321, "perf_event_open": 298, "keyctl": 250, "unshare": 272},
                   "aarch64": {"ptrace": 117, "bpf": 280, "perf_event_open": 241, "keyctl": 219, "unshare": 97}}
        libc = ctypes.CDLL(None, use_errno=True)
        r = libc.syscall(numbers[platform.machine()][sys.argv[1]], 0, 0, 0, 0, 0)
        sys.exit(0 if r == -1 and ctypes.get_errno() == 1 else 1)
        PY
        }
        commit() { git -c user.name=Agent -c user.email=agent@example.com commit -q "$@"; }

        """#

    /// Runs `script` (after the prelude) with `sh -c` under `policies/NAME.warden`, signing the
    /// audit checkpoint with the fixture's key.
    static func run(policy name: String, bestEffort: Bool = false, script: String,
                    in f: StockPolicyFixture) throws -> StockPolicyRun {
        var args = ["run", "--policy", WardenBinary.root + "/policies/\(name).warden", "--workspace", f.workspace,
                    "--audit-log", f.log, "--signing-key", f.keyPrefix + ".key", "--timeout", "120s"]
        if bestEffort { args.append("--best-effort") }
        let r = try f.warden(args + ["--", "sh", "-c", prelude + script])
        var steps: [String: Int32] = [:]
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("STEP ") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let rc = Int32(parts[2]) { steps[String(parts[1])] = rc }
        }
        let show = try f.warden(["audit", "show", f.log, "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        let runs = json?["runs"] as? [[String: Any]] ?? []
        let records = runs.last?["records"] as? [[String: Any]] ?? []
        return StockPolicyRun(status: r.status, stdout: r.stdout, stderr: r.stderr, steps: steps, records: records)
    }

    /// Everything a failed expectation should show.
    var transcript: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }

    func record(_ kind: String) -> [String: Any]? { records.first { $0["kind"] as? String == kind } }

    /// Names of the syscalls recorded as denied in this run.
    var deniedSyscalls: [String] {
        records.filter { $0["kind"] as? String == "deny.syscall" }
            .compactMap { ($0["fields"] as? [String: Any])?["name"] as? String }
    }

    /// The checks every stock-policy run shares: the workload finished, each allowed step
    /// succeeded and each forbidden one failed, the syscall probe was denied and recorded, the
    /// run was recorded for the right identity, and the signed log verifies.
    func expectOutcome(identity: String, allowed: [String], forbidden: [String], deniedSyscall: String,
                       fixture f: StockPolicyFixture) throws {
        #expect(status == 0, "\(transcript)")
        for name in allowed { #expect(steps[name] == 0, "step \(name) should succeed\n\(transcript)") }
        for name in forbidden {
            #expect(steps[name] != nil && steps[name] != 0, "step \(name) should be denied\n\(transcript)")
        }
        #expect(steps["probe-\(deniedSyscall)"] == 0, "\(deniedSyscall) should fail with EPERM\n\(transcript)")
        #expect(deniedSyscalls.contains(deniedSyscall), "no deny.syscall record for \(deniedSyscall): \(records)")
        let start = record("run.start")?["fields"] as? [String: Any]
        #expect(start?["identity"] as? String == identity)
        #expect((record("run.exit")?["fields"] as? [String: Any])?["exit_code"] as? Int == 0)
        #expect(!stdout.contains(StockPolicyFixture.fakeKey) && !stderr.contains(StockPolicyFixture.fakeKey))
        let verify = try f.warden(["audit", "verify", f.log, "--public-key", f.keyPrefix + ".pub"])
        #expect(verify.status == 0, "audit verify: \(verify.stdout)\(verify.stderr)")
    }
}
