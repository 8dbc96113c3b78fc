import Testing
@testable import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The primer migrates this process into the cgroup it is already in, repeatedly, and
/// never anywhere else. (Its effect, the launch's shorter wait, is measured by
/// `make bench`, not here.)
@Suite struct CgroupMigrationPrimerTests {
    static func ownCgroups() -> String { readSmallFile("/proc/self/cgroup") ?? "" }

    @Test func itKeepsMigratingThisProcessWhereItAlreadyIsUntilStopped() throws {
        let before = Self.ownCgroups()
        guard let primer = CgroupMigrationPrimer.start(for: .detect()) else {
            print("skip: no writable cgroup.procs of this process's own cgroup (needs root or a delegated cgroup)")
            return
        }
        // Two periods and then some: the first write may wait a whole grace period.
        var waited = 0
        while primer.migrations < 3 && waited < 2_000 { usleep(1_000); waited += 1 }
        primer.stop()
        let done = primer.migrations
        #expect(done >= 3, "the thread should repeat the migration every few milliseconds")
        usleep(20_000)
        #expect(primer.migrations == done, "no migration after stop()")
        #expect(Self.ownCgroups() == before, "the process must stay in the cgroups it was in")
        primer.stop()  // idempotent
    }

    @Test func aProcessSomeoneMovedIsNeverMovedBack() throws {
        guard let support = Optional(CgroupSupport.detect()),
              let dir = support.unusableReason == nil ? support.directory : CgroupSupport.v1Directory(controller: "pids") else {
            print("skip: no writable cgroup of this process"); return
        }
        // The line the primer was started with no longer describes this process.
        let primer = try #require(CgroupMigrationPrimer(procsFile: dir + "/cgroup.procs", ownCgroupLine: "99:moved:/elsewhere"))
        usleep(20_000)
        primer.stop()
        #expect(primer.migrations == 0)
    }

    @Test func aCgroupThisProcessIsNotInGetsNoPrimerAndNothingMoves() throws {
        guard geteuid() == 0, let parent = CgroupSupport.v1Directory(controller: "pids") else {
            print("skip: needs root and a writable cgroup v1 pids hierarchy"); return
        }
        let line = try #require(Self.ownCgroups().split(separator: "\n").first { $0.split(separator: ":")[1] == "pids" }.map(String.init))
        let child = parent + "/warden-primer-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(child, 0o755) == 0 else { print("skip: cannot create \(child)"); return }
        defer { rmdir(child) }
        let before = Self.ownCgroups()
        // The line still describes this process, but the file is another cgroup's.
        let primer = CgroupMigrationPrimer(procsFile: child + "/cgroup.procs", ownCgroupLine: line)
        primer?.stop()
        #expect(primer == nil)
        #expect(Self.ownCgroups() == before, "the process must not have been moved into \(child)")
    }

    @Test func aFileThatCannotBeOpenedGivesNoPrimer() {
        #expect(CgroupMigrationPrimer(procsFile: "/nonexistent/cgroup.procs", ownCgroupLine: "0::/") == nil)
    }
}
