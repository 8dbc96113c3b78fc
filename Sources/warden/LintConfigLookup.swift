import WardenKernel
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where `warden lint` takes its configuration from: `.warden-lint.toml` found by walking
/// up from each policy's directory (stopping at a directory holding `.git`, or at `/`),
/// one file for all (`--config FILE`), or none (`--no-config`).
struct LintConfigLookup {
    enum Mode {
        case discover
        case file(String)
        case none
    }

    let mode: Mode
    /// Loaded configurations by file path (each file is read and parsed once).
    private var loaded: [String: LintConfiguration] = [:]
    private let cwd = HostFacts.currentDirectory()

    init(mode: Mode) { self.mode = mode }

    /// The configuration for the policy at `policyPath` (`-`: standard input, looked for
    /// from the current directory), or nil when there is none.
    mutating func configuration(forPolicy policyPath: String) throws(LintConfigurationError) -> LintConfiguration? {
        switch mode {
        case .none: return nil
        case .file(let path): return try load(absolute(path))
        case .discover:
            let start = policyPath == StandardInputPolicy.argument ? cwd : PolicyPaths.directory(of: absolute(policyPath))
            var dir = start.isEmpty ? "/" : start
            while true {
                let candidate = (dir == "/" ? "" : dir) + "/" + LintConfiguration.fileName
                if exists(candidate) { return try load(candidate) }
                if dir == "/" || exists(dir + "/.git") { return nil }
                dir = PolicyPaths.directory(of: dir)
                if dir.isEmpty { return nil }
            }
        }
    }

    /// `path` made absolute against the current directory, normalised.
    func absolute(_ path: String) -> String {
        PolicyPaths.normalize(path.hasPrefix("/") ? path : cwd + "/" + path)
    }

    private func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private mutating func load(_ path: String) throws(LintConfigurationError) -> LintConfiguration {
        if let config = loaded[path] { return config }
        let bytes: [UInt8]
        do {
            bytes = try BoundedFileReader.read(path, limit: LintConfiguration.maxBytes)
        } catch {
            throw LintConfigurationError(path: path, line: 0, message: "cannot read the lint configuration: \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LintConfigurationError(path: path, line: 0, message: "the lint configuration is not valid UTF-8 text")
        }
        let config = try LintConfiguration.parse(text, path: path)
        loaded[path] = config
        return config
    }
}
