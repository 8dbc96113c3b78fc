#if canImport(Glibc)
import Glibc
#endif

/// One repository of a fleet (`warden fleet --repos FILE`): a git URL or a local path.
public struct FleetRepository: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A URL git clones (`https://`, `http://`, `ssh://`, `git://`, `file://`, or scp-like
        /// `user@host:path`).
        case gitURL(String)
        /// A local directory (absolute): a git repository is cloned, a plain directory copied.
        case localPath(String)
    }

    /// The entry as the list wrote it, with any user name and password of a URL left out:
    /// how reports and `run.start` name the repository.
    public let name: String
    public let source: Source
    /// Its line in the list (1-based).
    public let line: Int

    public init(name: String, source: Source, line: Int) {
        self.name = name
        self.source = source
        self.line = line
    }

    /// Where it is: the URL, or the absolute path.
    public var location: String {
        switch source {
        case .gitURL(let url): return url
        case .localPath(let path): return path
        }
    }
}

/// Why a repository list was refused (`warden fleet` exits 2).
public struct FleetListError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Reads a fleet's repository list: one repository per line; blank lines and lines whose
/// first non-blank character is `#` are skipped; surrounding blanks are trimmed. Relative
/// local paths are taken from `baseDirectory` (the current directory).
///
/// Refused, with the line: control characters, an entry starting with `-` (it could be read
/// as an option), a URL scheme git would hand to a remote helper (`ext::` runs a command),
/// the same entry twice, more than `maxEntries` entries.
public enum FleetRepositoryList {
    public static let maxEntries = 10_000
    public static let maxBytes = 4 << 20
    static let schemes = ["https://", "http://", "ssh://", "git://", "file://"]

    public static func parse(_ text: String, baseDirectory: String) throws(FleetListError) -> [FleetRepository] {
        guard text.utf8.count <= maxBytes else { throw FleetListError(description: "the list is larger than 4 MiB") }
        var out: [FleetRepository] = []
        var seen: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let entry = raw.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let name = String(entry.reversed())
            if name.isEmpty || name.hasPrefix("#") { continue }
            func refuse(_ why: String) -> FleetListError { FleetListError(description: "line \(line): \(why)") }
            if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
                throw refuse("control characters are not allowed")
            }
            if name.hasPrefix("-") { throw refuse("an entry may not start with '-'") }
            if let first = seen[name] { throw refuse("repeats line \(first)") }
            guard out.count < maxEntries else { throw refuse("more than \(maxEntries) repositories") }
            seen[name] = line
            let source = try source(of: name, baseDirectory: baseDirectory, refuse: refuse)
            out.append(FleetRepository(name: redacted(name), source: source, line: line))
        }
        guard !out.isEmpty else { throw FleetListError(description: "the list names no repository") }
        return out
    }

    static func source(of name: String, baseDirectory: String, refuse: (String) -> FleetListError) throws(FleetListError) -> FleetRepository.Source {
        if let colon = name.firstIndex(of: ":") {
            let head = name[..<colon]
            if name.contains("://") {
                guard schemes.contains(where: { name.hasPrefix($0) }) else {
                    throw refuse("unsupported URL scheme '\(head)' (use https, http, ssh, git or file)")
                }
                return .gitURL(name)
            }
            if name.hasPrefix(String(head) + "::") { throw refuse("git remote helpers ('\(head)::') are not allowed") }
            // git's scp-like form: a colon with no slash before it.
            if !head.contains("/"), !head.isEmpty, !name.hasPrefix(".") { return .gitURL(name) }
        }
        if name.hasPrefix("/") { return .localPath(name) }
        let base = baseDirectory.hasSuffix("/") ? String(baseDirectory.dropLast()) : baseDirectory
        return .localPath(base + "/" + name)
    }

    /// `url` without the user information of its authority (`https://user:token@host/x` →
    /// `https://host/x`): credentials never reach a report, an audit record or the
    /// workspace's git config.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
