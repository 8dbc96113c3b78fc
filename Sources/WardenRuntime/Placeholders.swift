#if canImport(Glibc)
import Glibc
#endif

/// Empty stand-ins for protected paths that do not exist at launch, so a deny can be
/// mounted on them and holds for the whole run (`.github/workflows` in a workspace that has
/// none yet). Created before the launch and removed afterwards when still empty; a run
/// killed in between leaves empty directories or empty files, nothing else.
///
/// Every step walks from `/` one component at a time with O_NOFOLLOW, so a symlink planted
/// on the way (by an earlier agent, or a concurrent run in the same workspace) fails the
/// step instead of redirecting a privileged mkdir outside the workspace.
public struct Placeholders: Sendable {

    /// What was created, outermost first: (host path, is a directory).
    public private(set) var created: [(path: String, directory: Bool)] = []

    /// What a file placeholder holds: empty, except `commondir`, which git reads and must
    /// find pointing at the repository itself (an empty one makes every git command fail).
    static func content(of name: Substring) -> [UInt8] { name == "commondir" ? Array(".\n".utf8) : [] }

    public init() {}

    /// A name that reads as a file (`.gitlab-ci.yml`, `Jenkinsfile`, `alternates`) gets an
    /// empty file; anything else an empty directory. Both stop the agent creating the path.
    static func looksLikeFile(_ name: Substring) -> Bool {
        let known: Set<Substring> = ["Jenkinsfile", "alternates", "http-alternates", "config", "commondir", "gitdir", ".envrc",
                                      ".gitmodules", ".lfsconfig", ".gitconfig", ".bashrc", ".bash_profile", ".profile",
                                      ".zshrc", ".zprofile", ".npmrc", ".pypirc", ".netrc", ".git-credentials", "Makefile"]
        if known.contains(name) { return true }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return true
    }

    /// Creates every missing component of each path in `paths` (absolute, canonical in
    /// their existing part); the last one as a directory when `directories`, else by its name. Throws the path and errno of the first failure, after
    /// removing what it had created.
    public mutating func create(_ paths: [String], directories: Bool = false) throws(PlaceholderError) {
        for path in paths {
            let parts = path.split(separator: "/")
            var dir = open("/", NoFollowFiles.oPath | O_DIRECTORY | O_CLOEXEC)
            var current = ""
            for (i, name) in parts.enumerated() {
                current += "/" + name
                let last = i == parts.count - 1
                var next = openat(dir, String(name), NoFollowFiles.oPath | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY))
                if next < 0 && errno == ENOENT {
                    let asFile = last && !directories && Self.looksLikeFile(name)
                    let rc: Int32
                    if asFile {
                        let f = openat(dir, String(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                        rc = f < 0 ? -1 : 0
                        if f >= 0 {
                            let bytes = Self.content(of: name)
                            _ = bytes.withUnsafeBytes { write(f, $0.baseAddress, $0.count) }
                            close(f)
                        }
                    } else {
                        rc = mkdirat(dir, String(name), 0o755)
                    }
                    if rc == 0 { created.append((current, !asFile)) }
                    next = openat(dir, String(name), NoFollowFiles.oPath | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY))
                }
                let e = errno
                close(dir)
                guard next >= 0 else {
                    remove()
                    throw PlaceholderError(path: current, errno: e)
                }
                dir = next
            }
            close(dir)
        }
    }

    /// Removes, innermost first, what `create` made and is still empty. Never follows a link.
    public mutating func remove() {
        for entry in created.reversed() {
            let parent = String(entry.path[..<(entry.path.lastIndex(of: "/") ?? entry.path.startIndex)])
            let name = String(entry.path[entry.path.index(after: entry.path.lastIndex(of: "/") ?? entry.path.startIndex)...])
            let dir = NoFollowFiles.openDirectoryPath(Array(parent.utf8))
            guard dir >= 0 else { continue }
            if entry.directory {
                _ = unlinkat(dir, name, AT_REMOVEDIR) // fails, as it should, unless empty
            } else {
                // Only while it still is exactly what was created (a read-only mount kept it so).
                var st = stat()
                let expected = Self.content(of: Substring(name))
                if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size == expected.count,
                   case .content(let bytes)? = NoFollowFiles.readFile(dir, Array(name.utf8), limit: expected.count), bytes == expected {
                    _ = unlinkat(dir, name, 0)
                }
            }
            close(dir)
        }
        created = []
    }
}

/// A placeholder could not be created: the launch fails closed rather than leave a
/// protected path unprotected.
public struct PlaceholderError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String {
        "cannot create an empty placeholder at \(path) to protect it during the run: \(errnoName(errno))"
    }
}
