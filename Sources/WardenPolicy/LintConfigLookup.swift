import WardenKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a policy's lint configuration comes from: `.warden-lint.toml` found by walking up
/// from the policy's directory (stopping at a directory holding `.git`, or at `/`), one
/// file for all (`--config FILE`), or none (`--no-config`). `warden lint` and `warden lsp`
/// both use it.
///
/// A loaded file is kept with its inode, size and modification time and read again when
/// any of them changes, so a long-lived lookup (the language server's) sees edits.
/// `overrides` are texts that stand for files (an editor's open configuration documents);
/// an override also counts as a file that exists during discovery.
public struct LintConfigLookup: Sendable {
    public enum Mode: Sendable, Equatable {
        case discover
        case file(String)
        case none
    }

    public let mode: Mode
    /// Relative policy paths (and standard input) are resolved against this directory.
    public let currentDirectory: String
    /// Texts that stand for configuration files, by absolute normalised path.
    public var overrides: [String: String] = [:]
    /// Loaded configurations by file path, with what they were loaded from.
    private var loaded: [String: (origin: Origin, configuration: LintConfiguration)] = [:]

    private enum Origin: Equatable {
        case disk(device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int)
        case text(String)
    }

    public init(mode: Mode, currentDirectory: String) {
        self.mode = mode
        self.currentDirectory = currentDirectory
    }

    /// The configuration for the policy at `policyPath` (nil: standard input, looked for
    /// from the current directory), or nil when there is none.
    public mutating func configuration(forPolicy policyPath: String?) throws(LintConfigurationError) -> LintConfiguration? {
        switch mode {
        case .none: return nil
        case .file(let path): return try load(absolute(path))
        case .discover:
            let start = policyPath.map { PolicyPaths.directory(of: absolute($0)) } ?? PolicyPaths.normalize(currentDirectory)
            guard let found = discover(from: start) else { return nil }
            return try load(found)
        }
    }

    /// The nearest configuration file at or above the absolute directory `start`, not
    /// above a directory holding `.git`.
    public func discover(from start: String) -> String? {
        var dir = start.isEmpty ? "/" : start
        while true {
            let candidate = (dir == "/" ? "" : dir) + "/" + LintConfiguration.fileName
            if overrides[candidate] != nil || exists(candidate) { return candidate }
            if dir == "/" || exists(dir + "/.git") { return nil }
            dir = PolicyPaths.directory(of: dir)
            if dir.isEmpty { return nil }
        }
    }

    /// `path` made absolute against the current directory, normalised.
    public func absolute(_ path: String) -> String {
        PolicyPaths.normalize(path.hasPrefix("/") ? path : currentDirectory + "/" + path)
    }

    /// Drops what was loaded from `path` (every file when nil): the next lookup reads it again.
    public mutating func forget(_ path: String? = nil) {
        if let path { loaded[path] = nil } else { loaded = [:] }
    }

    private func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private func diskOrigin(_ path: String) -> Origin? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return .disk(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                     seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
    }

    private mutating func load(_ path: String) throws(LintConfigurationError) -> LintConfiguration {
        let origin: Origin? = overrides[path].map { .text($0) } ?? diskOrigin(path)
        if let origin, let entry = loaded[path], entry.origin == origin { return entry.configuration }
        let text: String
        if let override = overrides[path] {
            guard override.utf8.count <= LintConfiguration.maxBytes else {
                throw LintConfigurationError(path: path, line: 0, message: "the lint configuration is larger than \(LintConfiguration.maxBytes >> 10) KiB")
            }
            text = override
        } else {
            let bytes: [UInt8]
            do {
                bytes = try BoundedFileReader.read(path, limit: LintConfiguration.maxBytes)
            } catch {
                throw LintConfigurationError(path: path, line: 0, message: "cannot read the lint configuration: \(error.reason)")
            }
            guard let valid = String(validating: bytes, as: UTF8.self) else {
                throw LintConfigurationError(path: path, line: 0, message: "the lint configuration is not valid UTF-8 text")
            }
            text = valid
        }
        let config = try LintConfiguration.parse(text, path: path)
        if let origin { loaded[path] = (origin, config) }
        return config
    }
}
