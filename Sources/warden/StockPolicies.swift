#if canImport(Glibc)
import Glibc
#endif

/// Where the stock policies (`default.warden`, `base.warden`, ... shipped with Warden) are
/// found, in one place: `warden doctor` assesses that directory and `--policy NAME` finds
/// `NAME.warden` in it. The stock directory is the first of these that holds `default.warden`:
///
/// 1. `PREFIX/share/warden/policies`, PREFIX being the parent of the binary's directory:
///    the .deb's `/usr/bin/warden` finds `/usr/share/warden/policies`, the release tarball's
///    `bin/warden` finds the tarball's `share/warden/policies`;
/// 2. `policies/` in the binary's directory or one of its four nearest ancestors: a checkout's
///    `.build/<triple>/debug/warden` finds the repository's `policies/`;
/// 3. `/usr/local/share/warden/policies`, then `/usr/share/warden/policies`: a binary copied
///    elsewhere on a machine where the package is installed.
///
/// The binary is `/proc/self/exe` (symbolic links resolved), so a symlink on PATH to a
/// tarball's `bin/warden` still finds the tarball's policies.
enum StockPolicies {
    /// The candidate directories for the binary at `executable`, in search order, without
    /// duplicates.
    static func searchPath(executable: String?) -> [String] {
        var candidates: [String] = []
        if let executable {
            let binDir = parent(executable)
            candidates.append(join(parent(binDir), "share/warden/policies"))
            var dir = binDir
            for _ in 0..<5 {
                candidates.append(join(dir, "policies"))
                if dir == "/" { break }
                dir = parent(dir)
            }
        }
        candidates += ["/usr/local/share/warden/policies", "/usr/share/warden/policies"]
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    /// The stock directory of the running binary: the first of `searchPath` holding a
    /// readable `default.warden`; nil when none does.
    static func directory() -> String? {
        searchPath(executable: currentExecutable()).first { access($0 + "/default.warden", R_OK) == 0 }
    }

    /// A `--policy` argument as a path. An argument that names an existing file, contains a
    /// `/`, or is `-` is a path and returned unchanged; otherwise a bare `NAME` or
    /// `NAME.warden` is looked up as `NAME.warden` in the stock directory and returned unchanged
    /// when it is not there (the loader then reports the missing file).
    static func resolve(policyArgument argument: String) -> String {
        if argument.isEmpty || argument == "-" || argument.contains("/") || exists(argument) { return argument }
        guard let dir = directory() else { return argument }
        let file = join(dir, argument.hasSuffix(".warden") ? argument : argument + ".warden")
        return exists(file) ? file : argument
    }

    /// The running binary's path, symbolic links resolved.
    static func currentExecutable() -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The parent directory of an absolute path ("/" for "/" and for "/x").
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private static func join(_ dir: String, _ name: String) -> String {
        dir == "/" ? "/" + name : dir + "/" + name
    }

    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
