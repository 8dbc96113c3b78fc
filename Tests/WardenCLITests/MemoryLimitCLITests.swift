import Foundation
import Testing

/// `limit memory` is a cgroup memory limit (v2 where delegated, else the v1 memory
/// controller as root), never a silent address-space limit; `limit address-space` is
/// RLIMIT_AS by name. Real enforcement, checked from the host.
@Suite(.serialized) struct MemoryLimitCLITests {
    /// The mechanism, or nil (skip, reason printed) when this host has none.
    static func mechanism() throws -> (mechanism: String, detail: String)? {
        guard let m = try memoryMechanism() else { return nil }
        if m.mechanism == "none" { print("skip: no memory controller for `limit memory` here: \(m.detail)"); return nil }
        return m
    }

    /// Run cgroups (`warden-*`) left in `directory`.
    static func runCgroups(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("warden-") }
    }

    @Test func aProcessThatTouchesMoreThanTheLimitIsKilledAndTheRunSaysWhy() throws {
        guard let (_, dir) = try Self.mechanism() else { return }
        let f = try LanguageRunFixture("mem-oom", body: "  limit memory 128MiB")
        defer { f.remove() }
        guard let probe = try f.compile("mem", memoryProbeSource) else { return }
        guard let r = try f.run([probe, "touch", "1024"]) else { return }
        #expect(r.status == 137, "killed by SIGKILL\n\(r.stdout)\n\(r.stderr)")
        #expect(!r.stdout.contains("touched"))
        #expect(r.stderr.contains("memory limit (limit memory 128MiB) was reached"), "\(r.stderr)")
        #expect(r.stderr.contains("out of memory"), "\(r.stderr)")
        let exit = f.lastRecord("run.exit")
        #expect((exit?["oom_kills"] as? Int ?? 0) >= 1, "run.exit records the OOM kill: \(String(describing: exit))")
        #expect(exit?["killed_by"] as? String == "memory limit")
        // It got close to the limit first: the limit is on memory used, not reserved.
        let reached = r.stdout.split(separator: "\n").compactMap { Int($0) }.max() ?? 0
        #expect(reached >= 64 && reached <= 128, "touched \(reached) MiB before the kill")
        #expect(Self.runCgroups(in: dir).isEmpty, "the run's cgroup is removed: \(Self.runCgroups(in: dir))")
    }

    @Test func anAddressSanitizerStyleReservationSucceedsUnderLimitMemory() throws {
        guard try Self.mechanism() != nil else { return }
        let f = try LanguageRunFixture("mem-reserve", body: "  limit memory 1GiB")
        defer { f.remove() }
        guard let probe = try f.compile("mem", memoryProbeSource) else { return }
        guard let r = try f.run([probe, "reserve"]) else { return }
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("reserved"))
    }

    @Test func limitAddressSpaceMakesTheReservationFail() throws {
        let f = try LanguageRunFixture("mem-as", body: "  limit address-space 1GiB")
        defer { f.remove() }
        guard let probe = try f.compile("mem", memoryProbeSource) else { return }
        guard let r = try f.run([probe, "reserve"]) else { return }
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("failed 12"), "ENOMEM: \(r.stdout)")
    }

    @Test func cgroupsOfDeadSupervisorsAreRemovedByTheNextRun() throws {
        guard let (mechanism, dir) = try Self.mechanism() else { return }
        guard mechanism == "cgroup-v1" else { print("skip: the abandoned-cgroup check uses the v1 memory hierarchy; here: \(mechanism)"); return }
        // A pid that cannot exist (above pid_max's ceiling of 2^22).
        let stale = dir + "/warden-4999999-12345"
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        defer { rmdir(stale) }
        let f = try LanguageRunFixture("mem-stale", body: "  limit memory 256MiB")
        defer { f.remove() }
        guard let r = try f.run(["/bin/true"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale), "the abandoned cgroup is removed")
        #expect(Self.runCgroups(in: dir).isEmpty)
    }

    @Test func doctorSaysWhichMechanismLimitMemoryGets() throws {
        guard let r = try WardenBinary.run(["doctor"]) else { return }
        let line = r.stdout.split(separator: "\n").first { $0.contains("limit memory") }
        #expect(line != nil, "\(r.stdout)")
        guard let m = try memoryMechanism() else { return }
        switch m.mechanism {
        case "cgroup-v1": #expect(line?.contains("cgroup v1 memory controller") == true)
        case "cgroup-v2": #expect(line?.contains("cgroup v2 memory controller") == true)
        default: #expect(line?.contains("refused at launch") == true)
        }
    }

    /// As nobody on a host whose only memory controller is cgroup v1 (root only), a real
    /// launch with `limit memory` is refused with exit status 125 and the choices; with
    /// --best-effort it runs, warns, and `run.start` lists the skipped limit.
    @Test func withoutAMechanismTheLaunchIsRefusedOrSkippedWithBestEffort() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            print("skip: needs root and setpriv to run as nobody"); return
        }
        let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
        let doctor = try CLISupport.run("/usr/bin/setpriv", nobody + [WardenBinary.path, "doctor", "--format", "json"], in: "/")
        guard doctor.status == 0 || doctor.status == 1,
              let obj = try? JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any],
              let m = obj["limit_memory"] as? [String: Any] else { print("skip: warden does not run as nobody here: \(doctor.stderr)"); return }
        guard m["mechanism"] as? String == "none" else { print("skip: nobody has a memory controller here (\(m))"); return }
        let f = try LanguageRunFixture("mem-nobody", body: "  limit memory 256MiB")
        defer { f.remove() }
        for dir in [f.root, f.workspace, f.root + "/audit"] { #expect(chown(dir, 65534, 65534) == 0) }
        #expect(chown(f.policy, 65534, 65534) == 0)
        let base = nobody + [WardenBinary.path, "run", "--policy", f.policy, "--workspace", f.workspace, "--audit-log", f.log]
        let refused = try CLISupport.run("/usr/bin/setpriv", base + ["--", "/bin/true"], in: "/")
        #expect(refused.status == 125, "\(refused.stderr)")
        #expect(refused.stderr.contains("limit memory 256MiB cannot be enforced here") && refused.stderr.contains("limit address-space")
                && refused.stderr.contains("--best-effort"), "\(refused.stderr)")
        let lenient = try CLISupport.run("/usr/bin/setpriv", base + ["--best-effort", "--", "/bin/true"], in: "/")
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.stderr.contains("warning: layer not enforced (--best-effort): limits: limit memory 256MiB"), "\(lenient.stderr)")
        let skipped = f.lastRecord("run.start")?["layers_skipped"] as? [String] ?? []
        #expect(skipped.contains { $0.hasPrefix("limits: limit memory 256MiB") }, "\(skipped)")
    }
}
