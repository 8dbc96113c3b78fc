import WardenAudit
import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A run's changes as a git branch and a patch for people to review; nothing is pushed or
/// merged.
///
/// Before the agent runs, the workspace's clone (made by Warden, not yet touched) gives its
/// commit to a bare repository of Warden's own beside the workspace, out of the agent's
/// world. After the run, Warden reads the changed entries itself (`WorkspaceSnapshot`,
/// `WorkspaceEntry`: no link followed) and hands their bytes to `git fast-import` as data,
/// so the commit is made without any git reading the tree the agent wrote: its `.git`
/// (config, hooks, fsmonitor), attributes and nested repositories never reach a host git.
/// New files ignored by the base commit's `.gitignore` files are left out (the base's rules,
/// not the agent's, so an agent cannot hide a change by ignoring it); tracked files always
/// count. The patch is `git diff --binary` between the two commits in that repository.
struct ReviewArtifact: Sendable, Equatable {
    /// The bare repository holding the base and the branch.
    var repository: String
    var branch: String
    var base: String
    var commit: String
    /// The patch file; nil when it would pass `ReviewBranch.patchLimit`.
    var patch: String?
    /// Paths the commit adds, changes or deletes.
    var paths: Int
    /// Changed entries not in the commit, each with why (the first `maxListed`).
    var leftOut: [String]
    static let maxListed = 100
    /// The audit record `warden serve` writes for a run's review, under its decision's run id.
    static let recordKind = "run.review"

    var json: AuditValue {
        .object(["repository": .string(repository), "branch": .string(branch), "base": .string(base), "commit": .string(commit),
                 "patch": patch.map { .string($0) } ?? .null, "paths": .int(Int64(paths)), "left_out": .strings(leftOut)])
    }

    init(repository: String, branch: String, base: String, commit: String, patch: String?, paths: Int, leftOut: [String]) {
        (self.repository, self.branch, self.base, self.commit, self.patch, self.paths, self.leftOut) =
            (repository, branch, base, commit, patch, paths, leftOut)
    }

    init?(json v: AuditValue) {
        guard let repository = v["repository"]?.stringValue, let branch = v["branch"]?.stringValue, let base = v["base"]?.stringValue,
              let commit = v["commit"]?.stringValue, let paths = v["paths"]?.intValue else { return nil }
        self.init(repository: repository, branch: branch, base: base, commit: commit, patch: v["patch"]?.stringValue, paths: Int(paths),
                  leftOut: v["left_out"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

enum ReviewBranch {
    /// A file larger than this is left out of the commit.
    static let fileLimit = 64 << 20
    /// Bytes of file content one commit carries at most; later files are left out.
    static let totalLimit = 512 << 20
    /// A larger patch is not written (the branch still holds the changes).
    static let patchLimit = 64 << 20
    static let baseRef = "refs/warden/base"

    /// Before the agent runs: copies the commit checked out in `workspace` (a clone Warden
    /// just made) into a new bare repository at `repository`; returns that commit, or nil
    /// when the workspace is not a git work tree.
    static func prepareBase(workspace: String, repository: String) throws(FleetError) -> String? {
        var st = stat()
        guard lstat(workspace + "/.git", &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        let base = ReviewGit.firstWord(try ReviewGit.plain(ReviewGit.options + ["-C", workspace, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]))
        guard GitObjectID.isValid(base) else { throw FleetError("the workspace's HEAD is not a commit") }
        try ReviewGit.plain(["init", "--quiet", "--bare", repository])
        try ReviewGit.run(repository, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", workspace, "+HEAD:" + baseRef], limit: 1 << 16)
        let fetched = ReviewGit.firstWord(try ReviewGit.run(repository, ["rev-parse", "--verify", "--quiet", baseRef + "^{commit}"]))
        guard fetched == base else { throw FleetError("the review repository's base is \(fetched), not the workspace's \(base)") }
        return base
    }

    /// After the run: commits what changed between `before` and `after` in `workspace` onto
    /// `base` as branch `warden/review/NAME` in `repository`, and writes the patch to
    /// `patchPath`. Nil when nothing changed.
    static func make(workspace: String, repository: String, base: String, before: WorkspaceSnapshot, after: WorkspaceSnapshot,
                     name: String, patchPath: String) throws(FleetError) -> ReviewArtifact? {
        let (upserted, removed) = before.changedPaths(to: after)
        var leftOut: [String] = []
        func leave(_ path: [UInt8], _ why: String) {
            if leftOut.count < ReviewArtifact.maxListed { leftOut.append(TerminalText.escape(String(decoding: path, as: UTF8.self)) + ": " + why) }
        }
        let tracked = try trackedPaths(repository, base: base)
        var candidates: [[UInt8]] = []
        for path in upserted {
            if ReviewPaths.hasGitComponent(path) { leave(path, "a .git entry"); continue }
            candidates.append(path)
        }
        let ignored = try ignoredPaths(candidates.filter { !tracked.paths.contains($0) }, repository: repository, base: base,
                                       ignoreFiles: tracked.ignoreFiles)
        let streamPath = repository + "/warden-import.stream"
        unlink(streamPath)
        var stream = try FastImportStream(path: streamPath)
        defer { stream.close(); unlink(streamPath) }
        let ref = "refs/heads/warden/review/" + name
        try stream.commit(ref: ref, base: base, message: "Changes of Warden run \(name)\n\nThe workspace after the run, read by Warden without running git in it.\n",
                          time: Int64(time(nil)))
        var paths = 0
        // Only what the base has can be deleted (a file the run made and removed again is nothing).
        for path in removed where tracked.paths.contains(path) {
            try stream.delete(path)
            paths += 1
        }
        var content = 0
        for path in candidates where !ignored.contains(path) {
            switch WorkspaceEntry.read(root: workspace, path: path, limit: fileLimit) {
            case .file(let bytes, let executable):
                guard content + bytes.count <= totalLimit else { leave(path, "past the commit's \(totalLimit >> 20) MiB"); continue }
                content += bytes.count
                try stream.modify(path, mode: executable ? "100755" : "100644", content: bytes)
                paths += 1
            case .symlink(let target):
                try stream.modify(path, mode: "120000", content: target)
                paths += 1
            case .skipped(let why):
                leave(path, why)
            }
        }
        try stream.done()
        guard paths > 0 else { return nil }
        try ReviewGit.run(repository, ["fast-import", "--quiet", "--done"], limit: 1 << 16, stdin: streamPath)
        let commit = ReviewGit.firstWord(try ReviewGit.run(repository, ["rev-parse", "--verify", "--quiet", ref + "^{commit}"]))
        guard GitObjectID.isValid(commit) else { throw FleetError("the review commit was not made") }
        var patch: String? = patchPath
        do {
            let diff = try ReviewGit.run(repository, ["diff", "--binary", "--no-ext-diff", "--no-textconv", "--no-color", base, commit], limit: patchLimit)
            try AtomicFile.store(patchPath, bytes: diff, mode: 0o600)
        } catch {
            patch = nil
            leftOut.append("the patch: \(error)")
        }
        return ReviewArtifact(repository: repository, branch: "warden/review/" + name, base: base, commit: commit, patch: patch,
                              paths: paths, leftOut: leftOut)
    }

    /// The base commit's paths, and its `.gitignore` files (path, blob id).
    private static func trackedPaths(_ repository: String, base: String) throws(FleetError) -> (paths: Set<[UInt8]>, ignoreFiles: [([UInt8], String)]) {
        let listing = try ReviewGit.run(repository, ["ls-tree", "-r", "-z", "--full-tree", base], limit: 256 << 20)
        var paths = Set<[UInt8]>()
        var ignoreFiles: [([UInt8], String)] = []
        for entry in listing.split(separator: 0) {
            // `MODE TYPE ID\tPATH`
            guard let tab = entry.firstIndex(of: 0x09) else { continue }
            let path = Array(entry[(tab + 1)...])
            paths.insert(path)
            let meta = entry[entry.startIndex..<tab].split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
            if meta.count == 3, meta[0] == "100644" || meta[0] == "100755", path.split(separator: 0x2F).last.map(Array.init) == Array(".gitignore".utf8),
               ReviewPaths.isPlainRelative(path), ignoreFiles.count < 10_000 {
                ignoreFiles.append((path, meta[2]))
            }
        }
        return (paths, ignoreFiles)
    }

    /// Which of `paths` the base commit's `.gitignore` files ignore: those files are written
    /// into a scratch tree of Warden's (from the repository, never from the workspace) and
    /// `git check-ignore` asked about the paths there.
    private static func ignoredPaths(_ paths: [[UInt8]], repository: String, base: String,
                                     ignoreFiles: [([UInt8], String)]) throws(FleetError) -> Set<[UInt8]> {
        guard !paths.isEmpty, !ignoreFiles.isEmpty else { return [] }
        let scratch = repository + "/warden-ignore-tree"
        _ = TreeRemoval.remove(path: Array(scratch.utf8))
        defer { _ = TreeRemoval.remove(path: Array(scratch.utf8)) }
        guard mkdir(scratch, 0o700) == 0 else { throw FleetError("cannot create \(scratch): \(String(cString: strerror(errno)))") }
        for (path, blob) in ignoreFiles {
            let text = try ReviewGit.run(repository, ["cat-file", "blob", blob], limit: 1 << 20)
            var directory = scratch
            for part in path.split(separator: 0x2F).dropLast() {
                directory += "/" + String(decoding: part, as: UTF8.self)
                guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { throw FleetError("cannot create \(directory)") }
            }
            do { try AtomicFile.store(scratch + "/" + String(decoding: path, as: UTF8.self), bytes: text, mode: 0o600) } catch {
                throw FleetError("cannot write a .gitignore copy: \(error)")
            }
        }
        let listPath = repository + "/warden-check-ignore"
        do { try AtomicFile.store(listPath, bytes: paths.flatMap { $0 + [0] }, mode: 0o600) } catch {
            throw FleetError("cannot write the paths to check: \(error)")
        }
        defer { unlink(listPath) }
        // Exit 1: none of them is ignored.
        let out = try ReviewGit.run(repository, ["--work-tree=" + scratch, "check-ignore", "--no-index", "-z", "--stdin"],
                                    limit: 64 << 20, stdin: listPath, accepted: [0, 1])
        return Set(out.split(separator: 0).map(Array.init))
    }
}
