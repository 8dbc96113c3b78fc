#if canImport(Glibc)
import Glibc
#endif

/// The git control plane of a workspace, checked after a run: anything the agent left that
/// could make a later git command on the host run code, or take configuration, hooks or
/// objects from somewhere else.
///
/// Git does not only read `.git/config` and `.git/hooks`: it follows `commondir`, `.git`
/// files (`gitdir:`), `objects/info/alternates`, linked worktrees and submodule repositories
/// under `.git/modules`, obeys `config.worktree`, and `git status` recurses into any
/// directory holding a `.git` that the index records as a submodule. Take a `Snapshot` before
/// the run, call `inspect()` after it:
///
/// ```swift
/// let before = try GitControlPlane.snapshot(workspace: "/work/repo")
/// // ... the run ...
/// let findings = before.inspect()
/// for line in GitControlPlane.render(findings) { print(line) }
/// ```
///
/// Both walks are pure Swift over directory descriptors: no link is followed (every open is
/// `openat` with `O_NOFOLLOW` relative to its parent), special files are never read, every
/// read is bounded, names are bytes, and git is never executed. Work is bounded by `Limits`;
/// exceeding one is itself a finding, so a hostile tree yields a report, never a hang.
public enum GitControlPlane {
    /// The audit record kind for findings.
    public static let auditKind = "git.control"

    /// `warden run`'s exit status when the check finds anything, whatever the command's own
    /// status: next to Warden's own codes (124-127), away from the small numbers commands
    /// return themselves (docs/runtime.md, "Git control plane").
    public static let findingsExitStatus: Int32 = 123

    /// Bounds on the work of one walk.
    public struct Limits: Sendable, Equatable {
        /// Directory entries listed in the whole workspace.
        public var maxEntries: Int
        /// Directory depth below the workspace.
        public var maxDepth: Int
        /// Bytes read from one control file (larger ones are compared by size, inode and ctime).
        public var maxFileBytes: Int
        /// Bytes read from all control files together.
        public var maxTotalBytes: Int

        public init(maxEntries: Int = 1_000_000, maxDepth: Int = 256, maxFileBytes: Int = 4 << 20, maxTotalBytes: Int = 64 << 20) {
            self.maxEntries = maxEntries
            self.maxDepth = maxDepth
            self.maxFileBytes = maxFileBytes
            self.maxTotalBytes = maxTotalBytes
        }

        public static let standard = Limits()
    }

    /// What a finding is about.
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        /// A repository (`.git` directory, submodule repository) created during the run.
        case repository
        /// A `.git` file (`gitdir: ...`) created or changed.
        case gitfile
        /// A `commondir` that sends git to another directory for config, hooks and refs.
        case commondir
        /// A linked worktree's `gitdir` pointing outside the workspace.
        case worktreeGitdir = "worktree-gitdir"
        /// `objects/info/alternates` or `http-alternates`.
        case alternates
        /// `config` or `config.worktree` of any repository.
        case config
        /// A file in a hooks directory.
        case hook
        /// A file in `info/` that changes behaviour (not `exclude`).
        case info
        /// An interrupted rebase or sequencer state whose commands run on `--continue`.
        case sequence
        /// Any other file in a control directory that git does not need to record commits.
        case control
        /// A symbolic link inside a `.git` directory that leads out of it.
        case symlink
        /// A file or directory a config names (`core.hooksPath`, `core.fsmonitor`, `include.path`).
        case referenced
        /// A control file that existed before the run is gone.
        case removed
        /// A limit on the walk was reached: part of the workspace was not checked.
        case limit
        /// An entry that could not be read: it was not checked.
        case unreadable
        /// The workspace itself could not be opened again, or was replaced.
        case workspace

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// One thing that could make a later git command run code or read from elsewhere.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public var kind: Kind
        /// The path relative to the workspace, as bytes (names need not be UTF-8).
        public var path: [UInt8]
        /// One line, already safe to print (agent-written bytes are escaped).
        public var reason: String

        public init(kind: Kind, path: [UInt8], reason: String) {
            self.kind = kind
            self.path = path
            self.reason = reason
        }

        /// The path with control characters, invalid UTF-8 and `\` escaped (`\xNN`, `\n`, `\\`).
        public var displayPath: String { GitPathBytes.displayRelative(path) }

        /// `kind path: reason`.
        public var description: String { "\(kind.rawValue) \(displayPath): \(reason)" }
    }

    /// The workspace could not be snapshotted.
    public enum SnapshotError: Error, Equatable, CustomStringConvertible {
        /// `realpath` or the component-wise open failed.
        case cannotOpen(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let e):
                return "cannot open the workspace \(GitPathBytes.display(Array(path.utf8))) to check its git control plane: \(String(cString: strerror(e)))"
            }
        }
    }

    /// The control plane before the run. Holds no descriptor: `inspect()` opens the workspace
    /// again and checks that it is the same directory.
    public struct Snapshot: Sendable {
        /// The canonical absolute workspace path.
        public let workspace: [UInt8]
        let device: UInt64
        let inode: UInt64
        let limits: Limits
        let scan: GitTreeScan

        /// Findings for everything that differs from the snapshot in a way that could make git
        /// run code or read from elsewhere, in a deterministic order (path bytes, then kind).
        public func inspect() -> [Finding] {
            let fd = NoFollowFiles.openDirectoryPath(workspace)
            guard fd >= 0 else {
                let e = errno
                return [Finding(kind: .workspace, path: [], reason: "cannot be opened again after the run (\(String(cString: strerror(e)))): nothing checked")]
            }
            defer { close(fd) }
            guard let st = NoFollowFiles.status(of: fd), st.device == device, st.inode == inode else {
                return [Finding(kind: .workspace, path: [], reason: "is not the directory it was before the run (replaced): nothing checked")]
            }
            var scanner = GitTreeScanner(limits: limits, workspace: workspace)
            let after = scanner.scan(rootFD: fd, references: scan.references)
            return GitControlPlaneJudge(before: scan, after: after, workspace: workspace).findings()
        }
    }

    /// Walks the workspace before the run and records its control plane.
    public static func snapshot(workspace: String, limits: Limits = .standard) throws -> Snapshot {
        guard let resolved = realpath(workspace, nil) else {
            throw SnapshotError.cannotOpen(path: workspace, errno: errno)
        }
        let canonical = Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
        free(resolved)
        let fd = NoFollowFiles.openDirectoryPath(canonical)
        guard fd >= 0 else { throw SnapshotError.cannotOpen(path: workspace, errno: errno) }
        defer { close(fd) }
        guard let st = NoFollowFiles.status(of: fd) else { throw SnapshotError.cannotOpen(path: workspace, errno: errno) }
        var scanner = GitTreeScanner(limits: limits, workspace: canonical)
        let scan = scanner.scan(rootFD: fd, references: nil)
        return Snapshot(workspace: canonical, device: st.device, inode: st.inode, limits: limits, scan: scan)
    }
}
