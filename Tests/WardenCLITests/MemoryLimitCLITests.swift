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
}
