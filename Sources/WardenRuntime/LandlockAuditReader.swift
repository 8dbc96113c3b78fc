import CLauncher
import Synchronization
import WardenAudit
import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Turns Landlock's kernel audit records into `deny.fs` records while a run goes on.
///
/// Landlock logs each denial (type 1423: `domain=… blockers=fs.read_dir path="/" …`)
/// followed by the SYSCALL record of the same event serial (with the host `pid`), on the
/// read-only multicast group of NETLINK_AUDIT, only while kernel audit is enabled and, after
/// the agent's execve, only because its domain was created with LOG_NEW_EXEC_ON. Every
/// supervisor on the host receives every record: a denial is this run's when the pid lives
/// in the run's PID namespace (or its Landlock domain was seen to be this run's before).
///
/// Bounded: records wait for their SYSCALL record in a table of at most 256 serials, domain
/// and pid verdict caches are capped, and the denials go through the audit run's aggregator
/// (one record per distinct path and operation per window). What Landlock never sees — the
/// mount world's ENOENT, EROFS, EBUSY and noexec EACCES — stays unobserved.
final class LandlockAuditReader: Sendable {
    private let fd: Int32
    private let stopFlag = Atomic<Bool>(false)
    private let initPid = Atomic<Int32>(0)
    private let thread: Mutex<ThreadHandle?> = Mutex(nil)
    /// Denials recorded as this run's.
    let observed = Atomic<Int64>(0)
    /// Times the kernel dropped records because the socket was full (ENOBUFS).
    let overflows = Atomic<Int64>(0)

    /// Opens the multicast reader; nil when it cannot (not root, no audit support).
    init?(audit: AuditRun, effective: EffectivePolicy, bindings: PathBindings) {
        let fd = warden_kaudit_open_readlog()
        guard fd >= 0 else { return nil }
        self.fd = fd
        let handle = ThreadHandle { [self] in self.loop(audit: audit, effective: effective, bindings: bindings) }
        guard let handle else { close(fd); return nil }
        thread.withLock { $0 = handle }
    }

    /// The run's init process (host pid): its PID namespace is the run's.
    func attach(initPid pid: Int32) { initPid.store(pid, ordering: .releasing) }

    /// Reads what is still queued (briefly), then stops the thread and closes the socket.
    func stop() {
        stopFlag.store(true, ordering: .releasing)
        let t = thread.withLock { t -> ThreadHandle? in let x = t; t = nil; return x }
        t?.join()
        close(fd)
    }

    private struct Pending {
        var path: String
        var blockers: String
        var domain: String
    }

    private func loop(audit: AuditRun, effective: EffectivePolicy, bindings: PathBindings) {
        var pending: [UInt64: Pending] = [:]
        var ourDomains: Set<String> = []
        var pidVerdicts: [Int32: Bool] = [:]
        var ourNamespace: String?
        var buffer = [CChar](repeating: 0, count: 9000)
        var drainingSince: Int64?
        while true {
            if stopFlag.load(ordering: .acquiring) {
                // Records of the last denials may still be queued: read for up to 200 ms.
                let now = monotonicNow()
                if drainingSince == nil { drainingSince = now }
                if now - drainingSince! > 200_000_000 { return }
            }
            var type: Int32 = 0
            let n = buffer.withUnsafeMutableBufferPointer { warden_kaudit_recv(fd, $0.baseAddress, $0.count, 100, &type) }
            if n < 0 {
                guard n == -Int32(ENOBUFS) else { return }
                overflows.add(1, ordering: .relaxed)
                continue
            }
            if n == 0 {
                if drainingSince != nil { return }
                continue
            }
            let text = buffer.withUnsafeBufferPointer { raw in
                String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: Int(n)).bindMemory(to: UInt8.self), as: UTF8.self)
            }
            guard type == KernelAuditRecord.landlockAccess || type == KernelAuditRecord.syscall,
                  let record = KernelAuditRecord(type: type, text: text) else { continue }
            if type == KernelAuditRecord.landlockAccess {
                guard let path = record.string("path"), let blockers = record.fields["blockers"],
                      KernelAuditRecord.access(blockers: blockers) != nil else { continue }
                if pending.count >= 256 { pending.removeAll(keepingCapacity: true) }
                pending[record.serial] = Pending(path: path, blockers: blockers, domain: record.fields["domain"] ?? "")
                continue
            }
            guard let denial = pending.removeValue(forKey: record.serial), let pid = record.int("pid").map({ Int32(truncatingIfNeeded: $0) })
            else { continue }
            if ourNamespace == nil {
                let p = initPid.load(ordering: .acquiring)
                if p > 0 { ourNamespace = Self.pidNamespace(of: p) }
            }
            var ours = ourDomains.contains(denial.domain)
            if !ours, let ns = ourNamespace {
                if let known = pidVerdicts[pid] {
                    ours = known
                } else {
                    ours = Self.pidNamespace(of: pid) == ns
                    if pidVerdicts.count >= 4096 { pidVerdicts.removeAll(keepingCapacity: true) }
                    pidVerdicts[pid] = ours
                }
                if ours, !denial.domain.isEmpty, ourDomains.count < 1024 { ourDomains.insert(denial.domain) }
            }
            guard ours else { continue }
            let access = KernelAuditRecord.access(blockers: denial.blockers)
            let policyPath = DenialDigest.policyPath(denial.path, bindings: bindings)
            var rule: String?
            if let access, let kind = FsAccess(rawValue: access), case .success(let p) = PolicyPath.parse(policyPath) {
                let d = effective.decideFs(kind, p)
                rule = d.rules.first.map { $0.file == nil ? "built-in: \($0.rule)" : "\($0.location): \($0.rule)" }
                    ?? "no rule allows \(access) \(policyPath) (default deny)"
            }
            let errno = record.int("exit").map { Int32(truncatingIfNeeded: -$0) }.flatMap { $0 > 0 ? $0 : nil }
            try? audit.denyFs(path: denial.path, operation: denial.blockers, access: access, errno: errno, pid: pid,
                              rule: rule, source: "landlock")
            observed.add(1, ordering: .relaxed)
        }
    }

    /// `pid:[4026531836]` for a host pid, or nil when it is gone.
    static func pidNamespace(of pid: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/ns/pid", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func monotonicNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
