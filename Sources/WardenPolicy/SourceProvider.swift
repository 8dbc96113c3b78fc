import WardenKernel

/// Why a source could not be read. Every case but `notFound` is an I/O or usage problem
/// (exit status 2), not a mistake in the policy.
public enum SourceProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case notUTF8(path: String)
    /// A FIFO, device, socket or directory where a policy file was expected.
    case notRegularFile(path: String, kind: String)
    /// More than `limit` bytes: the file itself (`PolicyLoader.defaultMaxFileBytes`), or the policy
    /// with its includes (the loader's `maxTotalBytes`, when `total` is true).
    case tooLarge(path: String, limit: Int, total: Bool)
    /// A line longer than `limit` bytes (`PolicyLoader.maxLineBytes`): refused before parsing.
    case lineTooLong(path: String, line: Int, limit: Int)

    /// `path: reason; help`, with the path escaped for a terminal.
    public var description: String {
        "\(TerminalText.escape(path)): \(reason)" + (help.map { "; \($0)" } ?? "")
    }

    /// What is wrong, for a message that names the file already.
    public var reason: String {
        switch self {
        case .notFound: return "no such file"
        case .unreadable(_, let reason): return "cannot read: \(reason)"
        case .notUTF8: return "not valid UTF-8 text"
        case .notRegularFile(_, let kind): return "is \(kind), not a regular file"
        case .tooLarge(_, let limit, false):
            return "larger than \(BoundedFileReader.describe(bytes: limit)), the limit for one policy file"
        case .tooLarge(_, let limit, true):
            return "reading it takes the policy and its includes over \(BoundedFileReader.describe(bytes: limit)) in total"
        case .lineTooLong(_, let line, let limit):
            return "line \(line) is longer than \(BoundedFileReader.describe(bytes: limit)), the limit for one line of a policy"
        }
    }

    /// What to do about it, when there is something to say.
    public var help: String? {
        switch self {
        case .notFound, .unreadable: return nil
        case .notUTF8: return "save the file as UTF-8"
        case .notRegularFile: return "a policy and every file it includes must be a regular file"
        case .tooLarge(_, _, false): return "split the policy into smaller files joined with `include`"
        case .tooLarge(_, _, true): return "include fewer or smaller files"
        case .lineTooLong: return "break the line (a list of values may span several lines)"
        }
    }

    /// The file the error is about.
    public var path: String {
        switch self {
        case .notFound(let p), .unreadable(let p, _), .notUTF8(let p), .notRegularFile(let p, _), .tooLarge(let p, _, _),
             .lineTooLong(let p, _, _): return p
        }
    }
}

/// Where the loader reads policy files from (the file system, or memory in tests).
public protocol SourceProvider: Sendable {
    /// The text of the file at `path` (at most `PolicyLoader.defaultMaxFileBytes` bytes).
    func read(_ path: String) throws(SourceProviderError) -> String
    /// The text of the file at `path`, refusing it with `.tooLarge` when it holds more than
    /// `limit` bytes. Providers that can stop early (the file system) should implement it.
    func read(_ path: String, limit: Int) throws(SourceProviderError) -> String
}

extension SourceProvider {
    public func read(_ path: String, limit: Int) throws(SourceProviderError) -> String {
        let text = try read(path)
        guard text.utf8.count <= limit else { throw .tooLarge(path: path, limit: limit, total: false) }
        return text
    }
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

/// Reads policy files from the file system: regular files only, never blocking in `open`,
/// never holding more than the limit in memory (see `BoundedFileReader`).
public struct FileSystemSourceProvider: SourceProvider {
    public init() {}

    public func read(_ path: String) throws(SourceProviderError) -> String {
        try read(path, limit: PolicyLoader.defaultMaxFileBytes)
    }

    public func read(_ path: String, limit: Int) throws(SourceProviderError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try BoundedFileReader.read(path, limit: limit)
        } catch {
            throw SourceProviderError(error, path: path, limit: limit)
        }
        return try SourceProviderError.text(bytes, path: path)
    }
}

extension SourceProviderError {
    /// The provider error for a failed bounded read of `path`.
    public init(_ error: BoundedFileReadError, path: String, limit: Int) {
        switch error {
        case .notFound: self = .notFound(path: path)
        case .notRegularFile(let kind): self = .notRegularFile(path: path, kind: kind)
        case .tooLarge: self = .tooLarge(path: path, limit: limit, total: false)
        case .system: self = .unreadable(path: path, reason: error.reason)
        }
    }

    /// `bytes` as text, or `.notUTF8`, or `.lineTooLong` for a line over
    /// `PolicyLoader.maxLineBytes` (checked first: a huge line is refused without decoding it).
    public static func text(_ bytes: [UInt8], path: String) throws(SourceProviderError) -> String {
        try checkLineLengths(bytes, path: path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(path: path) }
        return text
    }

    /// Throws `.lineTooLong` for the first line of `bytes` longer than `limit` bytes.
    public static func checkLineLengths(_ bytes: [UInt8], path: String, limit: Int = PolicyLoader.maxLineBytes) throws(SourceProviderError) {
        var line = 1, start = 0
        let newline = UInt8(ascii: "\n")
        for i in bytes.indices where bytes[i] == newline {
            if i - start > limit { throw .lineTooLong(path: path, line: line, limit: limit) }
            line += 1
            start = i + 1
        }
        if bytes.count - start > limit { throw .lineTooLong(path: path, line: line, limit: limit) }
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
