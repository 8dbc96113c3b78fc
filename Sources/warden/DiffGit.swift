import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why `git` could not answer. `warden diff` exits 2.
struct GitError: Error, CustomStringConvertible {
    var description: String
}

/// `git` through `HostCommand`.
enum GitProcess {
    static func run(_ arguments: [String], limit: Int, timeout: Duration = .seconds(60)) throws(GitError) -> HostCommand.Output {
        try HostCommand.run("git", arguments, limit: limit, timeout: timeout)
    }
}

/// One git repository as `warden diff --base` reads it: the work tree's top level and
/// commits resolved once.
struct GitRepository: Sendable {
    /// Physical path of the work tree's top level.
    var toplevel: String

    /// The repository containing `path` (a file or directory, existing or not: its nearest
    /// existing ancestor is asked).
    static func containing(_ path: String) throws(GitError) -> GitRepository {
        let physical = PhysicalPath.of(path)
        var dir = physical
        while !PhysicalPath.isDirectory(dir), dir != "/" { dir = PolicyPaths.directory(of: dir) }
        let out = try GitProcess.run(["-C", dir, "rev-parse", "--show-toplevel"], limit: 1 << 16)
        let top = String(decoding: out.stdout, as: UTF8.self).trimmingNewline()
        guard out.status == 0, !top.isEmpty else {
            throw GitError(description: "\(TerminalText.escape(path)) is not in a git repository (\(out.stderr))")
        }
        return GitRepository(toplevel: PhysicalPath.of(top))
    }

    /// The commit `revision` names (a branch, tag, hash, `HEAD~1`...).
    func commit(_ revision: String) throws(GitError) -> String {
        guard !revision.isEmpty, !revision.hasPrefix("-"), !revision.contains("\u{0}") else {
            throw GitError(description: "`\(TerminalText.escape(revision))` is not a revision")
        }
        let out = try GitProcess.run(["-C", toplevel, "rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"], limit: 1 << 16)
        let hash = String(decoding: out.stdout, as: UTF8.self).trimmingNewline()
        guard out.status == 0, !hash.isEmpty, hash.allSatisfy(\.isHexDigit) else {
            throw GitError(description: "unknown revision `\(TerminalText.escape(revision))` in the repository at \(TerminalText.escape(toplevel))")
        }
        return hash
    }

    /// `path` relative to the top level (`""` for the top level itself), or nil when it is
    /// outside the repository.
    func relative(_ path: String) -> String? {
        let physical = PhysicalPath.of(path)
        if physical == toplevel { return "" }
        let base = toplevel == "/" ? "/" : toplevel + "/"
        guard physical.hasPrefix(base) else { return nil }
        return String(physical.dropFirst(base.count))
    }

    enum Entry: Equatable { case missing, blob(String), tree, other(String) }

    /// What `relative` is at `commit`.
    func entry(_ relative: String, at commit: String) throws(GitError) -> Entry {
        if relative.isEmpty { return .tree }
        let out = try GitProcess.run(["--literal-pathspecs", "-C", toplevel, "ls-tree", "-z", "--full-tree", commit, "--", relative], limit: 1 << 20)
        guard out.status == 0 else { throw GitError(description: "git ls-tree failed: \(out.stderr)") }
        for record in out.stdout.split(separator: 0) {
            guard let tab = record.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let name = String(decoding: record[(tab + 1)...], as: UTF8.self)
            guard name == relative else { continue }
            let fields = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ")
            guard fields.count == 3 else { continue }
            switch (fields[0], fields[1]) {
            case ("100644", "blob"), ("100755", "blob"): return .blob(String(fields[2]))
            case (_, "tree"): return .tree
            case ("120000", _): return .other("a symbolic link")
            default: return .other("a \(fields[1]) entry")
            }
        }
        return .missing
    }

    /// The bytes of blob `oid`, at most `limit`.
    func blob(_ oid: String, limit: Int) throws(GitError) -> [UInt8] {
        let out = try GitProcess.run(["-C", toplevel, "cat-file", "blob", oid], limit: limit)
        guard out.status == 0 else { throw GitError(description: "git cat-file failed: \(out.stderr)") }
        return out.stdout
    }

    /// The regular files under `relative` (a directory; `""` for the top level) at `commit`,
    /// relative to the top level.
    func files(under relative: String, at commit: String) throws(GitError) -> [String] {
        var args = ["--literal-pathspecs", "-C", toplevel, "ls-tree", "-r", "-z", "--full-tree", commit]
        if !relative.isEmpty { args += ["--", relative] }
        let out = try GitProcess.run(args, limit: 64 << 20)
        guard out.status == 0 else { throw GitError(description: "git ls-tree failed: \(out.stderr)") }
        var result: [String] = []
        for record in out.stdout.split(separator: 0) {
            guard let tab = record.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let mode = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ").first ?? ""
            guard mode == "100644" || mode == "100755" else { continue }
            result.append(String(decoding: record[(tab + 1)...], as: UTF8.self))
        }
        return result
    }
}

/// Reads policy files as they are at one commit. Paths are the ones the loader builds from
/// the paths on the command line (relative to the current directory, or absolute); they
/// are mapped to the repository's top level, so file names in the output read the same on
/// both sides. A file missing at the commit is `.notFound`.
struct GitSourceProvider: SourceProvider {
    var repository: GitRepository
    var commit: String

    func read(_ path: String) throws(SourceProviderError) -> String {
        try read(path, limit: PolicyLoader.defaultMaxFileBytes)
    }

    func read(_ path: String, limit: Int) throws(SourceProviderError) -> String {
        guard let relative = repository.relative(path) else {
            throw .unreadable(path: path, reason: "outside the git repository at \(repository.toplevel)")
        }
        let entry: GitRepository.Entry
        do {
            entry = try repository.entry(relative, at: commit)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        switch entry {
        case .missing: throw .notFound(path: path)
        case .tree: throw .notRegularFile(path: path, kind: "a directory at \(commit.prefix(12))")
        case .other(let kind): throw .notRegularFile(path: path, kind: "\(kind) at \(commit.prefix(12))")
        case .blob(let oid):
            let bytes: [UInt8]
            do {
                bytes = try repository.blob(oid, limit: limit)
            } catch {
                if error.description.contains("printed more than") { throw .tooLarge(path: path, limit: limit, total: false) }
                throw .unreadable(path: path, reason: error.description)
            }
            return try SourceProviderError.text(bytes, path: path)
        }
    }
}

/// Absolute, physical paths (symbolic links resolved for the part that exists).
enum PhysicalPath {
    static func of(_ path: String) -> String {
        var absolute = path
        if !path.hasPrefix("/") { absolute = currentDirectory() + "/" + path }
        absolute = PolicyPaths.normalize(absolute)
        // Resolve the longest existing prefix; keep the rest as written.
        var head = absolute
        var tail: [String] = []
        while true {
            if let resolved = realPath(head) {
                return PolicyPaths.normalize(([resolved] + tail.reversed()).joined(separator: "/"))
            }
            if head == "/" || head.isEmpty { return absolute }
            tail.append(String(head[head.index(after: head.lastIndex(of: "/")!)...]))
            head = PolicyPaths.directory(of: head)
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(cString: buffer)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }
}

extension String {
    func trimmingNewline() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
