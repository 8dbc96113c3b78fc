import WardenKernel
#if canImport(Glibc)
import Glibc
#endif

/// The launcher stage that failed (mirrors `enum warden_stage` in CLauncher).
public enum LaunchStage: Int32, Sendable, CaseIterable {
    case setup = 1, clone, fileDescriptors, signals, session, parentDeathSignal, userNamespace
    case namespaces, mount, network, hostname, cgroup, initProcess, workingDirectory, rlimit
    case landlock, securebits, capabilities, capabilityVerification, noNewPrivs, seccomp
    case notifyHandoff, exec
    /// Supervisor-side steps (not from the C launcher).
    case prepare = 100, wait

    public var name: String {
        switch self {
        case .setup: "setup"
        case .clone: "clone"
        case .fileDescriptors: "file descriptors"
        case .signals: "signals"
        case .session: "session"
        case .parentDeathSignal: "parent-death signal"
        case .userNamespace: "user namespace"
        case .namespaces: "namespaces"
        case .mount: "mount"
        case .network: "network"
        case .hostname: "hostname"
        case .cgroup: "cgroup"
        case .initProcess: "init"
        case .workingDirectory: "working directory"
        case .rlimit: "rlimit"
        case .landlock: "landlock"
        case .securebits: "securebits"
        case .capabilities: "capabilities"
        case .capabilityVerification: "capability verification"
        case .noNewPrivs: "no_new_privs"
        case .seccomp: "seccomp"
        case .notifyHandoff: "seccomp listener hand-off"
        case .exec: "exec"
        case .prepare: "prepare"
        case .wait: "wait"
        }
    }
}

/// Why Warden could not start the command.
public struct LaunchFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var stage: LaunchStage
    public var errno: Int32
    /// Mount operation, rlimit, Landlock rule or capability number; -1 when none.
    public var index: Int32
    /// One line naming the stage, the object and the errno.
    public var message: String

    public init(stage: LaunchStage, errno: Int32, index: Int32 = -1, message: String) {
        self.stage = stage; self.errno = errno; self.index = index; self.message = message
    }
    public var description: String { message }
}

/// How a supervised run ended.
public enum RunOutcome: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    case timedOut
    case launchFailed(LaunchFailure)

    /// The run's exit status when the audit log could not take its records: the agent was
    /// stopped (or ended) while records were missing from the log. See `RunSummary.exitCode`.
    public static let auditFailureExitCode: Int32 = 122

    /// The CLI's exit status: the command's own; 128+N on signal N; 124 on timeout;
    /// 127 not found; 126 cannot execute; 125 Warden failed before the command started.
    public var exitCode: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s
        case .timedOut: return 124
        case .launchFailed(let f):
            guard f.stage == .exec else { return 125 }
            return (f.errno == ENOENT || f.errno == ENOTDIR) ? 127 : 126
        }
    }
}

/// Symbolic errno names for messages ("EACCES").
public func errnoName(_ e: Int32) -> String {
    ErrnoNames.name(of: e) ?? "errno \(e)"
}
