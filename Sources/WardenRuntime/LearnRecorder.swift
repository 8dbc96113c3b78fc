import Synchronization
import WardenAudit
import WardenPolicy

extension AuditKind {
    /// Observing mode: a file access the policy's world would not allow (one per distinct
    /// path and access, written at the run's end).
    public static let learnFs = "learn.fs"
    /// Observing mode: a lookup of a name no rule allows, answered from upstream.
    public static let learnDns = "learn.dns"
    /// Observing mode: distinct observations dropped past the cap.
    public static let learnOverflow = "learn.overflow"
}

/// The observations of one learn run, aggregated by key, bounded: at most `cap` distinct
/// file accesses and `cap` distinct names are kept; what arrives for a new key past that is
/// only counted (`learn.overflow`).
final class LearnRecorder: Sendable {
    /// The most distinct file accesses (and, separately, names) one run records.
    static let defaultCap = 4096

    struct FileKey: Hashable, Sendable {
        var path: String
        var access: FsAccess
    }
    struct FileEntry: Sendable {
        var policyPath: String
        var syscall: String
        var program: String
        var count: Int64
    }
    struct NameKey: Hashable, Sendable {
        var name: String
        var qtype: String
    }

    private struct State {
        var files: [FileKey: FileEntry] = [:]
        var names: [NameKey: Int64] = [:]
        var overflow: Int64 = 0
    }
    private let state = Mutex(State())
    let cap: Int

    init(cap: Int = LearnRecorder.defaultCap) { self.cap = cap }

    /// Counts one more access to a key already held; false when the key is new (the caller
    /// then gathers its details and calls `addFile`).
    func countFile(_ key: FileKey) -> Bool {
        state.withLock { s in
            guard s.files[key] != nil else { return false }
            s.files[key]!.count += 1
            return true
        }
    }

    /// Whether the cap leaves room for a new key (else the access is counted as overflow).
    func roomForNewKey() -> Bool {
        state.withLock { s in
            if s.files.count < cap { return true }
            s.overflow += 1
            return false
        }
    }

    func addFile(_ key: FileKey, _ entry: FileEntry) {
        state.withLock { s in
            if s.files[key] != nil { s.files[key]!.count += 1; return }
            guard s.files.count < cap else { s.overflow += 1; return }
            s.files[key] = entry
        }
    }

    func addName(_ name: String, qtype: String) {
        state.withLock { s in
            let key = NameKey(name: name, qtype: qtype)
            if s.names[key] != nil { s.names[key]! += 1; return }
            guard s.names.count < cap else { s.overflow += 1; return }
            s.names[key] = 1
        }
    }

    /// The records, in a stable order: `learn.fs` by path then access, `learn.dns` by name
    /// then type, then `learn.overflow` when anything was dropped.
    func events() -> [AuditEvent] {
        let s = state.withLock { $0 }
        var out: [AuditEvent] = []
        for (key, entry) in s.files.sorted(by: { ($0.key.path, $0.key.access.rawValue) < ($1.key.path, $1.key.access.rawValue) }) {
            out.append(AuditEvent(kind: AuditKind.learnFs, fields: [
                "path": .string(key.path), "policy_path": .string(entry.policyPath), "access": .string(key.access.rawValue),
                "syscall": .string(entry.syscall), "count": .int(entry.count), "program": .string(entry.program),
            ]))
        }
        for (key, count) in s.names.sorted(by: { ($0.key.name, $0.key.qtype) < ($1.key.name, $1.key.qtype) }) {
            out.append(AuditEvent(kind: AuditKind.learnDns, fields: [
                "name": .string(key.name), "qtype": .string(key.qtype), "count": .int(count),
            ]))
        }
        if s.overflow > 0 {
            out.append(AuditEvent(kind: AuditKind.learnOverflow, fields: [
                "count": .int(s.overflow), "cap": .int(Int64(cap)),
            ]))
        }
        return out
    }
}

/// Observing mode's DNS half: where the resolver records names no rule allows, and the
/// addresses they resolved to (kept apart from allowed names' addresses: never connectable).
public struct LearnedLookups: Sendable {
    let recorder: LearnRecorder
    let names: ResolvedNames
}
