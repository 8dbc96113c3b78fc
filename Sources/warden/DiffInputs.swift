import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One version of one root policy file: where the loader reads it from.
struct PolicyVersion: Sendable {
    /// The path the loader is given (as on the command line, or joined from it).
    var path: String
    var provider: any SourceProvider
    /// `git show` style label of the version (`HEAD~1:policies/a.warden`), for messages.
    var label: String
}

/// One root policy file compared: its old and new version (nil: it did not exist).
struct DiffPair: Sendable {
    /// The file's name in the output: the path of the new version (the old one when it was
    /// deleted), or the relative path inside the two directories.
    var name: String
    var old: PolicyVersion?
    var new: PolicyVersion?
}

/// Usage or I/O problems with the inputs of `warden diff` (exit 2).
struct DiffInputError: Error, CustomStringConvertible {
    var description: String
}

/// Turns the command line into the pairs of files to compare: two files, two directories
/// (every `*.warden` file under them, paired by relative path), or paths at a git
/// revision against the work tree or another revision.
enum DiffInputs {
    /// The most policy files one side of a directory comparison may hold.
    static let maxFiles = 10_000
    /// How deep a directory comparison descends.
    static let maxDepth = 32

    static func pairs(old: String, new: String) throws(DiffInputError) -> [DiffPair] {
        let fs = FileSystemSourceProvider()
        if old == StandardInputPolicy.argument || new == StandardInputPolicy.argument {
            return [try standardInputPair(old: old, new: new)]
        }
        for p in [old, new] where !PhysicalPath.exists(p) {
            throw DiffInputError(description: "\(TerminalText.escape(p)): no such file or directory")
        }
        switch (PhysicalPath.isDirectory(old), PhysicalPath.isDirectory(new)) {
        case (false, false):
            return [DiffPair(name: new, old: PolicyVersion(path: old, provider: fs, label: old),
                             new: PolicyVersion(path: new, provider: fs, label: new))]
        case (true, true):
            let before = try policyFiles(in: old), after = try policyFiles(in: new)
            return Set(before).union(after).sorted().map { rel in
                let o = join(old, rel), n = join(new, rel)
                return DiffPair(name: rel,
                                old: before.contains(rel) ? PolicyVersion(path: o, provider: fs, label: o) : nil,
                                new: after.contains(rel) ? PolicyVersion(path: n, provider: fs, label: n) : nil)
            }
        default:
            throw DiffInputError(description: "compare two files or two directories, not a file with a directory")
        }
    }

    /// One side from standard input (`-`), the other a file.
    private static func standardInputPair(old: String, new: String) throws(DiffInputError) -> DiffPair {
        let file = old == StandardInputPolicy.argument ? new : old
        guard PhysicalPath.exists(file) else { throw DiffInputError(description: "\(TerminalText.escape(file)): no such file or directory") }
        guard !PhysicalPath.isDirectory(file) else {
            throw DiffInputError(description: "compare standard input (`-`) with a file, not a directory")
        }
        let provider: any SourceProvider
        do {
            provider = try StandardInputPolicy.provider()
        } catch {
            throw DiffInputError(description: error.description)
        }
        func version(_ p: String) -> PolicyVersion {
            let path = StandardInputPolicy.loaderPath(p)
            return PolicyVersion(path: path, provider: provider, label: path)
        }
        return DiffPair(name: StandardInputPolicy.loaderPath(new), old: version(old), new: version(new))
    }

    /// `paths` (files or directories) at `base` against the work tree, or against `head`.
    static func pairs(base: String, head: String?, paths: [String]) throws(DiffInputError) -> [DiffPair] {
        var result: [DiffPair] = []
        var seen: Set<String> = []
        for path in paths {
            let repo: GitRepository, baseCommit: String, headCommit: String?
            do {
                repo = try GitRepository.containing(path)
                baseCommit = try repo.commit(base)
                headCommit = try head.map { (h: String) throws(GitError) -> String in try repo.commit(h) }
            } catch {
                throw DiffInputError(description: error.description)
            }
            guard let rel = repo.relative(path) else {
                throw DiffInputError(description: "\(TerminalText.escape(path)) is outside the git repository at \(TerminalText.escape(repo.toplevel))")
            }
            let oldProvider = GitSourceProvider(repository: repo, commit: baseCommit)
            let newProvider: any SourceProvider = headCommit.map { GitSourceProvider(repository: repo, commit: $0) } ?? FileSystemSourceProvider()
            func version(_ p: String, old: Bool) -> PolicyVersion {
                let rev = old ? base : head
                return PolicyVersion(path: p, provider: old ? oldProvider : newProvider, label: rev.map { "\($0):\(p)" } ?? p)
            }
            do {
                let oldEntry = try repo.entry(rel, at: baseCommit)
                let newEntry = try headCommit.map { (c: String) throws(GitError) -> GitRepository.Entry in try repo.entry(rel, at: c) }
                let newIsDir = newEntry.map { $0 == .tree } ?? PhysicalPath.isDirectory(path)
                let newExists = newEntry.map { $0 != .missing } ?? PhysicalPath.exists(path)
                if oldEntry == .tree || newIsDir {
                    let before = oldEntry == .tree ? try gitPolicyFiles(repo, under: rel, at: baseCommit) : []
                    let after: [String]
                    if let headCommit {
                        after = newIsDir ? try gitPolicyFiles(repo, under: rel, at: headCommit) : []
                    } else {
                        after = newIsDir ? try policyFiles(in: path) : []
                    }
                    for file in Set(before).union(after).sorted() {
                        let p = join(path, file)
                        guard seen.insert(p).inserted else { continue }
                        result.append(DiffPair(name: p, old: before.contains(file) ? version(p, old: true) : nil,
                                               new: after.contains(file) ? version(p, old: false) : nil))
                    }
                } else {
                    guard oldEntry != .missing || newExists else {
                        throw DiffInputError(description: "\(TerminalText.escape(path)): exists neither at \(TerminalText.escape(base)) nor \(head.map { "at " + TerminalText.escape($0) } ?? "in the work tree")")
                    }
                    guard seen.insert(path).inserted else { continue }
                    result.append(DiffPair(name: path, old: oldEntry == .missing ? nil : version(path, old: true),
                                           new: newExists ? version(path, old: false) : nil))
                }
            } catch let error as GitError {
                throw DiffInputError(description: error.description)
            } catch let error as DiffInputError {
                throw error
            } catch {
                throw DiffInputError(description: "\(error)")
            }
        }
        return result
    }

    /// The `*.warden` files under the tree `rel` at `commit`, relative to it.
    static func gitPolicyFiles(_ repo: GitRepository, under rel: String, at commit: String) throws -> [String] {
        let prefix = rel.isEmpty ? "" : rel + "/"
        let files = try repo.files(under: rel, at: commit).compactMap { f -> String? in
            guard f.hasPrefix(prefix) else { return nil }
            let inner = String(f.dropFirst(prefix.count))
            return isPolicyName(inner) ? inner : nil
        }
        guard files.count <= maxFiles else { throw DiffInputError(description: "more than \(maxFiles) policy files under \(TerminalText.escape(rel)) at \(commit.prefix(12))") }
        return files
    }

    /// A `*.warden` file whose path has no hidden component.
    static func isPolicyName(_ relative: String) -> Bool {
        relative.hasSuffix(".warden") && !relative.split(separator: "/").contains { $0.hasPrefix(".") }
    }

    static func join(_ dir: String, _ rel: String) -> String {
        if dir == "." || dir == "./" { return rel }
        return dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
    }

    /// The `*.warden` files under `dir` (recursively, hidden names and symbolic links to
    /// directories skipped), relative to it, sorted.
    static func policyFiles(in dir: String) throws(DiffInputError) -> [String] {
        var found: [String] = []
        try walk(dir, relative: "", depth: 0, into: &found)
        return found.sorted()
    }

    private static func walk(_ dir: String, relative: String, depth: Int, into found: inout [String]) throws(DiffInputError) {
        guard depth <= maxDepth else { throw DiffInputError(description: "\(TerminalText.escape(dir)): directories nested more than \(maxDepth) deep") }
        guard let d = opendir(dir) else {
            throw DiffInputError(description: "\(TerminalText.escape(dir)): cannot read the directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        for name in names.sorted() {
            let full = join(dir, name), rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try walk(full, relative: rel, depth: depth + 1, into: &found)
            } else if name.hasSuffix(".warden") {
                found.append(rel)
                if found.count > maxFiles { throw DiffInputError(description: "\(TerminalText.escape(dir)): more than \(maxFiles) policy files") }
            }
        }
    }
}
