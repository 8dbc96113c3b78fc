import CLauncher
import Synchronization
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// Observing mode's file half: the path syscalls the normal filter allows reach the
/// supervisor (see `EffectivePolicy.observingPaths`); this decides each one with the normal
/// filter, records the paths the policy's world would not allow, and lets the call go on.
///
/// Why CONTINUE is safe here: the decision is the normal filter's, taken on the call's
/// registers (`baseline`, the BPF program a run without observing mode would load), exactly
/// as without learn. The path string is read only to record it; nothing is decided on it,
/// so an agent that rewrites it after the read changes a record, never an outcome. The
/// kernel then performs the call in the agent's world with Landlock and the mounts in
/// force, as always.
final class LearnObserver: Sendable {
    let baseline: BPFInterpreter
    let effective: EffectivePolicy
    /// The policy variables as the agent sees them (its `/tmp` is `${tmp}`).
    let agentBindings: PathBindings
    let recorder: LearnRecorder
    /// worldAnswer results by policy path and access (bounded; cleared when full).
    private let allowedCache = Mutex<[String: Bool]>([:])

    /// The longest path string read from the agent (PATH_MAX).
    static let maxPath = 4096

    init(baseline: BPFProgram, effective: EffectivePolicy, bindings: PathBindings, recorder: LearnRecorder) throws(BPFProgramError) {
        self.baseline = try BPFInterpreter(baseline)
        self.effective = effective
        self.agentBindings = PathBindings(workspace: bindings.workspace, home: bindings.home, tmp: "/tmp")
        self.recorder = recorder
    }

    /// Answers a notification of path syscall `name`: the normal filter's action, after
    /// recording the call's paths when that action is ALLOW. `deny` handles (records and
    /// answers) what the normal filter would have sent to the supervisor as a denial.
    func handle(_ n: SeccompNotification, name: String, listener: NotificationListener,
                deny: (SeccompNotification) -> NotificationResponse) -> NotificationResponse {
        let data = SeccompData(nr: n.syscall, arch: n.arch, instructionPointer: n.instructionPointer, args: n.arguments)
        switch baseline.run(data).action {
        case .allow:
            observe(n, name: name, listener: listener)
            return .allow
        case .errno(let e):
            return .fail(errno: Int32(e))
        case .userNotif:
            return deny(n)
        default:
            // The normal filter kills these (foreign architecture): never let one through.
            return .fail(errno: EPERM)
        }
    }

    /// Reads and records the paths of an allowed call (best effort: a path that cannot be
    /// read, or a thread that is gone, is not recorded).
    func observe(_ n: SeccompNotification, name: String, listener: NotificationListener) {
        guard let operands = PathSyscalls.operands[name] else { return }
        let pid = Int32(bitPattern: n.pid)
        for operand in operands {
            guard operand.path < n.arguments.count, let raw = Self.readString(pid: pid, address: n.arguments[operand.path]),
                  !raw.isEmpty else { continue } // empty: AT_EMPTY_PATH on a descriptor, no path
            var howFlags: UInt64?
            if case .openHow(let i) = operand.access, i < n.arguments.count {
                howFlags = Self.readWord(pid: pid, address: n.arguments[i])
            }
            let accesses = PathSyscalls.accesses(operand.access, arguments: n.arguments, openHowFlags: howFlags)
            guard !accesses.isEmpty else { continue }
            let path: String
            if raw.hasPrefix("/") {
                path = Self.normalize(raw)
            } else {
                let dirfd = operand.directory.map { Int32(truncatingIfNeeded: n.arguments[$0]) } ?? Self.atFDCWD
                let base = dirfd == Self.atFDCWD ? "/proc/\(pid)/cwd" : "/proc/\(pid)/fd/\(dirfd)"
                guard let dir = Self.readLink(base), dir.hasPrefix("/") else { continue }
                path = Self.normalize(dir + "/" + raw)
            }
            // The thread id read through /proc must still be the caller's.
            guard listener.isValid(n.id) else { return }
            for access in accesses where !allowed(access, path) {
                let key = LearnRecorder.FileKey(path: path, access: access)
                if recorder.countFile(key) { continue }
                guard recorder.roomForNewKey() else { continue }
                let program = Self.readSmall("/proc/\(pid)/comm").map { String($0.prefix { $0 != "\n" }) } ?? "?"
                recorder.addFile(key, LearnRecorder.FileEntry(policyPath: policyPath(path), syscall: name, program: program, count: 1))
            }
        }
    }

    /// `path` (the agent's view) as a policy writes it.
    func policyPath(_ path: String) -> String { DenialDigest.policyPath(path, bindings: agentBindings) }

    /// Whether the policy's world allows `access` to `path`. A path the policy language
    /// cannot name counts as not allowed (it is recorded).
    func allowed(_ access: FsAccess, _ path: String) -> Bool {
        let text = policyPath(path)
        let key = access.rawValue + " " + text
        if let known = allowedCache.withLock({ $0[key] }) { return known }
        guard case .success(let p) = PolicyPath.parse(text) else { return false }
        let answer = effective.worldAnswer(access, p).allowed
        allowedCache.withLock { cache in
            if cache.count >= 16_384 { cache.removeAll(keepingCapacity: true) }
            cache[key] = answer
        }
        return answer
    }

    static let atFDCWD: Int32 = -100

    /// A NUL-terminated string of the agent's, at most `maxPath` bytes; nil when it cannot
    /// be read or has no terminator within the bound.
    static func readString(pid: Int32, address: UInt64) -> String? {
        guard address != 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: maxPath)
        let n = buffer.withUnsafeMutableBytes { warden_read_cstring(pid, address, $0.baseAddress, maxPath) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<Int(n)], as: UTF8.self)
    }

    /// The 8-byte word at `address` in the agent's memory (open_how.flags).
    static func readWord(pid: Int32, address: UInt64) -> UInt64? {
        guard address != 0 else { return nil }
        var value: UInt64 = 0
        let r = withUnsafeMutableBytes(of: &value) { warden_read_memory(pid, address, $0.baseAddress, 8) }
        return r == 0 ? value : nil
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: maxPath + 1)
        let n = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), maxPath) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    static func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 64) }
        return n > 0 ? TerminalText.escape(String(decoding: buffer[0..<n], as: UTF8.self)) : nil
    }

    /// `path` with `.`, `..` and repeated slashes resolved lexically (no symlinks followed:
    /// the record is the agent's view of what it asked for).
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { _ = parts.popLast(); continue }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }
}
