#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a source could not be read.
public enum SourceProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case notUTF8(path: String)

    public var description: String {
        switch self {
        case .notFound(let path): return "\(path): no such file"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .notUTF8(let path): return "\(path): not valid UTF-8 text"
        }
    }
}

/// Where the loader reads policy files from (the file system, or memory in tests).
public protocol SourceProvider: Sendable {
    /// The text of the file at `path`.
    func read(_ path: String) throws(SourceProviderError) -> String
}

/// Lexical path helpers shared by the loader and providers.
public enum PolicyPaths {
    /// `path` resolved against the directory of `base` (when relative), with `.`,
    /// `..` and repeated `/` removed lexically.
    public static func resolve(_ path: String, relativeTo base: String?) -> String {
        var full = path
        if !path.hasPrefix("/"), let base {
            let dir = directory(of: base)
            full = dir.isEmpty ? path : dir + "/" + path
        }
        return normalize(full)
    }

    /// The directory part of `path` ("" when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` with `.`, `..` and empty components removed lexically.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if c == "..", absolute { continue }
            parts.append(c)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

/// Reads policy files from the file system.
public struct FileSystemSourceProvider: SourceProvider {
    public init() {}

    public func read(_ path: String) throws(SourceProviderError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(e)))
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw .unreadable(path: path, reason: "is a directory")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(path: path) }
        return text
    }
}

/// Serves policy files from a dictionary (tests, fuzzing, editors).
public struct InMemorySourceProvider: SourceProvider {
    public var files: [String: String]

    public init(_ files: [String: String]) { self.files = files }

    public func read(_ path: String) throws(SourceProviderError) -> String {
        if let text = files[path] ?? files[PolicyPaths.normalize(path)] { return text }
        throw .notFound(path: path)
    }
}
