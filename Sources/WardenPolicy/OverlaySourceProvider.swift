/// A provider that answers some paths from memory and the rest from another provider: a
/// policy with one file changed in memory (`warden learn`'s proposal applied; a file at
/// another revision) loads, includes and all, without touching the files on disk.
public struct OverlaySourceProvider: SourceProvider {
    public var base: any SourceProvider
    /// Replaced files by normalised path.
    public var overrides: [String: String]

    public init(base: any SourceProvider = FileSystemSourceProvider(), overrides: [String: String]) {
        self.base = base
        var normalized: [String: String] = [:]
        for (path, text) in overrides { normalized[PolicyPaths.normalize(path)] = text }
        self.overrides = normalized
    }

    public func read(_ path: String) throws(SourceProviderError) -> String {
        if let text = overrides[PolicyPaths.normalize(path)] { return text }
        return try base.read(path)
    }

    public func read(_ path: String, limit: Int) throws(SourceProviderError) -> String {
        if let text = overrides[PolicyPaths.normalize(path)] {
            guard text.utf8.count <= limit else { throw .tooLarge(path: path, limit: limit, total: false) }
            return text
        }
        return try base.read(path, limit: limit)
    }
}
