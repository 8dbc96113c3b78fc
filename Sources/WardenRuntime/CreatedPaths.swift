#if canImport(Glibc)
import Glibc
#endif

/// The directories of `create` grants (`allow fs read, write "${workspace}/x/y" create`),
/// made before the agent's world is built so the grant attaches to them; they stay after
/// the run.
///
/// Warden is privileged and the workspace is the agent's (an earlier run may have planted
/// `.github -> /etc`), so the walk never resolves a path: it starts at the workspace's
/// descriptor and opens one component at a time with `O_NOFOLLOW`, creating a missing one
/// with `mkdirat` and re-opening it the same way. A symbolic link, or anything but a
/// directory, at any component refuses the launch before anything below it is made.
public enum CreatedPaths {
    /// Why a path could not be created; the run is refused (exit status 125).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot create \(path) for a `create` grant: \(reason)" }
    }

    /// Creates each of `paths` (absolute host paths strictly inside `workspace`, which is
    /// canonical) as a directory, with any missing parents. Returns the directories made,
    /// in order (outer first); what already existed is left as it is.
    public static func create(_ paths: [String], inside workspace: String) throws(Failure) -> [String] {
        var made: [String] = []
        for path in paths {
            let prefix = workspace == "/" ? "/" : workspace + "/"
            guard path.hasPrefix(prefix), path.count > prefix.count else {
                throw Failure(path: path, reason: "it is not inside the workspace \(workspace)")
            }
            let components = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                throw Failure(path: path, reason: "it is not a normalised path")
            }
            var dir = open(workspace, NoFollowFiles.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard dir >= 0 else { throw Failure(path: path, reason: "cannot open the workspace: \(errnoName(errno))") }
            defer { close(dir) }
            var current = workspace
            for name in components {
                current += "/" + name
                var next = openDirectory(dir, name)
                if next < 0, errno == ENOENT {
                    guard mkdirat(dir, name, 0o755) == 0 || errno == EEXIST else {
                        throw Failure(path: path, reason: "mkdir \(current): \(errnoName(errno))")
                    }
                    next = openDirectory(dir, name)
                    if next >= 0 {
                        made.append(current)
                        // As root, the new directory belongs to whoever owns its parent (the
                        // workspace's owner), not to root.
                        var parent = stat()
                        if geteuid() == 0, fstat(dir, &parent) == 0 {
                            _ = fchownat(next, "", parent.st_uid, parent.st_gid, 0x1000) // AT_EMPTY_PATH
                        }
                    }
                }
                guard next >= 0 else {
                    let e = errno
                    var st = stat()
                    let isLink = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
                    throw Failure(path: path, reason: isLink
                        ? "\(current) is a symbolic link; refusing to follow it (remove it, or create the directory yourself)"
                        : "\(current): \(e == ENOTDIR ? "not a directory" : errnoName(e))")
                }
                close(dir)
                dir = next
            }
        }
        return made
    }

    /// Opens directory `name` in `dir` without following a link (O_PATH: no read access
    /// needed); -1 with errno set (ELOOP/ENOTDIR for a link or a non-directory).
    static func openDirectory(_ dir: Int32, _ name: String) -> Int32 {
        let fd = openat(dir, name, NoFollowFiles.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            close(fd)
            errno = ENOTDIR
            return -1
        }
        return fd
    }
}
