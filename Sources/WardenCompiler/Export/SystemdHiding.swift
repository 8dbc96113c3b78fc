#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// systemd has no default deny for reads: what the policy does not allow is hidden instead.
extension SystemdExport {
    /// How to hide everything but `allowed` (path, writable): entries of `/` and `/var` off
    /// every allowed path (inaccessible), deeper ancestors (empty read-only tmpfs), and the
    /// allowed paths below those (bound back). `/proc`, `/dev`, `/tmp` and `/var/tmp` have
    /// their own settings.
    ///
    /// `listRoot` false: the standard entries (`standardEntries`) instead of the host's.
    /// `managed`: directories systemd provides itself (a dynamic user's `StateDirectory=`
    /// roots): their parents are listed entry by entry too, and they and `private` stay.
    static func hiding(_ allowed: [(path: String, write: Bool)], listRoot: Bool,
                       managed: [String] = []) -> (inaccessible: [String], tmpfs: [String], bindRW: [String], bindRO: [String]) {
        if allowed.contains(where: { $0.path == "/" }) { return ([], [], [], []) }
        let paths = Set(allowed.map(\.path))
        func ancestors(_ p: String) -> [String] {
            var out: [String] = []
            var cur = p
            while let slash = cur.lastIndex(of: "/"), slash != cur.startIndex {
                cur = String(cur[..<slash])
                out.append(cur)
            }
            return out
        }
        var kept: Set<String> = []
        var managedParents: Set<String> = []
        for m in managed {
            let parent = ancestors(m).first ?? "/"
            managedParents.insert(parent)
            kept.insert(m)
            kept.insert(parent + "/private")
        }
        func covered(_ p: String) -> Bool {
            paths.contains(p) || kept.contains(p) || ancestors(p).contains(where: { paths.contains($0) || kept.contains($0) })
        }
        let special: Set<String> = ["/proc", "/dev", "/tmp", "/var/tmp"]
        // `/var` holds `/var/tmp` (PrivateTmp= mounts it), so it is never hidden whole:
        // like `/`, its entries are hidden one by one.
        let listed: Set<String> = Set(["/", "/var"]).union(managedParents)
        var chain: Set<String> = []
        for p in paths { for a in ancestors(p) where !covered(a) && !listed.contains(a) { chain.insert(a) } }
        var inaccessible: [String] = []
        for dir in listed.sorted() {
            for name in listRoot ? Self.entries(of: dir) : standardEntries[dir] ?? [] {
                let child = (dir == "/" ? "" : dir) + "/" + name
                if covered(child) || chain.contains(child) || special.contains(child) || listed.contains(child) { continue }
                inaccessible.append(child)
            }
        }
        // Only the outermost: inner ancestors are empty inside it anyway (binds create them).
        let tmpfs = chain.filter { !special.contains($0) && !ancestors($0).contains(where: { special.contains($0) || chain.contains($0) }) }.sorted()
        var rw: [String] = [], ro: [String] = []
        for a in allowed where !ancestors(a.path).contains(where: paths.contains) {
            let under = ancestors(a.path).contains { tmpfs.contains($0) || special.contains($0) }
            guard under else { continue }
            if a.write { rw.append(a.path) } else { ro.append(a.path) }
        }
        return (inaccessible.sorted(), tmpfs, rw.sorted(), ro.sorted())
    }

    /// The names in directory `dir` on this host.
    static func entries(of dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
