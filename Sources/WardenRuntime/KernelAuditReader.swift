import CLauncher
import Synchronization
import WardenAudit
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Turns kernel audit records into `deny.fs` records while a run goes on: Landlock's
/// denials, and the mount world's refusals reported by `MountAuditRules`.
///
/// Landlock logs each denial (type 1423: `domain=… blockers=fs.read_dir path="/" …`)
/// followed by the SYSCALL record of the same event serial (with the host `pid`), on the
/// read-only multicast group of NETLINK_AUDIT, only while kernel audit is enabled and, after
/// the agent's execve, only because its domain was created with LOG_NEW_EXEC_ON. Every
/// supervisor on the host receives every record: a denial is this run's when the pid lives
/// in the run's PID namespace (or its Landlock domain was seen to be this run's before).
///
/// The mount world's refusals come as SYSCALL (with the rule's key), CWD and PATH records of
/// one serial; the key is the run's own (`MountAuditRules`), whose login uid the agent
/// cannot change. An event is turned into a record at its end-of-event record.
///
/// Bounded: events wait for their end in a table of at most 256 serials (at most 8 paths
/// each), domain and pid verdict caches are capped, and the denials go through the audit
/// run's aggregator (one record per distinct path, operation and errno per window). ENOENT
/// (a path outside every grant) stays unobserved.
final class KernelAuditReader: Sendable {
    private let fd: Int32
    private let stopFlag = Atomic<Bool>(false)
    private let initPid = Atomic<Int32>(0)
    private let thread: Mutex<ThreadHandle?> = Mutex(nil)
    /// Denials recorded as this run's.
    let observed = Atomic<Int64>(0)
    /// Times the kernel dropped records because the socket was full (ENOBUFS).
    let overflows = Atomic<Int64>(0)

    /// Opens the multicast reader; nil when it cannot (not root, no audit support).
    init?(audit: AuditRun, effective: EffectivePolicy, bindings: PathBindings, rules: MountAuditRules? = nil) {
        let fd = warden_kaudit_open_readlog()
        guard fd >= 0 else { return nil }
        self.fd = fd
        let handle = ThreadHandle { [self] in self.loop(audit: audit, effective: effective, bindings: bindings, rules: rules) }
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

    /// The records of one kernel audit event (one serial), until its end-of-event record.
    private struct Event {
        var landlock: KernelAuditRecord?
        var syscall: KernelAuditRecord?
        var cwd: String?
        var paths: [(name: String, type: String)] = []
    }

    static let cwdType: Int32 = 1307
    static let pathType: Int32 = 1302
    static let endOfEvent: Int32 = 1320

    private func loop(audit: AuditRun, effective: EffectivePolicy, bindings: PathBindings, rules: MountAuditRules?) {
        var events: [UInt64: Event] = [:]
        var ourDomains: Set<String> = []
        var pidVerdicts: [Int32: Bool] = [:]
        var ourNamespace: String?
        var buffer = [CChar](repeating: 0, count: 9000)
        var drainingSince: Int64?
        let ourKey = rules.map { "\"\($0.key)\"" }
        while true {
            if stopFlag.load(ordering: .acquiring) {
                // Records of the last denials may still be queued: read for up to 200 ms.
                let now = monotonicNow()
                if drainingSince == nil { drainingSince = now }
                if now - drainingSince! > 200_000_000 { return }
            }
            var type: Int32 = 0
            // Short waits: the stop flag is checked between them, and the drain at the end
            // ends at the first 20 ms without records.
            let wait: Int32 = drainingSince == nil ? 50 : 20
            let n = buffer.withUnsafeMutableBufferPointer { warden_kaudit_recv(fd, $0.baseAddress, $0.count, wait, &type) }
            if n < 0 {
                guard n == -Int32(ENOBUFS) else { return }
                overflows.add(1, ordering: .relaxed)
                continue
            }
            if n == 0 {
                if drainingSince != nil { return }
                continue
            }
            guard [KernelAuditRecord.landlockAccess, KernelAuditRecord.syscall, Self.cwdType, Self.pathType, Self.endOfEvent].contains(type)
            else { continue }
            let text = buffer.withUnsafeBufferPointer { raw in
                String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: Int(n)).bindMemory(to: UInt8.self), as: UTF8.self)
            }
            guard let record = KernelAuditRecord(type: type, text: text) else { continue }
            if type != Self.endOfEvent {
                if events[record.serial] == nil, events.count >= 256 { events.removeAll(keepingCapacity: true) }
                switch type {
                case KernelAuditRecord.landlockAccess: events[record.serial, default: Event()].landlock = record
                case KernelAuditRecord.syscall: events[record.serial, default: Event()].syscall = record
                case Self.cwdType: events[record.serial, default: Event()].cwd = record.string("cwd")
                default:
                    if let name = record.string("name"), events[record.serial, default: Event()].paths.count < 8 {
                        events[record.serial, default: Event()].paths.append((name, record.fields["nametype"] ?? ""))
                    }
                }
                continue
            }
            guard let event = events.removeValue(forKey: record.serial), let sc = event.syscall,
                  let pid = sc.int("pid").map({ Int32(truncatingIfNeeded: $0) }) else { continue }
            let errno = sc.int("exit").map { Int32(truncatingIfNeeded: -$0) }.flatMap { $0 > 0 ? $0 : nil }
            if let ll = event.landlock {
                guard let path = ll.string("path"), let blockers = ll.fields["blockers"],
                      let access = KernelAuditRecord.access(blockers: blockers) else { continue }
                let domain = ll.fields["domain"] ?? ""
                if ourNamespace == nil {
                    let p = initPid.load(ordering: .acquiring)
                    if p > 0 { ourNamespace = Self.pidNamespace(of: p) }
                }
                var ours = ourDomains.contains(domain)
                if !ours, let ns = ourNamespace {
                    if let known = pidVerdicts[pid] {
                        ours = known
                    } else {
                        ours = Self.pidNamespace(of: pid) == ns
                        if pidVerdicts.count >= 4096 { pidVerdicts.removeAll(keepingCapacity: true) }
                        pidVerdicts[pid] = ours
                    }
                    if ours, !domain.isEmpty, ourDomains.count < 1024 { ourDomains.insert(domain) }
                }
                guard ours else { continue }
                self.record(audit, effective, bindings, path: path, operation: blockers, access: access, errno: errno, pid: pid, source: "landlock")
            } else if let ourKey, sc.fields["key"] == ourKey {
                // The mount world refused a path syscall of an agent process (the rule
                // matched the run's own login uid, which the agent cannot change).
                let name = sc.int("syscall").flatMap { SyscallTable.name(of: Int32(truncatingIfNeeded: $0), arch: .native) } ?? "syscall"
                // A rename or link is refused for its target (the protected path): the last
                // named item; other calls name their one path first.
                let named = event.paths.filter { $0.type != "PARENT" }
                let targetFirst = ["rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat"].contains(name)
                let chosen = (targetFirst ? named.last : named.first) ?? event.paths.last
                guard var path = chosen?.name else { continue }
                if !path.hasPrefix("/"), let cwd = event.cwd { path = (cwd == "/" ? "" : cwd) + "/" + path }
                let access = Self.access(syscall: name, sc)
                self.record(audit, effective, bindings, path: path, operation: name, access: access, errno: errno, pid: pid, source: "mount")
            }
        }
    }

    private func record(_ audit: AuditRun, _ effective: EffectivePolicy, _ bindings: PathBindings, path: String, operation: String,
                        access: String, errno: Int32?, pid: Int32, source: String) {
        let policyPath = DenialDigest.policyPath(path, bindings: bindings)
        var rule: String?
        if let kind = FsAccess(rawValue: access), case .success(let p) = PolicyPath.parse(policyPath) {
            let d = effective.decideFs(kind, p)
            rule = d.effect == .allow
                ? "allowed by the policy; refused by the kernel (\(d.mechanism))"
                : d.rules.first.map { $0.file == nil ? "built-in: \($0.rule)" : "\($0.location): \($0.rule)" }
                    ?? "no rule allows \(access) \(policyPath) (default deny)"
        }
        try? audit.denyFs(path: path, operation: operation, access: access, errno: errno, pid: pid, rule: rule, source: source)
        observed.add(1, ordering: .relaxed)
    }

    /// The policy's access kind of a failed path syscall: exec for execve, read or write for
    /// open by its flags (O_ACCMODE, O_CREAT, O_TRUNC), write for everything else.
    static func access(syscall name: String, _ sc: KernelAuditRecord) -> String {
        switch name {
        case "execve", "execveat": return "exec"
        case "open", "openat":
            let arg = name == "open" ? "a1" : "a2"
            guard let hex = sc.fields[arg], let flags = UInt64(hex, radix: 16) else { return "write" }
            return flags & 0o3 != 0 || flags & 0o100 != 0 || flags & 0o1000 != 0 ? "write" : "read"
        default: return "write"
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
