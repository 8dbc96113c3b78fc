#if canImport(Glibc)
import Glibc
#endif

/// The host side of an identity's caches (`cache "${home}/.cache/pip"`): one private store
/// per identity, kept across runs, shared only by runs of that identity.
///
/// The store is `/var/cache/warden/<identity>` for root, else
/// `$XDG_CACHE_HOME/warden/<identity>` (or `~/.cache/warden/<identity>`); each cache is the
/// directory at its path relative to `${home}` inside it (`.cache/pip`). Every directory
/// Warden creates there has mode 0700. The agent writes the caches, so a later run finds
/// whatever an earlier agent left: every step walks from `/` one component at a time with
/// O_NOFOLLOW and refuses a symlink or a non-directory, so a link planted in a cache never
/// makes this (privileged) process create or open anything outside the store. The launcher
/// opens the store again with RESOLVE_NO_SYMLINKS, so a swap after this walk fails the
/// launch too. The agent sees a cache read/write and noexec.
public enum CacheStore {
    /// The store of `identity` (not created).
    public static func base(identity: String, uid: UInt32, environment: [String: String], home: String) -> String {
        if uid == 0 { return "/var/cache/warden/" + identity }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/warden/" + identity }
        return home + "/.cache/warden/" + identity
    }

    /// Creates (when missing) the store directory of the cache `path` (agent view, strictly
    /// below `home`) and returns its host path.
    public static func prepare(path: String, home: String, base: String, identity: String) throws(RunSetupError) -> String {
        guard path.hasPrefix(home == "/" ? "/" : home + "/") else {
            throw RunSetupError("the cache \(path) is not inside ${home} (\(home)); a cache names a directory below ${home}")
        }
        let relative = path.dropFirst(home == "/" ? 1 : home.count + 1).split(separator: "/")
        guard !relative.isEmpty, !relative.contains(where: { $0 == "." || $0 == ".." }) else {
            throw RunSetupError("the cache \(path) must name a directory below ${home}")
        }
        guard !identity.isEmpty, identity != ".", identity != "..", !identity.contains("/"), base.hasSuffix("/warden/" + identity) else {
            throw RunSetupError("the identity name \(identity) cannot name a cache store")
        }
        let target = base + "/" + relative.joined(separator: "/")
        do throws(WalkError) {
            // Everything from `warden` down is Warden's: each existing directory there must be
            // this user's and closed to others.
            let shared = base.count - ("/warden/" + identity).count
            try makeDirectories(base, privateFrom: shared)
            try makeDirectories(target, privateFrom: shared)
        } catch {
            throw RunSetupError("cache \(path): cannot prepare its store \(target): \(error.message); remove what is there (a run of this identity may have planted it) and run again")
        }
        return target
    }

    struct WalkError: Error { var message: String }

    /// Creates every missing component of `path` (absolute) with mode 0700 from `/`, one
    /// component at a time, never following a link; components that exist must be
    /// directories (not links). Components at or beyond byte offset `privateFrom` that
    /// Warden finds existing must be owned by this user and not writable by others.
    static func makeDirectories(_ path: String, privateFrom: Int) throws(WalkError) {
        var dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw WalkError(message: "open /: \(String(cString: strerror(errno)))") }
        defer { close(dir) }
        var current = ""
        for name in path.split(separator: "/") {
            current += "/" + name
            let component = String(name)
            var next = openat(dir, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                guard mkdirat(dir, component, 0o700) == 0 || errno == EEXIST else {
                    throw WalkError(message: "mkdir \(current): \(String(cString: strerror(errno)))")
                }
                next = openat(dir, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                let e = errno
                let why = e == ELOOP || e == ENOTDIR ? "is a symlink or not a directory" : String(cString: strerror(e))
                throw WalkError(message: "\(current) \(why)")
            }
            close(dir)
            dir = next
            if current.count > privateFrom {
                var st = stat()
                guard fstat(dir, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o022 == 0 else {
                    throw WalkError(message: "\(current) is not a private directory of this user")
                }
            }
        }
    }
}
