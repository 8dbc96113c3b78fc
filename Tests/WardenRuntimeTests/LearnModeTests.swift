import Foundation
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// Observing mode (`warden learn`): every rule is still enforced (checked from the host),
/// and the file accesses the policy's world would not allow are recorded as `learn.fs`.
@Suite(.serialized) struct LearnModeTests {
    /// The test agent (Tests/RuntimeProbes/learnprobe.c), compiled once.
    static let probe: String? = {
        guard let dir = try? Fixture.tempDir("learnprobe") else { return nil }
        let out = dir + "/learnprobe"
        guard let (st, _) = try? Fixture.sh("/usr/bin/cc", ["-O1", "-pthread", "-o", out, Fixture.probeSources + "/learnprobe.c"]),
              st == 0 else { return nil }
        return out
    }()

    /// A workspace holding the probe, a host directory outside every grant, and a log dir.
    struct World {
        let workspace: String
        let outside: String
        let logDir: String
        var log: String { logDir + "/audit.jsonl" }
        var probe: String { workspace + "/learnprobe" }

        init() throws {
            workspace = try Fixture.tempDir("learn-ws")
            logDir = try Fixture.tempDir("learn-log")
            outside = "/var/tmp/warden-learn-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let probe = try #require(LearnModeTests.probe)
            try FileManager.default.copyItem(atPath: probe, toPath: workspace + "/learnprobe")
        }

        func remove() {
            for p in [workspace, outside, logDir] { try? FileManager.default.removeItem(atPath: p) }
        }

        /// Runs `arguments` (after the probe) in observing mode under `rules` (identity body).
        func run(_ arguments: [String], rules: String, learn: Bool = true, enforceOnly: Bool = false) throws -> (summary: RunSummary, records: [[String: Any]]) {
            let policyPath = logDir + "/policy.warden"
            let text = "warden 1\ninclude \"\(Fixture.packageRoot)/policies/base.warden\"\nidentity learner {\n  use toolchains\n\(rules)\n}\n"
            try text.write(toFile: policyPath, atomically: true, encoding: .utf8)
            let analysis = try PolicyLoader().analyze(policyPath)
            var effective = try EffectivePolicy(policy: analysis.policy, identity: "learner")
            effective.enforceOnly = enforceOnly
            var request = RunRequest(policyPath: policyPath, policy: analysis.policy, effective: effective,
                                     command: [probe] + arguments, workspace: workspace, timeout: .seconds(120),
                                     auditLogPath: log, wardenVersion: "test", restoreTerminal: false)
            request.learn = learn
            let run = try Run(request, host: .current())
            let summary = try run.execute()
            if summary.exitCode != 0 { print("learn run \(arguments): \(summary.summaryLine)\n" + summary.messages.joined(separator: "\n")) }
            return (summary, try Self.records(log, run: summary.runID))
        }

        static func records(_ log: String, run: String) throws -> [[String: Any]] {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            return text.split(separator: "\n").compactMap { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      o["run"] as? String == run else { return nil }
                return o
            }
        }
    }

    static func fields(_ records: [[String: Any]], _ kind: String) -> [[String: Any]] {
        records.filter { $0["kind"] as? String == kind }.compactMap { $0["fields"] as? [String: Any] }
    }

    static func learned(_ records: [[String: Any]]) -> [(path: String, access: String)] {
        fields(records, "learn.fs").map { ($0["path"] as? String ?? "", $0["access"] as? String ?? "") }
    }

    static let readOnlyWorkspace = "  allow fs read, exec \"${workspace}\""

    @Test func anUngrantedHostFileReadIsRecordedAndStillRefused() throws {
        let w = try World()
        defer { w.remove() }
        try "host secret".write(toFile: w.outside + "/data.txt", atomically: true, encoding: .utf8)
        let (summary, records) = try w.run(["read", w.outside + "/data.txt"], rules: Self.readOnlyWorkspace)
        let start = try #require(Self.fields(records, "run.start").first)
        #expect(start["mode"] as? String == "learn")
        let fs = Self.fields(records, "learn.fs").filter { $0["path"] as? String == w.outside + "/data.txt" }
        #expect(fs.count == 1)
        #expect(fs.first?["access"] as? String == "read")
        #expect(fs.first?["policy_path"] as? String == w.outside + "/data.txt")
        #expect(fs.first?["syscall"] as? String == "openat" || fs.first?["syscall"] as? String == "open")
        #expect(fs.first?["program"] as? String == "learnprobe")
        #expect((fs.first?["count"] as? Int ?? 0) >= 1)
        #expect(summary.exitCode == 0)
        // learn.fs records come before run.exit.
        let kinds = records.compactMap { $0["kind"] as? String }
        #expect((kinds.lastIndex(of: "learn.fs") ?? .max) < (kinds.firstIndex(of: "run.exit") ?? -1))
    }

    @Test func writesUnderAbsentWorkspacePathsAreRecordedByAbsoluteRelativeAndDirfdPathsAndNothingIsWritten() throws {
        let w = try World()
        defer { w.remove() }
        let ws = HostFacts.realDirectory(w.workspace)!
        for (args, name) in [(["write", ws + "/out/new.txt"], "out/new.txt"),
                             (["dirfd-write", ws, "via-dirfd.txt"], "via-dirfd.txt"),
                             (["cwd-write", ws, "sub/../via-cwd.txt"], "via-cwd.txt")] {
            let (_, records) = try w.run(args, rules: Self.readOnlyWorkspace)
            let learned = Self.fields(records, "learn.fs").filter { $0["policy_path"] as? String == "${workspace}/" + name }
            #expect(learned.count == 1, "\(args)")
            #expect(learned.first?["access"] as? String == "write")
            #expect(learned.first?["path"] as? String == ws + "/" + name)
            #expect(!FileManager.default.fileExists(atPath: ws + "/" + name), "enforced: \(name) was not created on the host")
        }
    }

    @Test func allowedAccessesAreNotRecorded() throws {
        let w = try World()
        defer { w.remove() }
        let ws = HostFacts.realDirectory(w.workspace)!
        try "present".write(toFile: ws + "/present.txt", atomically: true, encoding: .utf8)
        let (_, records) = try w.run(["write", ws + "/present.txt"], rules: "  allow fs read, write, exec \"${workspace}\"")
        let learned = Self.learned(records)
        #expect(!learned.contains { $0.path.hasPrefix(ws) }, "nothing under the granted workspace: \(learned)")
        #expect(try String(contentsOfFile: ws + "/present.txt", encoding: .utf8) == "changed")
    }

    @Test func aDeniedWriteLeavesTheHostFileUnchanged() throws {
        let w = try World()
        defer { w.remove() }
        let ws = HostFacts.realDirectory(w.workspace)!
        try "original".write(toFile: ws + "/keep.txt", atomically: true, encoding: .utf8)
        let (summary, records) = try w.run(["write", ws + "/keep.txt"], rules: Self.readOnlyWorkspace)
        #expect(try String(contentsOfFile: ws + "/keep.txt", encoding: .utf8) == "original")
        #expect(Self.learned(records).contains { $0.path == ws + "/keep.txt" && $0.access == "write" })
        _ = summary
    }

    @Test func aDeniedSyscallIsStillDeniedWithItsErrno() throws {
        let w = try World()
        defer { w.remove() }
        let ws = HostFacts.realDirectory(w.workspace)!
        let (_, records) = try w.run(["mkdir", ws + "/made"], rules: "  allow fs read, write, exec \"${workspace}\"\n  deny syscall mkdir, mkdirat errno EACCES")
        #expect(!FileManager.default.fileExists(atPath: ws + "/made"))
        let denied = Self.fields(records, "deny.syscall").compactMap { $0["syscall"] as? String ?? $0["name"] as? String }
        #expect(denied.contains { $0 == "mkdir" || $0 == "mkdirat" }, "\(denied)")
        #expect(!Self.fields(records, "learn.fs").contains { ($0["syscall"] as? String ?? "").hasPrefix("mkdir") },
                "a call the filter denies is not observed as an access")
    }

    @Test func aFloodOfDistinctPathsIsCappedAndTheRunEndsPromptly() throws {
        let w = try World()
        defer { w.remove() }
        let clock = ContinuousClock()
        let began = clock.now
        let (summary, records) = try w.run(["flood", w.outside + "/absent", "50000"], rules: Self.readOnlyWorkspace)
        let elapsed = clock.now - began
        #expect(summary.exitCode == 0)
        let learned = Self.fields(records, "learn.fs")
        #expect(learned.count <= LearnRecorder.defaultCap)
        #expect(learned.count >= LearnRecorder.defaultCap - 64, "the cap is filled before anything is dropped")
        let overflow = try #require(Self.fields(records, "learn.overflow").first)
        #expect((overflow["count"] as? Int ?? 0) >= 50_000 - LearnRecorder.defaultCap)
        #expect(elapsed < .seconds(60), "took \(elapsed)")
        print("learn flood: 50000 distinct paths in \(elapsed)")
    }

    @Test func rewritingThePathBufferConcurrentlyCannotMakeADeniedWriteSucceed() throws {
        let w = try World()
        defer { w.remove() }
        let ws = HostFacts.realDirectory(w.workspace)!
        for dir in ["ok", "ro"] {
            try FileManager.default.createDirectory(atPath: ws + "/" + dir, withIntermediateDirectories: true)
            try "original".write(toFile: ws + "/\(dir)/f.txt", atomically: true, encoding: .utf8)
        }
        let (summary, records) = try w.run(["race", ws + "/ok/f.txt", ws + "/ro/f.txt", "2000"],
                                           rules: "  allow fs read, exec \"${workspace}\"\n  allow fs write \"${workspace}/ok\"")
        #expect(summary.exitCode == 0)
        #expect(try String(contentsOfFile: ws + "/ro/f.txt", encoding: .utf8) == "original", "the denied file is unchanged on the host")
        #expect(try String(contentsOfFile: ws + "/ok/f.txt", encoding: .utf8).count > "original".count, "the race did run")
        _ = records
    }

    @Test func anEnforceOnlyIdentityIsRefused() throws {
        let w = try World()
        defer { w.remove() }
        #expect {
            _ = try w.run(["read", "/etc/hostname"], rules: Self.readOnlyWorkspace, enforceOnly: true)
        } throws: { error in
            (error as? RunSetupError)?.reason == .learnRefused && "\(error)".contains("enforce-only")
        }
        // Without learn the same identity runs.
        let (summary, records) = try w.run(["read", "/etc/hostname"], rules: Self.readOnlyWorkspace, learn: false, enforceOnly: true)
        #expect(summary.exitCode == 0)
        #expect(Self.fields(records, "run.start").first?["mode"] == nil)
        #expect(Self.fields(records, "learn.fs").isEmpty)
    }
}
