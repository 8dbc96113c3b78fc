import CLauncher
import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// Kernel audit rules that report the agent's failed path syscalls, which the mount world
/// refuses without any record of its own (EROFS on a read-only bind, EBUSY on a rename onto
/// one, EACCES on noexec, EPERM, EXDEV).
///
/// Every agent process carries the run's own audit login uid (written by init before
/// anything else; inherited), and the rules match only it: arch == native, loginuid == the
/// run's, exit == -errno for each errno above (ENOENT is left out: a path outside every
/// grant does not exist, and programs probe for missing files all the time), on the path
/// syscalls below. Each rule's key is `warden:<supervisor pid>:<auid>`, so rules of a
/// supervisor that died are found and deleted by the next run (`deleteStale`).
struct MountAuditRules {
    static let keyPrefix = "warden:"
    static let errnos: [Int32] = [EROFS, EACCES, EPERM, EBUSY, EXDEV]
    /// Syscalls that take a path and fail for the mount world's reasons.
    static let syscalls = [
        "open", "openat", "creat", "truncate", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
        "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat", "chmod", "fchmodat",
        "chown", "lchown", "fchownat", "utimes", "utimensat", "execve", "execveat", "setxattr", "lsetxattr",
        "removexattr", "lremovexattr",
    ]

    let auid: UInt32
    let key: String
    private let numbers: [Int32]
    private let arch: UInt32

    /// Deletes stale rules, then installs this run's; nil (nothing left installed) on failure.
    /// - Parameter supervisor: the pid named in the rules' key (tests name a dead one).
    static func install(supervisor: Int32 = getpid()) -> MountAuditRules? {
        deleteStale()
        var g = SystemRandomNumberGenerator()
        // Far from real login uids; never 4294967295 (unset).
        let r: UInt64 = g.next()
        let auid = UInt32(0x5741_0000) &+ UInt32(truncatingIfNeeded: r & 0x0FFF_FFFF)
        let rules = MountAuditRules(auid: auid, supervisor: supervisor)
        var added: [Int32] = []
        for e in errnos {
            guard rules.rule(add: true, errno: e) == 0 else {
                for a in added { _ = rules.rule(add: false, errno: a) }
                return nil
            }
            added.append(e)
        }
        return rules
    }

    private init(auid: UInt32, supervisor: Int32) {
        self.auid = auid
        self.key = "\(Self.keyPrefix)\(supervisor):\(auid)"
        self.numbers = Self.syscalls.compactMap { SyscallTable.number(of: $0, arch: .native) }
        self.arch = Architecture.native.auditArch
    }

    private func rule(add: Bool, errno e: Int32) -> Int32 {
        numbers.withUnsafeBufferPointer { nrs in
            key.withCString { warden_kaudit_exit_rule(add ? 1 : 0, arch, auid, -e, nrs.baseAddress, nrs.count, $0) }
        }
    }

    /// Deletes the rules of supervisors that are gone; returns how many.
    @discardableResult
    static func deleteStale() -> Int32 { keyPrefix.withCString { warden_kaudit_delete_stale($0) } }

    /// How many rules carry `key` (or any key starting with it).
    static func count(_ key: String) -> Int32 { key.withCString { warden_kaudit_count_rules($0) } }

    /// Deletes this run's rules.
    func remove() {
        for e in Self.errnos { _ = rule(add: false, errno: e) }
    }

    /// Whether `pid` (host) carries this run's login uid.
    func carried(by pid: Int32) -> Bool {
        guard let text = readSmallFile("/proc/\(pid)/loginuid", limit: 16) else { return false }
        return UInt32(text.hasSuffix("\n") ? String(text.dropLast()) : text) == auid
    }
}
