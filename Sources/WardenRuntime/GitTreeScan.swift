/// What one walk of a workspace recorded about its git control plane (see `GitTreeScanner`).
struct GitTreeScan: Sendable, Equatable {
    /// What an entry is to git.
    enum Role: Sendable, Hashable {
        /// An entry named `.git` anywhere in the workspace.
        case dotGit
        /// `config` or `config.worktree` of a repository.
        case config
        /// `commondir` of a repository.
        case commondir
        /// `gitdir` of a linked worktree's administrative directory.
        case worktreeGitdir
        /// `objects/info/alternates` or `objects/info/http-alternates`.
        case alternates
        /// Anything in `hooks/`.
        case hook
        /// Anything in `info/`.
        case info
        /// Anything in `rebase-merge/`, `rebase-apply/` or `sequencer/`.
        case sequence
        /// Any other entry of a git directory that is not repository data.
        case control
        /// A symbolic link among repository data (refs, logs, HEAD...).
        case dataLink
        /// A path a config names: `core.hooksPath`, `core.fsmonitor`, `include.path`.
        case referenced(config: [UInt8], key: String)
    }

    /// The kind of file system entry.
    enum EntryKind: String, Sendable {
        case file, directory, symlink, other
        /// Nothing there.
        case missing
        /// A component on the way is not a directory (a link, a file).
        case unreachable
    }

    /// What is compared between the two walks.
    struct Fingerprint: Sendable, Hashable {
        var kind: EntryKind
        /// Permission bits (files only; 0 otherwise).
        var permissions: UInt32 = 0
        /// SHA-256 of a file's content, or `meta:` size, inode and ctime when it was too large to read.
        var digest: String?
        /// A link's target.
        var target: [UInt8]?
    }

    struct Record: Sendable, Equatable {
        var role: Role
        var fingerprint: Fingerprint
        /// The content of a file whose meaning the judge reads (`.git` files, config,
        /// commondir, gitdir, alternates), when it was small enough to read.
        var content: [UInt8]?
    }

    /// What a directory recognised as a git directory is.
    enum GitDirKind: Sendable, Equatable {
        /// A directory named `.git`.
        case repository
        /// A submodule repository under some `modules/`.
        case module
        /// A linked worktree's administrative directory `worktrees/NAME` of the git directory `owner`.
        case worktree(owner: [UInt8])
        /// A directory inside the workspace that a `.git` file in `worktree` points at (`gitdir: .bare`).
        case linked(worktree: [UInt8])
    }

    /// The path a `.git` file names, as git reads it: the text after `gitdir: `, up to a NUL,
    /// without trailing CR and LF. nil when the file does not start with `gitdir: `.
    static func gitfileTarget(_ content: [UInt8]) -> [UInt8]? {
        let prefix = Array("gitdir: ".utf8)
        guard content.starts(with: prefix) else { return nil }
        var target = Array(content.dropFirst(prefix.count).prefix { $0 != 0 })
        while let last = target.last, last == 0x0A || last == 0x0D { target.removeLast() }
        return target
    }

    /// A path named by a config, to be fingerprinted in both walks.
    struct Reference: Sendable, Hashable {
        /// Relative to the workspace.
        var path: [UInt8]
        /// The config that names it, relative to the workspace.
        var config: [UInt8]
        var key: String
    }

    /// Part of the tree that was not checked.
    struct Problem: Sendable, Hashable {
        var kind: GitControlPlane.Kind
        var path: [UInt8]
        var reason: String
    }

    /// Entries by path relative to the workspace.
    var records: [[UInt8]: Record] = [:]
    /// Git directories by path relative to the workspace.
    var gitDirs: [[UInt8]: GitDirKind] = [:]
    /// Paths the snapshot's configs name inside the workspace.
    var references: [Reference] = []
    var problems: [Problem] = []
}
