#if canImport(Glibc)
import Glibc
#endif

/// Facts about this process and host, gathered once (`current()`) and passed as one value
/// to whatever needs them: its environment, current directory, user and host name.
public struct HostFacts: Sendable, Equatable {
    public var environment: [String: String]
    public var currentDirectory: String
    /// `$HOME`, else the passwd entry's home, else "/".
    public var home: String
    public var userName: String
    public var uid: UInt32
    public var gid: UInt32
    public var hostName: String

    public init(environment: [String: String], currentDirectory: String, home: String, userName: String,
                uid: UInt32, gid: UInt32, hostName: String) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.home = home
        self.userName = userName
        self.uid = uid
        self.gid = gid
        self.hostName = hostName
    }

    /// This process's facts now.
    public static func current() -> HostFacts {
        let env = environment()
        return HostFacts(environment: env, currentDirectory: currentDirectory(),
                         home: env["HOME"] ?? passwdHome() ?? "/", userName: userName(),
                         uid: getuid(), gid: getgid(), hostName: hostName())
    }

    /// `path` made absolute against this value's current directory (not normalised).
    public func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory + "/" + path
    }

    public static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return result
    }

    /// The canonical path of `path` when it names an existing directory.
    public static func realDirectory(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        var st = stat()
        let s = String(cString: r)
        guard stat(s, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return s
    }

    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory() + "/" + path
    }

    public static func currentDirectory() -> String {
        guard let c = getcwd(nil, 0) else { return "/" }
        defer { free(c) }
        return String(cString: c)
    }

    public static func passwdHome() -> String? {
        guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    public static func userName() -> String {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return "uid \(getuid())" }
        return String(cString: name)
    }

    public static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
