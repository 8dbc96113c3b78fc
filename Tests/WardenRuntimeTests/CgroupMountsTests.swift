import Testing
@testable import WardenRuntime

/// The mount table's cgroup entries, parsed once per process.
@Suite struct CgroupMountsTests {
    @Test func aHybridTableGivesTheV2MountAndEachV1HierarchyWithItsControllers() {
        let table = """
            overlay / overlay rw,relatime,lowerdir=/a:/b,upperdir=/c,workdir=/d 0 0
            tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
            cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0
            cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0
            cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nsdelegate 0 0
            cgroup2 /elsewhere cgroup2 rw 0 0
            short line
            """
        let mounts = CgroupMounts.parse(table)
        #expect(mounts.v2 == "/sys/fs/cgroup/unified")
        #expect(mounts.v1.map(\.point) == ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"])
        #expect(mounts.v1.first { $0.options.contains("memory") }?.point == "/sys/fs/cgroup/memory")
        #expect(mounts.v1.first { $0.options.contains("cpuacct") }?.point == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(mounts.v1.first { $0.options.contains("pid") } == nil, "controllers match whole options only")
    }

    @Test func aTableWithoutCgroupsGivesNone() {
        let mounts = CgroupMounts.parse("proc /proc proc rw 0 0\nsysfs /sys sysfs ro 0 0\n")
        #expect(mounts == CgroupMounts(v2: nil, v1: []))
    }

    @Test func theHostsTableIsTheOneTheKernelShows() throws {
        let live = try #require(readSmallFile("/proc/self/mounts"))
        #expect(CgroupMounts.host == CgroupMounts.parse(live))
    }
}
