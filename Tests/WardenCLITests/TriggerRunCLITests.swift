import Foundation
import Testing

/// `warden trigger` through the real binary: the caller is decided by the trigger's `by`
/// list, the decision is recorded whatever it is, an allowed trigger runs its identity's
/// command in its workspace with `run.start` naming the trigger and its authorization, and
/// a caller through sudo cannot bring their own policy or audit log.
@Suite("Manual triggers", .serialized) struct TriggerRunCLITests {
    struct World {
        let dir: String
        var policy: String { dir + "/agents.warden" }
        var log: String { dir + "/audit/audit.jsonl" }
        var workspace: String { dir + "/ws" }

        init() throws {
            dir = try WardenBinary.tempDir("trigger")
            chmod(dir, 0o755)
            for d in ["/ws", "/audit", "/state"] { try FileManager.default.createDirectory(atPath: dir + d, withIntermediateDirectories: true) }
            try """
            warden 1
            include "\(WardenBinary.root)/policies/default.warden"

            trigger by-hand {
              identity default
              on manual
              by "root", "nobody"
              workspace "\(dir)/ws"
              run "sh", "-c", "echo ran > out.txt; exit 3"
            }

            trigger devs-only {
              identity default
              on manual
              by group "no-such-group-here"
              run "true"
            }

            trigger scratch {
              identity default
              on manual
              by "root"
              run "sh", "-c", "pwd >&2"
            }

            trigger nightly {
              identity default
              on schedule "0 3 * * *"
              run "true"
            }

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        }

        func trigger(_ name: String, extra: [String] = [], sudoAs uid: Int? = nil) throws -> WardenBinary.Result? {
            var env = ProcessInfo.processInfo.environment
            env["WARDEN_AUDIT_LOG"] = log
            env["WARDEN_STATE_DIR"] = dir + "/state"
            if let uid { env["SUDO_UID"] = "\(uid)"; env["SUDO_GID"] = "\(uid)" } else { env["SUDO_UID"] = nil }
            return try WardenBinary.run(["trigger", "--policy", policy, name, "-q"] + extra, environment: env)
        }

        func records() -> [[String: Any]] { CLISupport.auditRecords(log) }
    }

    static var isRoot: Bool {
        if getuid() == 0 { return true }
        print("skip: needs root (warden run's mounts, and a sudo caller is root with SUDO_UID)")
        return false
    }

    @Test func anAllowedCallerRunsTheTriggerAndEverythingIsRecorded() throws {
        guard Self.isRoot else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        guard let r = try w.trigger("by-hand") else { return }
        #expect(r.status == 3, "the command's own status: \(r.stderr)")
        #expect(try String(contentsOfFile: w.workspace + "/out.txt", encoding: .utf8) == "ran\n")
        let recs = w.records()
        let allow = try #require(recs.first { $0["kind"] as? String == "trigger.allow" })
        let fields = try #require(allow["fields"] as? [String: Any])
        #expect(fields["user"] as? String == "root" && fields["uid"] as? Int == 0 && fields["delegated"] as? Bool == false)
        #expect(fields["trigger"] as? String == "by-hand" && fields["identity"] as? String == "default")
        let start = try #require(recs.first { $0["kind"] as? String == "run.start" }?["fields"] as? [String: Any])
        #expect(start["trigger"] as? String == "by-hand")
        #expect(start["trigger_decision"] as? String == allow["run"] as? String, "run.start names the record that authorized it")

        guard let scratch = try w.trigger("scratch") else { return }
        #expect(scratch.status == 0, "\(scratch.stderr)")
        #expect(scratch.stderr.contains(w.dir + "/state/triggers/"), "a fresh workspace in the state directory: \(scratch.stderr)")
    }

    @Test func aRefusedCallerIsRecordedAndNothingRuns() throws {
        guard Self.isRoot else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        guard let r = try w.trigger("devs-only") else { return }
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("refused") && r.stderr.contains("devs-only"), "\(r.stderr)")
        let recs = w.records()
        let refuse = try #require(recs.first { $0["kind"] as? String == "trigger.refuse" }?["fields"] as? [String: Any])
        #expect((refuse["reason"] as? String)?.isEmpty == false && refuse["user"] as? String == "root")
        #expect(!recs.contains { $0["kind"] as? String == "run.start" })
    }

    @Test func aCallerThroughSudoIsThemselvesAndCannotBringTheirOwnPolicyOrLog() throws {
        guard Self.isRoot else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        guard let nobody = getpwnam("nobody") else { print("skip: no user nobody"); return }
        let uid = Int(nobody.pointee.pw_uid)
        // Allowed by name, recorded as that user.
        guard let r = try w.trigger("by-hand", sudoAs: uid) else { return }
        #expect(r.status == 3, "\(r.stderr)")
        let allow = try #require(w.records().last { $0["kind"] as? String == "trigger.allow" }?["fields"] as? [String: Any])
        #expect(allow["user"] as? String == "nobody" && allow["delegated"] as? Bool == true)
        // Not in the by list.
        guard let refused = try w.trigger("scratch", sudoAs: uid) else { return }
        #expect(refused.status == 77, "\(refused.stderr)")
        // Their own audit log: refused before anything.
        guard let ownLog = try w.trigger("by-hand", extra: ["--audit-log", w.dir + "/mine.jsonl"], sudoAs: uid) else { return }
        #expect(ownLog.status == 125 && ownLog.stderr.contains("sudo"), "\(ownLog.stderr)")
        // A policy the caller can change (theirs, or in a directory others can write).
        let before = w.records().count
        chown(w.policy, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        guard let theirs = try w.trigger("by-hand", sudoAs: uid) else { return }
        #expect(theirs.status == 125 && theirs.stderr.contains("can be changed by a user other than root"), "\(theirs.stderr)")
        chown(w.policy, 0, 0)
        chmod(w.dir, 0o777)
        guard let open = try w.trigger("by-hand", sudoAs: uid) else { return }
        #expect(open.status == 125, "\(open.stderr)")
        chmod(w.dir, 0o755)
        #expect(w.records().count == before, "nothing recorded or run for a refused policy")
    }

    @Test func unknownAndNonManualTriggersAreUsageErrors() throws {
        guard Self.isRoot else { return }
        let w = try World()
        defer { try? FileManager.default.removeItem(atPath: w.dir) }
        guard let unknown = try w.trigger("nope") else { return }
        #expect(unknown.status == 125 && unknown.stderr.contains("no trigger nope"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("by-hand"), "names the manual triggers: \(unknown.stderr)")
        guard let scheduled = try w.trigger("nightly") else { return }
        #expect(scheduled.status == 125 && scheduled.stderr.contains("schedule"), "\(scheduled.stderr)")
        guard let hostile = try w.trigger("x\u{1B}]0;pwned\u{07}") else { return }
        #expect(hostile.status == 125 && !hostile.stderr.contains("\u{1B}"))
        #expect(w.records().isEmpty)
    }
}
