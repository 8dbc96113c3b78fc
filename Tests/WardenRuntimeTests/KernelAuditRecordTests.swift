import Testing
@testable import WardenRuntime

/// Parsing the kernel audit records Landlock writes (the texts are the kernel's, as read
/// from NETLINK_AUDIT on 6.18).
@Suite struct KernelAuditRecordTests {
    @Test func aLandlockDenialAndItsSyscallRecordShareASerial() throws {
        let ll = try #require(KernelAuditRecord(type: 1423, text: #"audit(1796604779.151:31): domain=1331b3326 blockers=fs.read_file path="/etc/hostname" dev="vda" ino=611"#))
        #expect(ll.serial == 31)
        #expect(ll.string("path") == "/etc/hostname")
        #expect(ll.fields["blockers"] == "fs.read_file")
        let sc = try #require(KernelAuditRecord(type: 1300, text: #"audit(1796604779.151:31): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=0 ppid=12439 pid=12465 auid=4294967295 comm="ll" exe="/tmp/vkt/ll" key=(null)"#))
        #expect(sc.serial == ll.serial && sc.int("pid") == 12465 && sc.int("exit") == -13)
        #expect(sc.string("comm") == "ll")
    }

    @Test func untrustedStringsAreHexAndDecoded() throws {
        // A path with a space is hex-encoded by the kernel: "/tmp/a b".
        let r = try #require(KernelAuditRecord(type: 1423, text: "audit(1.2:7): domain=1 blockers=fs.write_file path=2F746D702F612062 dev=\"vda\" ino=1"))
        #expect(r.string("path") == "/tmp/a b")
        #expect(KernelAuditRecord(type: 1423, text: "audit(1.2:7): path=2F7") .flatMap { $0.string("path") } == nil, "odd hex is refused")
    }

    @Test func malformedTextIsRefusedOrHarmless() {
        #expect(KernelAuditRecord(type: 1423, text: "") == nil)
        #expect(KernelAuditRecord(type: 1423, text: "audit(1.2): x=1") == nil, "no serial")
        #expect(KernelAuditRecord(type: 1423, text: "audit(1.2:x): x=1") == nil)
        let r = KernelAuditRecord(type: 1423, text: #"audit(1.2:3): path="unterminated a=b"#)
        #expect(r?.string("path") == nil)
        #expect(KernelAuditRecord(type: 1423, text: "audit(1.2:3): ===  = x=") != nil, "odd but bounded")
    }

    @Test func blockersMapToThePolicysAccessKinds() {
        #expect(KernelAuditRecord.access(blockers: "fs.read_file") == "read")
        #expect(KernelAuditRecord.access(blockers: "fs.read_dir") == "read")
        #expect(KernelAuditRecord.access(blockers: "fs.write_file,fs.read_file") == "write")
        #expect(KernelAuditRecord.access(blockers: "fs.make_reg") == "write")
        #expect(KernelAuditRecord.access(blockers: "fs.execute,fs.read_file") == "exec")
        #expect(KernelAuditRecord.access(blockers: "net.bind_tcp") == nil)
        #expect(KernelAuditRecord.access(blockers: "") == nil)
    }
}
