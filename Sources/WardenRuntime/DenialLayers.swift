import WardenAudit
import WardenPolicy

/// What a run could see of its denials, per layer: how many it recorded, or why it saw
/// none and how the operator can check an action instead (`warden explain`).
///
/// A layer whose denials the supervisor does not observe must never be reported as "0
/// denials": the closing line says it was not observed.
public struct LayerDenials: Sendable, Equatable {
    public enum Layer: String, Sendable, CaseIterable {
        case syscall, network, filesystem
    }

    public var layer: Layer
    /// Denials recorded in the log; nil when the layer was not observed.
    public var recorded: Int64?
    /// Why the layer's denials were not observed (nil when they were).
    public var unobservedBecause: String?
    /// A `warden explain` command, with `…` placeholders, that checks one action of this layer.
    public var explainTemplate: String
    /// What of an observed layer is still not seen (filesystem: the mount world).
    public var partlyBecause: String? = nil

    /// The three layers of one run.
    /// - Parameters:
    ///   - syscallsObserved: the seccomp filter hands denials to the supervisor (user notification).
    ///   - networkMediated: the supervisor decides the agent's network calls (the identity has net rules).
    ///   - filesystemObserved: the supervisor reads the kernel's filesystem denial records.
    ///   - recorded: events durably recorded, by kind (`AuditRun.recordedTotals`).
    ///   - explain: the command prefix that names the run's policy and identity.
    ///   - mountObserved: kernel audit rules also report the mount world's EROFS, EACCES,
    ///     EPERM, EBUSY and EXDEV (`MountAuditRules`).
    public static func report(syscallsObserved: Bool, networkMediated: Bool, filesystemObserved: Bool,
                              mountObserved: Bool = false, recorded: [String: Int64], explain: String) -> [LayerDenials] {
        [
            LayerDenials(layer: .syscall, recorded: syscallsObserved ? recorded[AuditKind.denySyscall, default: 0] : nil,
                         unobservedBecause: syscallsObserved ? nil : "seccomp user notification is unavailable here, so denied syscalls fail without reaching the supervisor",
                         explainTemplate: explain + " --syscall NAME"),
            LayerDenials(layer: .network, recorded: networkMediated ? recorded[AuditKind.denyNet, default: 0] : nil,
                         unobservedBecause: networkMediated ? nil : "the identity has no network rules, so the agent ran without network (connections fail with ENETUNREACH) and nothing decides or records them",
                         explainTemplate: explain + " --connect tcp HOST:PORT"),
            LayerDenials(layer: .filesystem, recorded: filesystemObserved ? recorded[AuditKind.denyFs, default: 0] : nil,
                         unobservedBecause: filesystemObserved ? nil : mountWorld,
                         explainTemplate: explain + " --fs read|write|exec PATH",
                         partlyBecause: !filesystemObserved ? nil : mountObserved
                            ? "Landlock's denials and the mount world's EROFS, EBUSY, EACCES, EPERM and EXDEV on path syscalls are recorded; a path outside every grant does not exist (ENOENT), which is not recorded"
                            : "only Landlock's denials are recorded; " + mountWorld),
        ]
    }

    static let mountWorld = "the agent's mount world refuses without a record: a path outside every grant does not exist (ENOENT), protected paths are read-only binds (EROFS, and EBUSY on a rename onto one, as `git config --local` does), noexec paths answer EACCES"

    /// `2 syscall denials`, or `filesystem not observed`.
    public var phrase: String {
        guard let recorded else { return "\(layer.rawValue) not observed" }
        return "\(recorded) \(layer.rawValue) denial\(recorded == 1 ? "" : "s")"
            + (partlyBecause.map { $0.hasPrefix("only Landlock") ? " (Landlock only)" : " (not ENOENT)" } ?? "")
    }
}

extension Array where Element == LayerDenials {
    /// The closing line's account: "2 syscall denials, 0 network denials recorded in LOG;
    /// filesystem not observed (check: warden explain …)".
    public func account(logPath: String) -> String {
        let observed = filter { $0.recorded != nil }.map(\.phrase)
        let unobserved = filter { $0.recorded == nil || $0.partlyBecause != nil }
        var text = observed.isEmpty ? "no layer's denials observed" : observed.joined(separator: ", ") + " recorded in \(logPath)"
        if !unobserved.isEmpty {
            text += "; " + unobserved.map {
                $0.recorded == nil ? $0.layer.rawValue
                    : $0.partlyBecause?.hasPrefix("only Landlock") == true ? "the mount world's \($0.layer.rawValue) refusals"
                    : "ENOENT outside the grants"
            }
                .joined(separator: " and ") + " not observed (check an action with `\(unobserved.map(\.explainTemplate).joined(separator: "` or `"))`)"
        }
        return text
    }
}

/// Shell quoting for the commands Warden prints: bare when safe, else `'…'`.
enum ShellWord {
    static func quote(_ s: String) -> String {
        let safe = !s.isEmpty && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || "/._-:,+@=%".utf8.contains(b)
        }
        if safe { return s }
        return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// `warden explain POLICY --identity ID`.
    static func explainPrefix(policyPath: String, identity: String) -> String {
        "warden explain \(quote(policyPath)) --identity \(quote(identity))"
    }
}
