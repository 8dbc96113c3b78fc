#if canImport(Glibc)
import Glibc
#endif

/// Facts about the process and host that several commands need: its environment, current
/// directory, user and host name.
enum HostFacts {
    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return result
    }

    static func realDirectory(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        var st = stat()
        let s = String(cString: r)
        guard stat(s, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return s
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory() + "/" + path
    }

    static func currentDirectory() -> String {
        guard let c = getcwd(nil, 0) else { return "/" }
        defer { free(c) }
        return String(cString: c)
    }

    static func passwdHome() -> String? {
        guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    static func userName() -> String {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return "uid \(getuid())" }
        return String(cString: name)
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        return String(cString: buf)
    }
}
